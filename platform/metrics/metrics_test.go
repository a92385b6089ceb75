package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/platform/tracing"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestHTTPRoutes checks that a request is counted by the pattern it
// matched, never by its path, which may carry a case's name or a sign-in
// link's secret; and that middleware between the counter and the mux (which
// copies the request to add to its context) does not lose the pattern.
func TestHTTPRoutes(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{group}/sign-in/{secret}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /{group}/concern", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusSeeOther) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	copying := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), struct{}{}, 1)))
		})
	}
	handler := metrics.NewHTTP(reg).Middleware(copying(tracing.Patterns(mux)))

	for _, tc := range []struct{ method, path string }{
		{"GET", "/riverside/sign-in/s3cr3t-link-value"},
		{"POST", "/riverside/concern"},
		{"GET", "/no/such/page"},
		{"BREW", "/riverside/concern"},
	} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.path, nil))
	}

	want := `
# HELP disputes_http_requests_total HTTP requests answered, by route pattern, method and status code.
# TYPE disputes_http_requests_total counter
disputes_http_requests_total{code="200",method="GET",route="/{group}/sign-in/{secret}"} 1
disputes_http_requests_total{code="303",method="POST",route="/{group}/concern"} 1
disputes_http_requests_total{code="404",method="GET",route="unmatched"} 1
disputes_http_requests_total{code="404",method="OTHER",route="unmatched"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "disputes_http_requests_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "disputes_http_request_duration_seconds"); n != 4 {
		t.Errorf("duration series: got %d, want 4", n)
	}
}

// TestDatabaseGauges checks that gauges read at scrape carry what the read
// gave, and that a failed read fails the scrape of those gauges rather than
// reporting zeros that look healthy.
func TestDatabaseGauges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		read    func(context.Context) ([][]metrics.Sample, error)
		want    string
		wantErr bool
	}{
		{
			name: "values",
			read: func(context.Context) ([][]metrics.Sample, error) {
				return [][]metrics.Sample{{{Labels: []string{"pending"}, Value: 3}, {Labels: []string{"dead"}, Value: 1}}, {{Value: 42}}}, nil
			},
			want: `
# HELP disputes_things Things by state.
# TYPE disputes_things gauge
disputes_things{state="dead"} 1
disputes_things{state="pending"} 3
# HELP disputes_oldest_seconds Age of the oldest thing.
# TYPE disputes_oldest_seconds gauge
disputes_oldest_seconds 42
`,
		},
		{
			name:    "read fails",
			read:    func(context.Context) ([][]metrics.Sample, error) { return nil, errors.New("database down") },
			wantErr: true,
		},
		{
			name:    "wrong shape",
			read:    func(context.Context) ([][]metrics.Sample, error) { return [][]metrics.Sample{{}}, nil },
			wantErr: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			reg.MustRegister(metrics.NewDatabaseGauges(tc.read,
				metrics.Gauge{Name: "things", Help: "Things by state.", Labels: []string{"state"}},
				metrics.Gauge{Name: "oldest_seconds", Help: "Age of the oldest thing."}))
			err := testutil.GatherAndCompare(reg, strings.NewReader(tc.want))
			if (err != nil) != tc.wantErr {
				t.Fatalf("gather: %v, want an error: %v", err, tc.wantErr)
			}
		})
	}
}

// TestServe checks the admin port: /metrics answers in Prometheus's text
// format, with the Go collectors, and nothing else is served there.
func TestServe(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.Ready(func(context.Context) bool { return true }))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.ServeListener(ctx, lis, reg, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	body := string(b)
	for _, want := range []string{"disputes_ready 1", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	resp, err = http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /: %s, want 404", resp.Status)
	}
}

// TestServeOff checks that ADMIN_ADDR=off serves nothing and returns when
// the process stops.
func TestServeOff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := metrics.Serve(ctx, metrics.Off, metrics.NewRegistry(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("Serve(off): %v", err)
	}
}
