package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/jackc/pgx/v5"
)

// BenchmarkWriteAndRelay measures the path every state change takes: one
// transaction that writes an event to the outbox, and the relay publishing it
// to JetStream until the outbox is empty again. ns/op is per event.
func BenchmarkWriteAndRelay(b *testing.B) {
	pool, js, ns := setup(b)
	ctx := context.Background()
	runRelay(b, pool, js)
	b.ResetTimer()
	for range b.N {
		ev := registered(b, ns, "groups/g1/concerns/bench")
		if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error { return outbox.Add(ctx, tx, ev) }); err != nil {
			b.Fatal(err)
		}
	}
	testenv.Eventually(b, time.Minute, "the outbox to drain", func() bool {
		n, err := outbox.Pending(ctx, pool)
		return err == nil && n == 0
	})
}
