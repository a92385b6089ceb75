package dispatch

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRetryCeiling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		policy   Retry
		attempts int
		want     time.Duration
	}{
		{"first failure waits up to the base", Retry{}, 1, 2 * time.Second},
		{"doubles", Retry{}, 2, 4 * time.Second},
		{"keeps doubling", Retry{}, 5, 32 * time.Second},
		{"stops at ten minutes", Retry{}, 9, 8*time.Minute + 32*time.Second},
		{"capped", Retry{}, 10, 10 * time.Minute},
		{"capped far out without overflow", Retry{}, 1000, 10 * time.Minute},
		{"custom base and cap", Retry{Base: 10 * time.Millisecond, Max: 35 * time.Millisecond}, 3, 35 * time.Millisecond},
		{"zero attempts is treated as the first", Retry{}, 0, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.policy.Ceiling(tt.attempts); got != tt.want {
				t.Errorf("Ceiling(%d) = %v; want %v", tt.attempts, got, tt.want)
			}
		})
	}
}

func TestRetryDelayIsFullJitter(t *testing.T) {
	t.Parallel()
	var r Retry
	tests := []struct {
		jitter float64
		want   time.Duration
	}{
		{0, 0},
		{0.5, 4 * time.Second},
		{0.25, 2 * time.Second},
		{-1, 0},              // out of range is clamped
		{2, 8 * time.Second}, // out of range is clamped
		{0.999, 7992 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := r.Delay(3, tt.jitter); got != tt.want {
			t.Errorf("Delay(3, %v) = %v; want %v", tt.jitter, got, tt.want)
		}
	}
}

func TestDeliveryStateMachine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	policy := Retry{MaxAttempts: 3}
	// claimed is a delivery at its first attempt: counted when claimed.
	claimed := Delivery{ID: "d", State: Pending}.Claimed(now, time.Minute)
	at := func(attempts, failures int) Delivery {
		return Delivery{State: Pending, Attempts: attempts, Failures: failures, LastError: "x"}.Claimed(now, time.Minute)
	}
	tests := []struct {
		name          string
		got           Delivery
		wantState     State
		wantAttempts  int
		wantFailures  int
		wantNext      time.Time
		wantLastError string
	}{
		{"claimed: counted, leased", claimed, Pending, 1, 0, now.Add(time.Minute), ""},
		{"sent", claimed.Delivered(now), Sent, 1, 0, now.Add(time.Minute), ""},
		{"sent after failures clears the reason", at(2, 2).Delivered(now), Sent, 3, 2, now.Add(time.Minute), ""},
		{"unknown failure counts and waits", claimed.Failed(now, "timeout", Unknown, policy, 0.5), Pending, 1, 1, now.Add(time.Second), "timeout"},
		{"second unknown failure waits longer", at(1, 1).Failed(now, "timeout", Unknown, policy, 0.5), Pending, 2, 2, now.Add(2 * time.Second), "timeout"},
		{"last counted failure used up", at(2, 2).Failed(now, "timeout", Unknown, policy, 0.5), Dead, 3, 3, now.Add(time.Minute), "timeout"},
		{"transient failures are not counted", at(40, 2).Failed(now, "connection refused", Transient, policy, 0.5), Pending, 41, 2,
			now.Add(2250 * time.Millisecond), "connection refused"},
		{"transient wait is capped", at(1000, 0).Failed(now, "connection refused", Transient, policy, 1), Pending, 1001, 0,
			now.Add(DefaultTransientDelay), "connection refused"},
		{"transient wait is at least half the cap", claimed.Failed(now, "connection refused", Transient, policy, 0), Pending, 1, 0,
			now.Add(DefaultTransientDelay / 2), "connection refused"},
		{"permanent failure", claimed.Failed(now, "no address", Permanent, policy, 0.5), Dead, 1, 0, now.Add(time.Minute), "no address"},
		{"default limit is eight", at(20, 7).Failed(now, "x", Unknown, Retry{}, 0), Dead, 21, 8, now.Add(time.Minute), "x"},
		{"retried: counted failures start again, attempts stay", at(20, 7).Failed(now, "x", Unknown, Retry{}, 0).Retried(now), Pending, 21, 0, now, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got.State != tt.wantState || tt.got.Attempts != tt.wantAttempts || tt.got.Failures != tt.wantFailures ||
				!tt.got.NextAttemptAt.Equal(tt.wantNext) || tt.got.LastError != tt.wantLastError {
				t.Errorf("got state %v, attempts %d, failures %d, next %v, error %q; want %v, %d, %d, %v, %q",
					tt.got.State, tt.got.Attempts, tt.got.Failures, tt.got.NextAttemptAt, tt.got.LastError,
					tt.wantState, tt.wantAttempts, tt.wantFailures, tt.wantNext, tt.wantLastError)
			}
		})
	}
	if d := claimed.Delivered(now); !d.SendTime.Equal(now) || !d.AttemptTime.Equal(now) {
		t.Errorf("Delivered send time %v, attempt time %v", d.SendTime, d.AttemptTime)
	}
	long := string(make([]byte, 2000))
	if d := claimed.Failed(now, long, Unknown, policy, 0); len(d.LastError) != maxErrorLen {
		t.Errorf("stored reason has %d bytes; want it cut to %d", len(d.LastError), maxErrorLen)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	base := errors.New("directory: get member: rpc error: code = Unavailable")
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"unreachable", Unreachable(base), Transient},
		{"unreachable, wrapped", fmt.Errorf("look up: %w", Unreachable(base)), Transient},
		{"the attempt's deadline", fmt.Errorf("get member: %w", context.DeadlineExceeded), Transient},
		{"cancelled (shutting down)", context.Canceled, Transient},
		{"refused", Refused(errors.New("550 no such user")), Permanent},
		{"a peer's refusal", errors.Join(errors.New("peer x: NotFound"), ErrNoticeRefused), Permanent},
		{"anything else", errors.New("rpc error: code = Internal"), Unknown},
		{"not found is decided by the caller", ErrNotFound, Unknown},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("%s: Classify(%v) = %v; want %v", tt.name, tt.err, got, tt.want)
		}
	}
	// Marking keeps the text and the chain.
	if m := Unreachable(base); m.Error() != base.Error() || !errors.Is(m, base) {
		t.Errorf("Unreachable changed %q into %q", base, m)
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	t.Parallel()
	if got := truncate("ab€", 3); got != "ab" {
		t.Errorf("truncate cut a rune: %q", got)
	}
}
