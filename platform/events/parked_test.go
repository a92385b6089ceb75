package events_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The causes a test's handler fails with, as a consuming service's would.
var (
	// A directory that is down, as a service's client adapter wraps it.
	errDirectoryDown = fmt.Errorf("directory GetGroup: %w", status.Error(codes.Unavailable, "connection refused"))
	// An event that cannot be applied as things stand, as casework says it.
	errUnknownProcedure = fault.New(fault.InvalidArgument, "EVENT_PROCEDURE_UNKNOWN", "the group has chosen a procedure this casework does not know")
	// Anything else: a bug, say.
	errBug = errors.New("a bug")
)

// park is a test's consumer of concern events, with a handler whose failure
// the test sets, and the effects it applied counted in the database.
type park struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	js   jetstream.JetStream
	ns   events.Namespace
	// cause is the error the handler fails with; nil lets it succeed.
	cause atomic.Pointer[error]
	// calls counts the handler's calls.
	calls atomic.Int32
}

// startPark opens the test's database and stream and returns the park;
// consumers are started with run.
func startPark(t *testing.T) *park {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool, err := postgres.Open(ctx, testenv.Database(t), "svc", migrations)
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
	return &park{t: t, ctx: ctx, pool: pool, js: js, ns: ns}
}

// failWith makes the handler fail with err from now on; nil lets it
// succeed.
func (p *park) failWith(err error) { p.cause.Store(&err) }

// consumer is a consumer of the park's events with the platform's
// classifier and tweak's settings, not started.
func (p *park) consumer(tweak func(*events.Consumer)) *events.Consumer {
	c := &events.Consumer{
		Name: "svc", Namespace: p.ns, Subjects: []string{p.ns.Filter("concern", "registered")},
		Pool: p.pool, JetStream: p.js, Transient: grpcserver.Transient,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1})),
		Handle: func(ctx context.Context, msg events.Message) (events.Effect, error) {
			var ev eventsv1.ConcernRegistered
			if err := msg.Decode(&ev); err != nil {
				return nil, err
			}
			p.calls.Add(1)
			if cause := p.cause.Load(); cause != nil && *cause != nil {
				return nil, *cause
			}
			return func(ctx context.Context, tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO effects VALUES ($1)`, ev.GetConcern())
				return err
			}, nil
		},
	}
	if tweak != nil {
		tweak(c)
	}
	return c
}

// run runs c until the test ends.
func (p *park) run(c *events.Consumer) {
	ctx, cancel := context.WithCancel(p.ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	p.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			p.t.Errorf("consumer stopped with %v", err)
		}
	})
}

// publish publishes a ConcernRegistered for concern with event id id.
func (p *park) publish(concern, id string) {
	p.t.Helper()
	meta := events.NewMetadata("groups/g1", "test", time.Now())
	meta.EventId = id
	ev, err := p.ns.Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{Metadata: meta, Concern: concern})
	if err != nil {
		p.t.Fatal(err)
	}
	msg := &nats.Msg{Subject: ev.Subject, Data: ev.Payload, Header: nats.Header{}}
	msg.Header.Set(events.TypeHeader, ev.Type)
	msg.Header.Set("Nats-Msg-Id", ev.ID)
	if _, err := p.js.PublishMsg(p.ctx, msg); err != nil {
		p.t.Fatal(err)
	}
}

// effects counts the effects applied for concern.
func (p *park) effects(concern string) int {
	p.t.Helper()
	var n int
	if err := p.pool.QueryRow(p.ctx, `SELECT count(*) FROM effects WHERE concern = $1`, concern).Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n
}

// parked returns the parked event id, if it is parked.
func (p *park) parked(id string) (events.Parked, bool) {
	p.t.Helper()
	all, _, err := events.ListParked(p.ctx, p.pool, nil, 200)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, e := range all {
		if e.EventID == id {
			return e, true
		}
	}
	return events.Parked{}, false
}

// settled reports whether the durable consumer has every message
// acknowledged: none pending, none waiting for an ack.
func (p *park) settled() bool {
	cons, err := p.js.Consumer(p.ctx, p.ns.Stream(), "svc")
	if err != nil {
		return false
	}
	info, err := cons.Info(p.ctx)
	return err == nil && info.NumAckPending == 0 && info.NumPending == 0
}

// TestTransientFailureIsNeverParked: an event whose handler fails because
// the directory is down is tried again and again, far more often than
// MaxAttempts, without being parked, and is applied within seconds of the
// directory's return.
func TestTransientFailureIsNeverParked(t *testing.T) {
	t.Parallel()
	p := startPark(t)
	p.failWith(errDirectoryDown)
	const id = "00000000-0000-4000-8000-0000000000a1"
	p.run(p.consumer(func(c *events.Consumer) {
		c.MaxAttempts = 3
		c.TransientDelayMax = time.Second
	}))
	p.publish("groups/g1/concerns/a", id)

	testenv.Eventually(t, 30*time.Second, "six failed attempts", func() bool { return p.calls.Load() >= 6 })
	if e, ok := p.parked(id); ok {
		t.Fatalf("a transient failure parked the event: %+v", e)
	}
	back := time.Now()
	p.failWith(nil)
	testenv.Eventually(t, 10*time.Second, "the event applied once the directory is back", func() bool { return p.effects("groups/g1/concerns/a") == 1 })
	if took := time.Since(back); took > 4*time.Second {
		t.Errorf("applied %s after the directory's return; want within about a second (TransientDelayMax)", took)
	}
	testenv.Eventually(t, 10*time.Second, "the event acknowledged", p.settled)
	var failures int
	if err := p.pool.QueryRow(p.ctx, `SELECT count(*) FROM event_failures`).Scan(&failures); err != nil {
		t.Fatal(err)
	}
	if failures != 0 {
		t.Errorf("%d rows of counted failures left; transient failures count nothing", failures)
	}
	if _, ok := p.parked(id); ok {
		t.Error("the event is parked")
	}
}

// TestPermanentFailureParksAtOnce: an event the handler refuses is parked
// after one attempt, and its message is acknowledged only once the park's
// row has committed: while parking fails, the message is not acknowledged
// and comes again, and nothing is lost.
func TestPermanentFailureParksAtOnce(t *testing.T) {
	t.Parallel()
	p := startPark(t)
	p.failWith(errUnknownProcedure)
	// Parking fails until the trigger goes.
	if _, err := p.pool.Exec(p.ctx, `
	    CREATE FUNCTION refuse_parking() RETURNS trigger LANGUAGE plpgsql AS $$
	    BEGIN RAISE EXCEPTION 'parking refused by the test'; END; $$;
	    CREATE TRIGGER refuse_parking BEFORE INSERT ON parked_events FOR EACH ROW EXECUTE FUNCTION refuse_parking();`); err != nil {
		t.Fatal(err)
	}
	const id = "00000000-0000-4000-8000-0000000000b1"
	p.run(p.consumer(func(c *events.Consumer) { c.TransientDelayMax = 200 * time.Millisecond }))
	p.publish("groups/g1/concerns/b", id)

	testenv.Eventually(t, 30*time.Second, "the event to come again while it cannot be parked", func() bool { return p.calls.Load() >= 3 })
	if p.settled() {
		t.Fatal("the message was acknowledged although its park did not commit")
	}
	if _, err := p.pool.Exec(p.ctx, `DROP TRIGGER refuse_parking ON parked_events`); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the event parked", func() bool { _, ok := p.parked(id); return ok })
	testenv.Eventually(t, 10*time.Second, "the parked event acknowledged", p.settled)
	e, _ := p.parked(id)
	if e.Consumer != "svc" || e.Type != "ipn.disputes.events.v1.ConcernRegistered" || e.Subject != p.ns.Subject("groups/g1", "concern", "registered") ||
		e.Reason != errUnknownProcedure.Error() || e.Attempts < 1 || e.Retries != 0 || e.NextRetryAt.Before(e.ParkedAt) {
		t.Errorf("parked as %+v", e)
	}

	// A permanent failure parks at its first attempt.
	calls := p.calls.Load()
	const id2 = "00000000-0000-4000-8000-0000000000b2"
	p.publish("groups/g1/concerns/b2", id2)
	testenv.Eventually(t, 10*time.Second, "the second event parked", func() bool { _, ok := p.parked(id2); return ok })
	if e, _ := p.parked(id2); e.Attempts != 1 || p.calls.Load() != calls+1 {
		t.Errorf("parked after %d attempts and %d handler calls, want 1", e.Attempts, p.calls.Load()-calls)
	}
	testenv.Eventually(t, 10*time.Second, "the second event acknowledged", p.settled)
	if n := p.effects("groups/g1/concerns/b") + p.effects("groups/g1/concerns/b2"); n != 0 {
		t.Errorf("%d effects of parked events", n)
	}
}

// TestMaxAttemptsParks: an event that keeps failing for another reason is
// tried MaxAttempts times, then parked.
func TestMaxAttemptsParks(t *testing.T) {
	t.Parallel()
	p := startPark(t)
	p.failWith(errBug)
	const id = "00000000-0000-4000-8000-0000000000c1"
	p.run(p.consumer(func(c *events.Consumer) { c.MaxAttempts = 3 }))
	p.publish("groups/g1/concerns/c", id)
	testenv.Eventually(t, 30*time.Second, "the event parked", func() bool { _, ok := p.parked(id); return ok })
	if e, _ := p.parked(id); e.Attempts != 3 || p.calls.Load() != 3 || e.Reason != "a bug" {
		t.Errorf("parked as %+v after %d calls; want after 3 attempts", e, p.calls.Load())
	}
	testenv.Eventually(t, 10*time.Second, "the parked event acknowledged", p.settled)
	var failures int
	if err := p.pool.QueryRow(p.ctx, `SELECT count(*) FROM event_failures`).Scan(&failures); err != nil {
		t.Fatal(err)
	}
	if failures != 0 {
		t.Errorf("%d rows of counted failures left after parking", failures)
	}
}

// TestParkedEventAppliedOnItsOwn: a parked event is tried again with
// backoff, stays parked while its cause lasts, and is applied once the
// cause is fixed, exactly once although two replicas retry side by side.
func TestParkedEventAppliedOnItsOwn(t *testing.T) {
	t.Parallel()
	p := startPark(t)
	p.failWith(errUnknownProcedure)
	fast := func(c *events.Consumer) {
		c.ParkedRetryFirst, c.ParkedRetryMax, c.ParkedPoll = 100*time.Millisecond, 300*time.Millisecond, 20*time.Millisecond
	}
	p.run(p.consumer(fast))
	p.run(p.consumer(fast))
	ids := []string{"00000000-0000-4000-8000-0000000000d1", "00000000-0000-4000-8000-0000000000d2", "00000000-0000-4000-8000-0000000000d3"}
	for i, id := range ids {
		p.publish(fmt.Sprintf("groups/g1/concerns/d%d", i), id)
	}
	testenv.Eventually(t, 30*time.Second, "every event retried twice while its cause lasts", func() bool {
		for _, id := range ids {
			if e, ok := p.parked(id); !ok || e.Retries < 2 {
				return false
			}
		}
		return true
	})
	p.failWith(nil)
	testenv.Eventually(t, 30*time.Second, "every event applied and unparked", func() bool {
		for i, id := range ids {
			if _, ok := p.parked(id); ok || p.effects(fmt.Sprintf("groups/g1/concerns/d%d", i)) == 0 {
				return false
			}
		}
		return true
	})
	// With every message acknowledged and no row left in the park,
	// nothing can apply an event again: count the effects then.
	testenv.Eventually(t, 10*time.Second, "every message acknowledged", p.settled)
	for i := range ids {
		if n := p.effects(fmt.Sprintf("groups/g1/concerns/d%d", i)); n != 1 {
			t.Errorf("event %d applied %d times, want once", i, n)
		}
	}
}

// TestOperatorRetry: the operator's retry applies a parked event at once
// once its cause is fixed, says why it stays parked while it is not, and
// answers applied, without a second effect, when asked again.
func TestOperatorRetry(t *testing.T) {
	t.Parallel()
	p := startPark(t)
	p.failWith(errUnknownProcedure)
	c := p.consumer(func(c *events.Consumer) { c.ParkedRetryFirst, c.ParkedRetryMax = time.Hour, 10*time.Hour })
	p.run(c)
	const id = "00000000-0000-4000-8000-0000000000e1"
	p.publish("groups/g1/concerns/e", id)
	testenv.Eventually(t, 10*time.Second, "the event parked", func() bool { _, ok := p.parked(id); return ok })
	consumers := []*events.Consumer{c}

	r, err := events.RetryParked(p.ctx, consumers, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Applied || r.Parked == nil || r.Parked.Retries != 1 || r.Parked.Reason != errUnknownProcedure.Error() ||
		time.Until(r.Parked.NextRetryAt) < 119*time.Minute {
		t.Errorf("a retry while the cause lasts: %+v %+v; want still parked, one retry, due in two hours", r, r.Parked)
	}

	p.failWith(nil)
	if r, err = events.RetryParked(p.ctx, consumers, id); err != nil || !r.Applied || r.Parked != nil {
		t.Fatalf("a retry once the cause is fixed: %+v, %v; want applied", r, err)
	}
	if _, ok := p.parked(id); ok {
		t.Error("still parked after it was applied")
	}
	if r, err = events.RetryParked(p.ctx, consumers, id); err != nil || !r.Applied {
		t.Errorf("a retry of an applied event: %+v, %v; want applied", r, err)
	}
	if n := p.effects("groups/g1/concerns/e"); n != 1 {
		t.Errorf("applied %d times, want once", n)
	}
	_, err = events.RetryParked(p.ctx, consumers, "00000000-0000-4000-8000-0000000000ff")
	if fe, ok := fault.As(err); !ok || fe.Kind != fault.NotFound || fe.Reason != events.ReasonParkedEventNotFound {
		t.Errorf("a retry of an unknown event: %v; want NotFound %s", err, events.ReasonParkedEventNotFound)
	}
}

// TestConcurrentRetriesApplyOnce: many retries of one parked event at the
// same moment, as an impatient operator and the loop might make, apply it
// once.
func TestConcurrentRetriesApplyOnce(t *testing.T) {
	t.Parallel()
	p := startPark(t)
	p.failWith(errUnknownProcedure)
	c := p.consumer(func(c *events.Consumer) { c.ParkedRetryFirst = time.Hour })
	p.run(c)
	const id = "00000000-0000-4000-8000-0000000000f1"
	p.publish("groups/g1/concerns/f", id)
	testenv.Eventually(t, 10*time.Second, "the event parked", func() bool { _, ok := p.parked(id); return ok })
	p.failWith(nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if r, err := events.RetryParked(p.ctx, []*events.Consumer{c}, id); err != nil || !r.Applied {
				t.Errorf("retry: %+v, %v; want applied", r, err)
			}
		})
	}
	wg.Wait()
	if n := p.effects("groups/g1/concerns/f"); n != 1 {
		t.Errorf("applied %d times, want once", n)
	}
}
