package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testclock"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/stack/launch"
	"google.golang.org/grpc"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system starts every binary against the test's own database, event
// namespace and mail server, and loads the demo group.
type system struct {
	*launch.System
	mail  *testenv.Mailpit
	creds []demo.Credential
	// logDir holds each process's log, <name>.log.
	logDir string
}

// systemOptions change how startSystemWith runs the system.
type systemOptions struct {
	// mutualTLS runs every process with mutual TLS between them, with
	// throwaway certificates.
	mutualTLS bool
	// clockFile, when set, runs casework on a clock the test moves with
	// testclock.Set(clockFile, offset): the binaries are built with -tags
	// testclock, and casework looks for due timers four times a second.
	clockFile string
	// binDir holds binaries already built (with the same clockFile
	// choice); empty builds them afresh.
	binDir string
	// ports are where the processes listen; free ports when zero.
	ports launch.Ports
	// settings are more environment variables, by process.
	settings map[string][]string
}

// freePorts returns five distinct free ports for one system.
func freePorts(t testing.TB) launch.Ports {
	t.Helper()
	ports, err := launch.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	return launch.Ports{Directory: ports[0], Intake: ports[1], Casework: ports[2], Notification: ports[3], Gateway: ports[4]}
}

// buildSystem builds the binaries into a folder of the test's own, with
// -tags testclock when the test moves casework's clock.
func buildSystem(t testing.TB, testClock bool) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var tags []string
	if testClock {
		tags = []string{"testclock"}
	}
	bin := t.TempDir()
	if err := launch.BuildTagged(ctx, root, bin, tags); err != nil {
		t.Fatal(err)
	}
	return bin
}

func startSystem(t testing.TB) *system {
	t.Helper()
	return startSystemWith(t, systemOptions{})
}

func startSystemWith(t testing.TB, opts systemOptions) *system {
	t.Helper()
	bin := opts.binDir
	if bin == "" {
		bin = buildSystem(t, opts.clockFile != "")
	}
	ports := opts.ports
	if ports == (launch.Ports{}) {
		ports = freePorts(t)
	}
	settings := map[string][]string{}
	for name, env := range opts.settings {
		settings[name] = append(settings[name], env...)
	}
	if opts.clockFile != "" {
		settings["casework"] = append(settings["casework"], testclock.FileEnv+"="+opts.clockFile, "TIMER_INTERVAL=250ms")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	mail := testenv.StartMailpit(t)
	logDir := t.TempDir()
	sys := &launch.System{
		BinDir:         bin,
		DatabaseURL:    testenv.Database(t),
		NATSURL:        testenv.NATS(t),
		EventNamespace: string(testenv.Namespace(t)),
		SMTPAddr:       mail.SMTPAddr,
		SendRate:       40,
		Ports:          ports,
		Settings:       settings,
		LogLevel:       "info",
		Logs: func(name string) io.Writer {
			f, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		},
	}
	if opts.mutualTLS {
		sys.TLSDir = t.TempDir()
	}
	sys.NewSecrets()
	t.Cleanup(func() {
		if err := sys.StopAll(15 * time.Second); err != nil {
			t.Errorf("graceful stop: %v", err)
		}
		if t.Failed() {
			for _, name := range append(append([]string(nil), launch.Services...), "gateway") {
				b, _ := os.ReadFile(filepath.Join(logDir, name+".log"))
				t.Logf("--- %s log (tail) ---\n%s", name, tail(string(b), 4000))
			}
		}
	})
	if err := sys.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	s := &system{System: sys, mail: mail, logDir: logDir}
	conn := s.dial(t, "directory")
	creds, err := demo.Load(ctx, directoryv1.NewDirectoryServiceClient(conn), sys.OperatorToken)
	if err != nil {
		t.Fatal(err)
	}
	s.creds = creds
	return s
}

// dial connects to the named service over gRPC as the system's processes
// talk: with mutual TLS when it is on. The connection closes when the test
// ends.
func (s *system) dial(t testing.TB, name string) *grpc.ClientConn {
	t.Helper()
	creds, err := s.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(s.Addr(name), grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// call sends a JSON request to the REST API and decodes the JSON answer.
func (s *system) call(t *testing.T, method, path, token string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.GatewayURL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := contractClient.Do(req) // checks both ways against the OpenAPI document (openapi_test.go)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

func (s *system) token(id string) string {
	for _, c := range s.creds {
		if c.Member.ID == id {
			return c.Token
		}
	}
	return ""
}
