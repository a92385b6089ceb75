package grpcserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/ipnmediation/disputes/platform/config"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// ServerCredentials returns the transport credentials of a gRPC server:
// mutual TLS when files are configured (the server presents CertFile and
// requires a client certificate signed by CAFile), nil for plaintext when
// none is. The files are read now, so that a bad file stops the start, and
// read again on the first handshake after any of them changed, so that
// certificates can be renewed without a restart.
func ServerCredentials(files config.TLS) (credentials.TransportCredentials, error) {
	r, err := newReloader(files)
	if err != nil || r == nil {
		return nil, err
	}
	return &reloadingCreds{r: r, server: true}, nil
}

// ClientCredentials returns the transport credentials for dialing another
// service: mutual TLS when files are configured (the client presents
// CertFile and verifies the server against CAFile), insecure (plaintext)
// when none is. Files are read as for ServerCredentials.
func ClientCredentials(files config.TLS) (credentials.TransportCredentials, error) {
	r, err := newReloader(files)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return insecure.NewCredentials(), nil
	}
	return &reloadingCreds{r: r}, nil
}

// material is what one reading of the files gives.
type material struct {
	cert tls.Certificate
	pool *x509.CertPool
}

// stamp tells whether a file changed since it was last read.
type stamp struct {
	modTime int64
	size    int64
}

// reloader keeps the material of the files, read again when they change.
// Kubernetes replaces a mounted Secret's files by swapping a symlink, which
// changes what os.Stat reports.
type reloader struct {
	files config.TLS

	mu     sync.Mutex
	stamps [3]stamp
	cur    *material
}

// newReloader returns nil when mutual TLS is off.
func newReloader(files config.TLS) (*reloader, error) {
	on, err := files.Enabled()
	if err != nil || !on {
		return nil, err
	}
	r := &reloader{files: files}
	if _, err := r.get(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *reloader) get() (*material, error) {
	var stamps [3]stamp
	for i, name := range []string{r.files.CertFile, r.files.KeyFile, r.files.CAFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return nil, fmt.Errorf("mutual TLS: %w", err)
		}
		stamps[i] = stamp{modTime: fi.ModTime().UnixNano(), size: fi.Size()}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil && stamps == r.stamps {
		return r.cur, nil
	}
	m, err := load(r.files)
	if err != nil {
		return nil, err
	}
	r.cur, r.stamps = m, stamps
	return m, nil
}

func load(files config.TLS) (*material, error) {
	cert, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("mutual TLS: certificate %s with key %s: %w", files.CertFile, files.KeyFile, err)
	}
	caPEM, err := os.ReadFile(files.CAFile)
	if err != nil {
		return nil, fmt.Errorf("mutual TLS: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("mutual TLS: %s holds no PEM certificate", files.CAFile)
	}
	return &material{cert: cert, pool: pool}, nil
}

// reloadingCreds builds a fresh tls.Config from the current material for
// every handshake and leaves the handshake itself to gRPC's own TLS
// credentials, so ALPN and the AuthInfo are exactly gRPC's.
type reloadingCreds struct {
	r          *reloader
	server     bool
	serverName string
}

func (c *reloadingCreds) config() (*tls.Config, error) {
	m, err := c.r.get()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{m.cert},
	}
	if c.server {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = m.pool
	} else {
		cfg.RootCAs = m.pool
		cfg.ServerName = c.serverName
	}
	return cfg, nil
}

// ClientHandshake implements credentials.TransportCredentials.
func (c *reloadingCreds) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if c.server {
		return nil, nil, errors.New("mutual TLS: server credentials used to dial")
	}
	cfg, err := c.config()
	if err != nil {
		return nil, nil, err
	}
	return credentials.NewTLS(cfg).ClientHandshake(ctx, authority, conn)
}

// ServerHandshake implements credentials.TransportCredentials.
func (c *reloadingCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if !c.server {
		return nil, nil, errors.New("mutual TLS: client credentials used to serve")
	}
	cfg, err := c.config()
	if err != nil {
		return nil, nil, err
	}
	return credentials.NewTLS(cfg).ServerHandshake(conn)
}

// Info implements credentials.TransportCredentials, as gRPC's TLS does.
func (c *reloadingCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls", SecurityVersion: "1.3", ServerName: c.serverName}
}

// Clone implements credentials.TransportCredentials; clones share the
// reloader.
func (c *reloadingCreds) Clone() credentials.TransportCredentials {
	clone := *c
	return &clone
}

// OverrideServerName implements credentials.TransportCredentials.
func (c *reloadingCreds) OverrideServerName(name string) error {
	c.serverName = name
	return nil
}
