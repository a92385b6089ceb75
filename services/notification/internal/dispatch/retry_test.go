package dispatch

import (
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
	pending := Delivery{ID: "d", State: Pending, Attempts: 0, NextAttemptAt: now}
	tests := []struct {
		name          string
		got           Delivery
		wantState     State
		wantAttempts  int
		wantNext      time.Time
		wantLastError string
	}{
		{"sent", pending.Delivered(now), Sent, 1, now, ""},
		{"sent after failures clears the reason", Delivery{State: Pending, Attempts: 2, LastError: "x", NextAttemptAt: now}.Delivered(now), Sent, 3, now, ""},
		{"transient failure waits", pending.Failed(now, "connection refused", false, policy, 0.5), Pending, 1, now.Add(time.Second), "connection refused"},
		{"second failure waits longer", Delivery{State: Pending, Attempts: 1}.Failed(now, "timeout", false, policy, 0.5), Pending, 2, now.Add(2 * time.Second), "timeout"},
		{"last attempt used up", Delivery{State: Pending, Attempts: 2, NextAttemptAt: now}.Failed(now, "timeout", false, policy, 0.5), Dead, 3, now, "timeout"},
		{"permanent failure", pending.Failed(now, "no address", true, policy, 0.5), Dead, 1, now, "no address"},
		{"default limit is eight", Delivery{State: Pending, Attempts: 7, NextAttemptAt: now}.Failed(now, "x", false, Retry{}, 0), Dead, 8, now, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got.State != tt.wantState || tt.got.Attempts != tt.wantAttempts || !tt.got.NextAttemptAt.Equal(tt.wantNext) || tt.got.LastError != tt.wantLastError {
				t.Errorf("got state %v, attempts %d, next %v, error %q; want %v, %d, %v, %q",
					tt.got.State, tt.got.Attempts, tt.got.NextAttemptAt, tt.got.LastError,
					tt.wantState, tt.wantAttempts, tt.wantNext, tt.wantLastError)
			}
		})
	}
	if d := pending.Delivered(now); !d.SendTime.Equal(now) {
		t.Errorf("Delivered send time %v", d.SendTime)
	}
	long := string(make([]byte, 2000))
	if d := pending.Failed(now, long, false, policy, 0); len(d.LastError) != maxErrorLen {
		t.Errorf("stored reason has %d bytes; want it cut to %d", len(d.LastError), maxErrorLen)
	}
}

func TestTruncateKeepsRunes(t *testing.T) {
	t.Parallel()
	if got := truncate("ab€", 3); got != "ab" {
		t.Errorf("truncate cut a rune: %q", got)
	}
}
