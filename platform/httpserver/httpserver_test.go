package httpserver_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/httpserver"
	"github.com/ipnmediation/disputes/platform/testenv"
)

// TestServeDrains starts a request that takes a while, stops the server
// while it runs, and checks that the request is answered and Serve returns
// nil; then that a request slower than the drain is cut off and Serve still
// returns.
func TestServeDrains(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		drain    time.Duration
		answered bool
	}{
		{"a request within the drain is answered", 5 * time.Second, true},
		{"a request longer than the drain is closed", 50 * time.Millisecond, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			started, release := make(chan struct{}), make(chan struct{})
			server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				select {
				case <-release:
				case <-r.Context().Done():
				}
				_, _ = io.WriteString(w, "done")
			})}
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			returned := make(chan error, 1)
			go func() { returned <- httpserver.Serve(ctx, server, lis, tt.drain, slog.New(slog.DiscardHandler)) }()

			answered := make(chan bool, 1)
			go func() {
				resp, err := http.Get("http://" + lis.Addr().String())
				if err != nil {
					answered <- false
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				answered <- err == nil && string(b) == "done"
			}()
			<-started
			stop()
			if tt.answered {
				// Shutdown has begun: a new connection is refused, the one
				// in flight finishes once the handler returns.
				testenv.Eventually(t, 5*time.Second, "the listener to refuse new connections", func() bool {
					c, err := net.DialTimeout("tcp", lis.Addr().String(), 100*time.Millisecond)
					if err != nil {
						return true
					}
					c.Close()
					return false
				})
				close(release)
			}
			if err := <-returned; err != nil {
				t.Errorf("Serve = %v; want nil", err)
			}
			if got := <-answered; got != tt.answered {
				t.Errorf("answered = %v; want %v", got, tt.answered)
			}
			if !tt.answered {
				close(release)
			}
		})
	}
}
