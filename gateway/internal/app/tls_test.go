package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/grpcserver/devcerts"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"google.golang.org/grpc"
)

// TestMutualTLSToTheServices runs the gateway in front of services that
// require mutual TLS: with its certificate it reaches them, without it they
// refuse it.
func TestMutualTLSToTheServices(t *testing.T) {
	t.Parallel()
	files, err := devcerts.Write(t.TempDir(), "gateway", "directory", "intake", "casework", "notification")
	if err != nil {
		t.Fatal(err)
	}
	casework := &fakeCasework{recorder: &recorder{}, slowStarted: make(chan struct{}), release: make(chan struct{})}
	addrs := map[string]string{}
	for _, name := range []string{"directory", "intake", "casework", "notification"} {
		creds, err := grpcserver.ServerCredentials(files[name])
		if err != nil {
			t.Fatal(err)
		}
		var register func(*grpc.Server)
		if name == "casework" {
			register = func(srv *grpc.Server) { caseworkv1.RegisterCaseworkServiceServer(srv, casework) }
		}
		addrs[name] = startBackendWith(t, name, register, grpc.Creds(creds)).addr
	}
	start := func(t *testing.T, tls config.TLS) string {
		t.Helper()
		cfg := defaults(t)
		cfg.HTTPAddr = deadAddr(t)
		cfg.DirectoryAddr, cfg.IntakeAddr = addrs["directory"], addrs["intake"]
		cfg.CaseworkAddr, cfg.NotificationAddr = addrs["casework"], addrs["notification"]
		cfg.LogLevel = "error"
		cfg.TLS = tls
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Run(ctx, cfg) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
		url := "http://" + cfg.HTTPAddr
		testenv.Eventually(t, 10*time.Second, "gateway answers /healthz", func() bool {
			resp, err := http.Get(url + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		return url
	}

	tests := []struct {
		name       string
		tls        config.TLS
		wantReady  int
		wantCase   int
		wantReason string
	}{
		{"with the gateway's certificate", files["gateway"], http.StatusOK, http.StatusOK, ""},
		{"in plaintext", config.TLS{}, http.StatusServiceUnavailable, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := start(t, tt.tls)
			if tt.wantReady == http.StatusOK {
				// The connections come up lazily and back off.
				testenv.Eventually(t, 10*time.Second, "ready", func() bool {
					return do(t, "GET", url+"/readyz", nil, nil).status == http.StatusOK
				})
			}
			if resp := do(t, "GET", url+"/readyz", nil, nil); resp.status != tt.wantReady {
				t.Errorf("/readyz: %d, want %d: %s", resp.status, tt.wantReady, resp.body)
			}
			resp := do(t, "GET", url+"/v1/groups/g/cases/c1", map[string]string{"Authorization": "Bearer member-token-1"}, nil)
			if resp.status != tt.wantCase || !strings.Contains(string(resp.body), tt.wantReason) {
				t.Errorf("GetCase: %d %s, want %d %s", resp.status, resp.body, tt.wantCase, tt.wantReason)
			}
		})
	}
}

func TestPartialTLSSettingsStopTheStart(t *testing.T) {
	t.Parallel()
	cfg := defaults(t)
	cfg.HTTPAddr = deadAddr(t)
	cfg.TLS = config.TLS{CertFile: "gateway.pem"}
	err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "TLS_KEY_FILE, TLS_CA_FILE") {
		t.Errorf("Run = %v, want an error naming the missing settings", err)
	}
}
