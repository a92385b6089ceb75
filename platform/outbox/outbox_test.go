package outbox_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var noMigrations = fstest.MapFS{"001_empty.sql": {Data: []byte("CREATE TABLE things (id text PRIMARY KEY);")}}

func setup(t testing.TB) (*pgxpool.Pool, jetstream.JetStream, events.Namespace) {
	t.Helper()
	ctx := context.Background()
	pool, err := postgres.Open(ctx, testenv.Database(t), "svc", noMigrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	nc, js, err := events.Connect(testenv.NATS(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ns := testenv.Namespace(t)
	if err := events.EnsureStream(ctx, js, ns, 1); err != nil {
		t.Fatal(err)
	}
	return pool, js, ns
}

func registered(t testing.TB, ns events.Namespace, concern string) events.Event {
	t.Helper()
	meta := events.NewMetadata("groups/g1", "test", time.Now())
	ev, err := ns.Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{Metadata: meta, Concern: concern})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// runRelay runs a relay until the returned stop is called.
func runRelay(t testing.TB, pool *pgxpool.Pool, js jetstream.JetStream) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r := &outbox.Relay{Pool: pool, JetStream: js, Schema: "svc", Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), PollInterval: 50 * time.Millisecond}
	go func() { _ = r.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func streamCount(t *testing.T, js jetstream.JetStream, ns events.Namespace) uint64 {
	s, err := js.Stream(context.Background(), ns.Stream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestRelayPublishesCommittedEventsOnly(t *testing.T) {
	t.Parallel()
	pool, js, ns := setup(t)
	ctx := context.Background()
	committed := registered(t, ns, "groups/g1/concerns/a")
	rolledBack := registered(t, ns, "groups/g1/concerns/b")

	if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO things VALUES ('a')`); err != nil {
			return err
		}
		return outbox.Add(ctx, tx, committed)
	}); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Add(ctx, tx, rolledBack); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	runRelay(t, pool, js)
	testenv.Eventually(t, 10*time.Second, "the committed event on the stream and the outbox empty", func() bool {
		n, err := outbox.Pending(ctx, pool)
		return err == nil && n == 0 && streamCount(t, js, ns) == 1
	})
	s, _ := js.Stream(ctx, ns.Stream())
	msg, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Nats-Msg-Id") != committed.ID || msg.Header.Get(events.TypeHeader) != committed.Type || msg.Subject != ns.Subject("groups/g1", "concern", "registered") {
		t.Errorf("published %s %v", msg.Subject, msg.Header)
	}
}

func TestRelaySurvivesRestartAndNATSDeduplicates(t *testing.T) {
	t.Parallel()
	pool, js, ns := setup(t)
	ctx := context.Background()
	var ids []string
	for i := range 30 {
		ev := registered(t, ns, "groups/g1/concerns/c"+string(rune('a'+i%26)))
		ids = append(ids, ev.ID)
		if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error { return outbox.Add(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}
	}
	// A first relay stops part-way; a second one takes over.
	stop := runRelay(t, pool, js)
	testenv.Eventually(t, 10*time.Second, "some events published", func() bool { return streamCount(t, js, ns) > 0 })
	stop()
	// Simulate a crash between JetStream's ack and the delete: put a
	// published event back in the outbox.
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, subject, event_type, payload) SELECT $1, $2, 'x', '\x00' WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE event_id = $1)`,
		ids[0], ns.Subject("groups/g1", "concern", "registered")); err != nil {
		t.Fatal(err)
	}
	runRelay(t, pool, js)
	testenv.Eventually(t, 10*time.Second, "all 30 events published exactly once", func() bool {
		n, err := outbox.Pending(ctx, pool)
		return err == nil && n == 0 && streamCount(t, js, ns) == 30
	})
}
