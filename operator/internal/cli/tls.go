package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"google.golang.org/grpc/credentials"
)

// tlsSetting is one of the three mutual-TLS settings, as the operator
// names it on the command line and in the environment.
type tlsSetting struct {
	flag, env string
	value     *string
}

func (g *globals) tlsSettings() []tlsSetting {
	return []tlsSetting{
		{"tls-cert", EnvTLSCertFile, &g.tlsCert},
		{"tls-key", EnvTLSKeyFile, &g.tlsKey},
		{"tls-ca", EnvTLSCAFile, &g.tlsCA},
	}
}

// tlsFiles returns the mutual-TLS files, all empty for plaintext. Whether
// the set is complete is config.TLS's rule, the one every service applies;
// only the words differ, since an operator sets flags, not just variables.
func (g *globals) tlsFiles() (config.TLS, error) {
	files := config.TLS{CertFile: g.tlsCert, KeyFile: g.tlsKey, CAFile: g.tlsCA}
	if _, err := files.Enabled(); err != nil {
		var missing []string
		for _, s := range g.tlsSettings() {
			if *s.value == "" {
				missing = append(missing, fmt.Sprintf("--%s (%s)", s.flag, s.env))
			}
		}
		return config.TLS{}, exitcode.Usagef("mutual TLS needs --tls-cert, --tls-key and --tls-ca together; missing %s", strings.Join(missing, ", "))
	}
	return files, nil
}

// transportCredentials are the credentials disputesctl dials with: mutual
// TLS from the files when they are set, plaintext when not, the same as the
// services use to call each other; a file that cannot be read or does not
// fit is an error here, before anything is sent.
func transportCredentials(files config.TLS) (*probe, error) {
	creds, err := grpcserver.ClientCredentials(files)
	if err != nil {
		return nil, err
	}
	on, _ := files.Enabled()
	return &probe{TransportCredentials: creds, state: &probeState{tls: on}}, nil
}

// probe passes the handshake through to the credentials it wraps and
// remembers how the connection began. gRPC reports a refused handshake only
// as an UNAVAILABLE status whose text nests transport internals; with what
// the probe saw, a failed call can tell the operator what went wrong in
// their terms (which certificate, which flag).
type probe struct {
	credentials.TransportCredentials
	state *probeState
}

// probeState is shared by a probe and its clones: gRPC clones credentials
// for each connection it makes.
type probeState struct {
	tls bool

	mu sync.Mutex
	// handshake is the error of the last handshake, nil when it succeeded.
	handshake error
	// early is the error that ended a connection before the server sent a
	// byte, reading or writing.
	early error
}

// ClientHandshake implements credentials.TransportCredentials.
func (p *probe) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := p.TransportCredentials.ClientHandshake(ctx, authority, raw)
	p.state.mu.Lock()
	p.state.handshake = err
	p.state.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return &probedConn{Conn: conn, state: p.state}, info, nil
}

// Clone implements credentials.TransportCredentials.
func (p *probe) Clone() credentials.TransportCredentials {
	return &probe{TransportCredentials: p.TransportCredentials.Clone(), state: p.state}
}

// probedConn notes an error that ends the connection before the server's
// first byte: that is where a TLS server that refused the client's
// certificate shows (TLS 1.3 tells the client only after its side of the
// handshake is done), and a TLS server that refused a plaintext caller.
type probedConn struct {
	net.Conn
	state *probeState

	mu       sync.Mutex
	answered bool
}

func (c *probedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.note(n > 0, err)
	return n, err
}

func (c *probedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.note(false, err)
	return n, err
}

func (c *probedConn) note(answered bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answered = c.answered || answered
	if err != nil && !c.answered {
		c.state.mu.Lock()
		c.state.early = err
		c.state.mu.Unlock()
	}
}

// cause says why the connection failed when the probe saw a reason in TLS;
// empty when it did not, and gRPC's own words stand.
func (s *probeState) cause() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.handshake != nil && s.tls:
		return handshakeCause(s.handshake)
	case s.early == nil:
		return ""
	case !s.tls:
		return "it closed the connection without answering; if it requires mutual TLS, give --tls-cert, --tls-key and --tls-ca (or " +
			EnvTLSCertFile + ", " + EnvTLSKeyFile + ", " + EnvTLSCAFile + ")"
	}
	var op *net.OpError
	if errors.As(s.early, &op) && op.Op == "remote error" {
		// A TLS alert from the server, for example "tls: unknown
		// certificate authority": the names of alerts are the protocol's,
		// not Go's internals.
		return fmt.Sprintf("the TLS handshake failed: it refused this client's certificate (%v); --tls-cert must be signed by the deployment's CA", op.Err)
	}
	// The alert can be lost when the server resets the connection.
	return "it closed the connection right after the TLS handshake; it may have refused this client's certificate (--tls-cert must be signed by the deployment's CA)"
}

// handshakeCause words a failed client-side TLS handshake.
func handshakeCause(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		header   tls.RecordHeaderError
		op       *net.OpError
	)
	switch {
	case errors.As(err, &unknown):
		return "the TLS handshake failed: its certificate is not signed by the CA in --tls-ca"
	case errors.As(err, &hostname):
		return fmt.Sprintf("the TLS handshake failed: its certificate is not valid for %s", hostname.Host)
	case errors.As(err, &invalid):
		return "the TLS handshake failed: its certificate is not valid (expired, not yet valid, or not a server certificate)"
	case errors.As(err, &header):
		return "the TLS handshake failed: it does not speak TLS; if it runs without mutual TLS, leave out --tls-cert, --tls-key and --tls-ca"
	case errors.As(err, &op) && op.Op == "remote error":
		return fmt.Sprintf("the TLS handshake failed: it refused the handshake (%v)", op.Err)
	case errors.Is(err, io.EOF):
		return "the TLS handshake failed: it closed the connection"
	}
	// crypto/tls's own words, without gRPC's wrapping around them.
	return fmt.Sprintf("the TLS handshake failed: %v", err)
}
