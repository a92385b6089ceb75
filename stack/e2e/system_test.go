package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch/launchtest"
	"google.golang.org/grpc"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system is the whole system started for a test (launchtest.Start):
// every binary against the test's own database, event namespace and mail
// server, with the demo group loaded.
type system struct {
	*launchtest.System
}

// systemOptions change how startSystemWith runs the system.
type systemOptions = launchtest.Options

func startSystem(t testing.TB) *system {
	t.Helper()
	return startSystemWith(t, systemOptions{})
}

func startSystemWith(t testing.TB, opts systemOptions) *system {
	t.Helper()
	return &system{System: launchtest.Start(t, opts)}
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
