package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLogRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		target     string
		status     int
		wantLevel  string
		wantLogged bool
	}{
		{name: "a call", method: "POST", target: "/v1/groups/g/concerns?pageToken=secret-query", status: 200, wantLevel: "INFO", wantLogged: true},
		{name: "a failure", method: "GET", target: "/v1/groups/g/cases/c1", status: 503, wantLevel: "ERROR", wantLogged: true},
		{name: "a probe, below info", method: "GET", target: "/readyz", status: 503, wantLogged: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
			h := logRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte("12345"))
			}), log)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(`{"description":"confidential words"}`))
			req.Header.Set("Authorization", "Bearer very-secret-token")
			h.ServeHTTP(httptest.NewRecorder(), req)

			if !tt.wantLogged {
				if out.Len() != 0 {
					t.Errorf("logged %s", out.String())
				}
				return
			}
			for _, secret := range []string{"very-secret-token", "confidential words", "secret-query"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("the log line holds %q: %s", secret, out.String())
				}
			}
			var line map[string]any
			if err := json.Unmarshal(out.Bytes(), &line); err != nil {
				t.Fatalf("not one JSON line: %v: %s", err, out.String())
			}
			path, _, _ := strings.Cut(tt.target, "?")
			if line["level"] != tt.wantLevel || line["method"] != tt.method || line["path"] != path ||
				line["status"] != float64(tt.status) || line["bytes"] != float64(5) || line["duration"] == nil {
				t.Errorf("log line %v", line)
			}
		})
	}
}
