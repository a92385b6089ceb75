package events_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var migrations = fstest.MapFS{"001_effects.sql": {Data: []byte("CREATE TABLE effects (concern text NOT NULL);")}}

func TestConsumerAppliesEachEventOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, err := postgres.Open(ctx, testenv.Database(t), "svc", migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	nc, js, err := events.Connect(testenv.NATS(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ns := testenv.Namespace(t)
	if err := events.EnsureStream(ctx, js, ns, 1); err != nil {
		t.Fatal(err)
	}

	var failOnce atomic.Bool
	failOnce.Store(true)
	var handled atomic.Int32
	c := &events.Consumer{
		Name: "svc", Namespace: ns, Subjects: []string{ns.Filter("concern", "registered")},
		Pool: pool, JetStream: js, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		Handle: func(ctx context.Context, msg events.Message) (events.Effect, error) {
			var ev eventsv1.ConcernRegistered
			if err := msg.Decode(&ev); err != nil {
				return nil, err
			}
			handled.Add(1)
			if ev.GetConcern() == "groups/g1/concerns/flaky" && failOnce.CompareAndSwap(true, false) {
				return nil, errors.New("a passing failure")
			}
			if ev.GetConcern() == "groups/g1/concerns/nothing" {
				return nil, nil
			}
			return func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO effects VALUES ($1)`, ev.GetConcern())
				return err
			}, nil
		},
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	publish := func(concern, id string) {
		t.Helper()
		meta := events.NewMetadata("groups/g1", "test", time.Now())
		meta.EventId = id
		ev, err := ns.Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{Metadata: meta, Concern: concern})
		if err != nil {
			t.Fatal(err)
		}
		msg := &nats.Msg{Subject: ev.Subject, Data: ev.Payload, Header: nats.Header{}}
		msg.Header.Set(events.TypeHeader, ev.Type)
		msg.Header.Set("Nats-Msg-Id", ev.ID)
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	publish("groups/g1/concerns/a", "00000000-0000-4000-8000-000000000001")
	publish("groups/g1/concerns/flaky", "00000000-0000-4000-8000-000000000002")
	publish("groups/g1/concerns/b", "00000000-0000-4000-8000-000000000003")

	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM effects`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	testenv.Eventually(t, 30*time.Second, "three effects, the flaky one after a retry", func() bool { return count() == 3 })

	// An event that needs nothing is acknowledged without a transaction, so
	// without a row in applied_events.
	cons, err := js.Consumer(ctx, ns.Stream(), "svc")
	if err != nil {
		t.Fatal(err)
	}
	const nothing = "00000000-0000-4000-8000-000000000004"
	handledBefore := handled.Load()
	publish("groups/g1/concerns/nothing", nothing)
	testenv.Eventually(t, 10*time.Second, "the event that needs nothing acknowledged", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0 && handled.Load() > handledBefore
	})
	var recorded bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM applied_events WHERE event_id = $1)`, nothing).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded {
		t.Error("an event that needs nothing was recorded as applied")
	}

	// The same event again, as after a crash between the effect's commit and
	// the ack: JetStream's duplicate window is shortened so that it stores
	// the repeat, and the consumer must acknowledge it without a second effect.
	before := handled.Load()
	s, err := js.Stream(ctx, ns.Stream())
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.Duplicates = 100 * time.Millisecond
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the repeated event to be stored", func() bool {
		meta := events.NewMetadata("groups/g1", "test", time.Now())
		meta.EventId = "00000000-0000-4000-8000-000000000001"
		ev, err := ns.Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{Metadata: meta, Concern: "groups/g1/concerns/a"})
		if err != nil {
			t.Fatal(err)
		}
		msg := &nats.Msg{Subject: ev.Subject, Data: ev.Payload, Header: nats.Header{}}
		msg.Header.Set(events.TypeHeader, ev.Type)
		msg.Header.Set("Nats-Msg-Id", ev.ID)
		ack, err := js.PublishMsg(ctx, msg)
		return err == nil && !ack.Duplicate
	})
	testenv.Eventually(t, 10*time.Second, "the repeated event acknowledged", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
	if n := count(); n != 3 {
		t.Errorf("effects = %d after a repeated event, want 3", n)
	}
	if handled.Load() != before {
		t.Errorf("the handler prepared an event that was already applied")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("consumer stopped with %v", err)
	}
}
