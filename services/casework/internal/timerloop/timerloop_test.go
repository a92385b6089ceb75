package timerloop

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	t.Parallel()
	start := time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		results []error // what successive passes return
		wantLog []string
	}{
		{name: "passes that fire", results: []error{nil, nil, nil}, wantLog: []string{"case timers fired"}},
		{name: "a failed pass is logged and the loop goes on", results: []error{errors.New("database away"), nil, nil},
			wantLog: []string{"firing case timers failed", "database away"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu    sync.Mutex
				clock = start
			)
			now := func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				return clock
			}
			calls := make(chan time.Time)
			pass := 0
			fire := func(_ context.Context, at time.Time) (int, error) {
				err := tt.results[pass]
				pass++
				calls <- at
				return 1, err
			}
			var logs syncBuffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			ticks := make(chan time.Time)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { run(ctx, ticks, now, fire, log); close(done) }()

			// The first pass comes at once, without a tick.
			if at := <-calls; !at.Equal(start) {
				t.Errorf("first pass at %v; want %v", at, start)
			}
			for i := 1; i < len(tt.results); i++ {
				mu.Lock()
				clock = clock.Add(time.Hour)
				mu.Unlock()
				ticks <- time.Time{} // the tick's own time must not matter
				if at, want := <-calls, start.Add(time.Duration(i)*time.Hour); !at.Equal(want) {
					t.Errorf("pass %d at %v; want the injected clock's %v", i, at, want)
				}
			}
			cancel()
			<-done
			for _, w := range tt.wantLog {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logs.String())
				}
			}
		})
	}
}

func TestRunRefusesAnIntervalOfZero(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), 0, time.Now, func(context.Context, time.Time) (int, error) { return 0, nil }, slog.Default())
	if err == nil {
		t.Fatal("Run accepted an interval of zero")
	}
}

// syncBuffer is a bytes.Buffer the loop's goroutine and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
