package cli_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/grpcserver/devcerts"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc"
)

// startTLSFake serves the fake directory with mutual TLS from files, as a
// directory started with TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE does.
func startTLSFake(t *testing.T, files config.TLS) (*fakeDirectory, string) {
	t.Helper()
	creds, err := grpcserver.ServerCredentials(files)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeDirectory{}
	srv := grpc.NewServer(grpc.Creds(creds))
	directoryv1.RegisterDirectoryServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return fake, lis.Addr().String()
}

// tlsFlags are the command-line flags that select files.
func tlsFlags(files config.TLS) []string {
	return []string{"--tls-cert", files.CertFile, "--tls-key", files.KeyFile, "--tls-ca", files.CAFile}
}

// tlsEnv is the environment that selects files, with DIRECTORY_ADDR.
func tlsEnv(addr string, files config.TLS) map[string]string {
	return map[string]string{"DIRECTORY_ADDR": addr, "TLS_CERT_FILE": files.CertFile, "TLS_KEY_FILE": files.KeyFile, "TLS_CA_FILE": files.CAFile}
}

// TestMutualTLS runs disputesctl against a directory that requires mutual
// TLS, on throwaway certificates: the right ones work from flags or the
// environment, and every wrong combination fails with the status scripts
// expect and a message that names TLS, not gRPC's transport internals.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files, err := devcerts.Write(dir, "directory", "disputesctl")
	if err != nil {
		t.Fatal(err)
	}
	// A whole other deployment's CA and certificate.
	stranger, err := devcerts.Write(filepath.Join(dir, "stranger"), "disputesctl")
	if err != nil {
		t.Fatal(err)
	}
	fake, addr := startTLSFake(t, files["directory"])
	_, plainAddr := startFake(t)

	ctl := files["disputesctl"]
	// This deployment's CA, but a certificate another CA signed.
	foreignCert := config.TLS{CertFile: stranger["disputesctl"].CertFile, KeyFile: stranger["disputesctl"].KeyFile, CAFile: ctl.CAFile}
	notPEM := filepath.Join(dir, "not-pem.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	show := []string{"groups", "show", "riverside"}
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr []string // substrings
		wantSent   bool     // whether a request reached the TLS directory
	}{
		{name: "the right certificate from flags", env: map[string]string{"DIRECTORY_ADDR": addr},
			args: append(tlsFlags(ctl), show...), wantCode: 0, wantStdout: "name   Riverside", wantSent: true},
		{name: "the right certificate from the environment", env: tlsEnv(addr, ctl),
			args: show, wantCode: 0, wantStdout: "name   Riverside", wantSent: true},
		{name: "flags win over the environment", env: tlsEnv(addr, stranger["disputesctl"]),
			args: append(tlsFlags(ctl), show...), wantCode: 0, wantStdout: "name   Riverside", wantSent: true},
		{name: "one flag wins over its variable alone", env: tlsEnv(addr, config.TLS{CertFile: ctl.CertFile, KeyFile: ctl.KeyFile, CAFile: stranger["disputesctl"].CAFile}),
			args: append([]string{"--tls-ca", ctl.CAFile}, show...), wantCode: 0, wantStdout: "name   Riverside", wantSent: true},
		{name: "plaintext against a TLS directory", env: map[string]string{"DIRECTORY_ADDR": addr},
			args: show, wantCode: exitcode.Unavailable,
			wantStderr: []string{"cannot reach the directory service at " + addr, "if it requires mutual TLS, give --tls-cert, --tls-key and --tls-ca", "(UNAVAILABLE)"}},
		{name: "a certificate and CA of another deployment", env: tlsEnv(addr, stranger["disputesctl"]),
			args: show, wantCode: exitcode.Unavailable,
			wantStderr: []string{"the TLS handshake failed: its certificate is not signed by the CA in --tls-ca (UNAVAILABLE)"}},
		{name: "a certificate another CA signed", env: tlsEnv(addr, foreignCert),
			args: show, wantCode: exitcode.Unavailable,
			wantStderr: []string{"this client's certificate", "--tls-cert must be signed by the deployment's CA", "(UNAVAILABLE)"}},
		{name: "TLS against a plaintext directory", env: tlsEnv(plainAddr, ctl),
			args: show, wantCode: exitcode.Unavailable,
			wantStderr: []string{"the TLS handshake failed: it does not speak TLS", "(UNAVAILABLE)"}},
		{name: "a partial set of flags", env: map[string]string{"DIRECTORY_ADDR": addr},
			args: append([]string{"--tls-cert", ctl.CertFile}, show...), wantCode: exitcode.Usage,
			wantStderr: []string{"mutual TLS needs --tls-cert, --tls-key and --tls-ca together; missing --tls-key (TLS_KEY_FILE), --tls-ca (TLS_CA_FILE) (USAGE)"}},
		{name: "a partial environment", env: map[string]string{"DIRECTORY_ADDR": addr, "TLS_CA_FILE": ctl.CAFile},
			args: show, wantCode: exitcode.Usage,
			wantStderr: []string{"missing --tls-cert (TLS_CERT_FILE), --tls-key (TLS_KEY_FILE) (USAGE)"}},
		{name: "help still answers with a partial environment", env: map[string]string{"TLS_CA_FILE": ctl.CAFile},
			args: []string{"help"}, wantCode: 0, wantStdout: "--tls-cert, --tls-key and --tls-ca"},
		{name: "an empty variable counts as unset", env: map[string]string{"DIRECTORY_ADDR": addr, "TLS_CERT_FILE": "", "TLS_KEY_FILE": ctl.KeyFile, "TLS_CA_FILE": ctl.CAFile},
			args: show, wantCode: exitcode.Usage, wantStderr: []string{"missing --tls-cert (TLS_CERT_FILE) (USAGE)"}},
		{name: "a file that is not there", env: tlsEnv(addr, config.TLS{CertFile: missing, KeyFile: ctl.KeyFile, CAFile: ctl.CAFile}),
			args: show, wantCode: exitcode.Failure, wantStderr: []string{"mutual TLS", missing}},
		{name: "a CA file without a certificate", env: tlsEnv(addr, config.TLS{CertFile: ctl.CertFile, KeyFile: ctl.KeyFile, CAFile: notPEM}),
			args: show, wantCode: exitcode.Failure, wantStderr: []string{"mutual TLS", notPEM}},
		{name: "a key that is not a key", env: tlsEnv(addr, config.TLS{CertFile: ctl.CertFile, KeyFile: notPEM, CAFile: ctl.CAFile}),
			args: show, wantCode: exitcode.Failure, wantStderr: []string{"mutual TLS", notPEM}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Sequential: each case checks whether it reached the one fake.
			before := fake.count()
			got := run(t, tc.env, "", tc.args...)
			if got.code != tc.wantCode {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", got.code, tc.wantCode, got.stdout, got.stderr)
			}
			if !strings.Contains(got.stdout, tc.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantStdout, got.stdout)
			}
			for _, s := range tc.wantStderr {
				if !strings.Contains(got.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, got.stderr)
				}
			}
			// gRPC's wrapping of transport errors is not for operators.
			for _, internal := range []string{"desc =", "transport:", "server preface", "panic"} {
				if strings.Contains(got.stderr, internal) {
					t.Errorf("stderr shows %q:\n%s", internal, got.stderr)
				}
			}
			if tc.wantCode != 0 && got.stdout != "" {
				t.Errorf("a failed command wrote to stdout: %q", got.stdout)
			}
			if tc.wantCode == 0 && got.stderr != "" {
				t.Errorf("a successful command wrote to stderr: %q", got.stderr)
			}
			if sent := fake.count() > before; sent != tc.wantSent {
				t.Errorf("request reached the directory: %v, want %v", sent, tc.wantSent)
			}
		})
	}
}
