package accesscode

import (
	"context"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
)

func TestBoundedRefusesWhenFull(t *testing.T) {
	t.Parallel()
	code, err := NewAccessCode()
	if err != nil {
		t.Fatal(err)
	}
	b := NewBounded(1, time.Hour)
	hash, err := b.Hash(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	// Take the only slot, as a hash in progress would.
	if err := b.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		call func(context.Context) error
	}{
		{"hash", func(ctx context.Context) error { _, err := b.Hash(ctx, code); return err }},
		{"verify", func(ctx context.Context) error { _, err := b.Verify(ctx, code, hash); return err }},
	}
	for _, tt := range tests {
		err := tt.call(expired)
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.Unavailable || fe.Reason != "BUSY" || fe.RetryDelay <= 0 {
			t.Errorf("%s while full: %v; want UNAVAILABLE BUSY with a retry delay", tt.name, err)
		}
	}
	b.release()
	ok, err := b.Verify(expired, code, hash)
	if err != nil || !ok {
		t.Errorf("Verify with a free slot = %v, %v; want a match even with a done context, the slot being free at once", ok, err)
	}
}
