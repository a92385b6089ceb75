package grpcserver_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/grpcserver/devcerts"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// startTLS serves the stand-in intake with mutual TLS from files and
// returns its address.
func startTLS(t *testing.T, files config.TLS) string {
	t.Helper()
	creds, err := grpcserver.ServerCredentials(files)
	if err != nil {
		t.Fatal(err)
	}
	if creds == nil {
		t.Fatal("ServerCredentials gave plaintext for a complete configuration")
	}
	s := grpcserver.New(grpcserver.Options{
		Name:          "intake",
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authenticator: auth.Chain{Services: auth.Services{"casework": "right"}},
		ServerOptions: []grpc.ServerOption{grpc.Creds(creds)},
	})
	intakev1.RegisterIntakeServiceServer(s.Registrar(), &intake{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return lis.Addr().String()
}

// plainTLS is TLS that trusts ca (when not nil) and presents cert (when not
// nil), without the reloading of ClientCredentials.
func plainTLS(t *testing.T, caFile string, cert *tls.Certificate) credentials.TransportCredentials {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: x509.NewCertPool()}
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RootCAs.AppendCertsFromPEM(b)
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return credentials.NewTLS(cfg)
}

// check calls the health service over creds with the service credential,
// and returns the call's error.
func check(t *testing.T, addr string, creds credentials.TransportCredentials) error {
	t.Helper()
	conn, err := grpcserver.Dial(addr, "casework", "right", grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files, err := devcerts.Write(dir, "intake", "casework")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := devcerts.Write(filepath.Join(dir, "stranger"), "casework")
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLS(t, files["intake"])

	mustCreds := func(files config.TLS) credentials.TransportCredentials {
		c, err := grpcserver.ClientCredentials(files)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	strangerCert, err := tls.LoadX509KeyPair(stranger["casework"].CertFile, stranger["casework"].KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		creds  credentials.TransportCredentials
		accept bool
	}{
		{"a client with a certificate the CA signed", mustCreds(files["casework"]), true},
		{"a plaintext client", insecure.NewCredentials(), false},
		{"a TLS client without a certificate", plainTLS(t, files["casework"].CAFile, nil), false},
		{"a client whose certificate another CA signed", plainTLS(t, files["casework"].CAFile, &strangerCert), false},
		// The client checks the server too: one that trusts only another
		// CA does not talk to it.
		{"a client that trusts another CA", mustCreds(stranger["casework"]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := check(t, addr, tt.creds)
			if tt.accept && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.accept && status.Code(err) != codes.Unavailable {
				t.Fatalf("got %v, want the connection refused (UNAVAILABLE)", err)
			}
		})
	}

	t.Run("the service credential still counts", func(t *testing.T) {
		t.Parallel()
		conn, err := grpcserver.Dial(addr, "casework", "wrong", grpc.WithTransportCredentials(mustCreds(files["casework"])))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = intakev1.NewIntakeServiceClient(conn).GetConcern(context.Background(), &intakev1.GetConcernRequest{Name: "groups/g/concerns/c"})
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("a wrong secret over mutual TLS: %v, want UNAUTHENTICATED", err)
		}
	})
}

// TestMutualTLSReloads replaces every file with those of a new CA, as a
// certificate renewal would: the server takes them on the next handshake
// without a restart.
func TestMutualTLSReloads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files, err := devcerts.Write(dir, "intake", "casework")
	if err != nil {
		t.Fatal(err)
	}
	addr := startTLS(t, files["intake"])
	old := filepath.Join(t.TempDir(), "old")
	if err := os.CopyFS(old, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	oldFiles := config.TLS{CertFile: filepath.Join(old, "casework.pem"), KeyFile: filepath.Join(old, "casework-key.pem"), CAFile: filepath.Join(old, "ca.pem")}
	oldCreds, err := grpcserver.ClientCredentials(oldFiles)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(t, addr, oldCreds); err != nil {
		t.Fatalf("before renewal: %v", err)
	}

	if _, err := devcerts.Write(dir, "intake", "casework"); err != nil {
		t.Fatal(err)
	}
	// File times are coarse; a renewal comes long after the last reading.
	later := time.Now().Add(time.Minute)
	for _, f := range []string{"ca.pem", "intake.pem", "intake-key.pem"} {
		if err := os.Chtimes(filepath.Join(dir, f), later, later); err != nil {
			t.Fatal(err)
		}
	}
	newCreds, err := grpcserver.ClientCredentials(files["casework"])
	if err != nil {
		t.Fatal(err)
	}
	if err := check(t, addr, newCreds); err != nil {
		t.Errorf("with the renewed certificates: %v", err)
	}
	if err := check(t, addr, oldCreds); status.Code(err) != codes.Unavailable {
		t.Errorf("with the replaced CA's certificate: %v, want refused", err)
	}
}

func TestTLSSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files, err := devcerts.Write(dir, "intake")
	if err != nil {
		t.Fatal(err)
	}
	good := files["intake"]
	tests := []struct {
		name    string
		files   config.TLS
		wantErr string // empty: no error
		wantTLS bool
	}{
		{"none: plaintext", config.TLS{}, "", false},
		{"all three", good, "", true},
		{"no CA", config.TLS{CertFile: good.CertFile, KeyFile: good.KeyFile}, "TLS_CA_FILE", false},
		{"only a CA", config.TLS{CAFile: good.CAFile}, "TLS_CERT_FILE, TLS_KEY_FILE", false},
		{"a missing file", config.TLS{CertFile: good.CertFile, KeyFile: good.KeyFile, CAFile: filepath.Join(dir, "nope.pem")}, "nope.pem", false},
		{"a key that is not the certificate's", config.TLS{CertFile: good.CertFile, KeyFile: good.CAFile, CAFile: good.CAFile}, "certificate", false},
		{"a CA file without certificates", config.TLS{CertFile: good.CertFile, KeyFile: good.KeyFile, CAFile: good.KeyFile}, "no PEM certificate", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server, serr := grpcserver.ServerCredentials(tt.files)
			client, cerr := grpcserver.ClientCredentials(tt.files)
			for side, err := range map[string]error{"server": serr, "client": cerr} {
				switch {
				case tt.wantErr == "" && err != nil:
					t.Errorf("%s: %v", side, err)
				case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
					t.Errorf("%s: error %v, want one that names %q", side, err, tt.wantErr)
				}
			}
			if tt.wantErr != "" {
				return
			}
			if gotTLS := server != nil; gotTLS != tt.wantTLS {
				t.Errorf("server credentials %v, want TLS %v", server, tt.wantTLS)
			}
			if proto := client.Info().SecurityProtocol; (proto == "tls") != tt.wantTLS {
				t.Errorf("client security protocol %q, want TLS %v", proto, tt.wantTLS)
			}
		})
	}
}
