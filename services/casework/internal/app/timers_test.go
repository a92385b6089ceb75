package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/deadline"
)

// fakeClock is the time source the service is given. It counts how often it
// is read, so a test can tell that the timer loop has made a whole pass
// since the clock was moved without sleeping.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	reads int
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) readCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

// waitPass waits until the timer loop has completed a pass that began after
// the clock was last set: the loop reads the clock once at the start of each
// pass, so the second read from now on starts the pass after that one.
// Nothing else may read the clock meanwhile (no requests, no events).
func (c *fakeClock) waitPass(t *testing.T) {
	t.Helper()
	from := c.readCount()
	testenv.Eventually(t, 30*time.Second, "a whole timer pass", func() bool { return c.readCount() >= from+2 })
}

// startTimedCasework is startCasework with the clock injected and the timers
// checked every few milliseconds. restart stops the running service and
// starts a new one on the same database and stream, as a redeploy would.
func startTimedCasework(t *testing.T, clock *fakeClock) (e *env, restart func()) {
	t.Helper()
	e = &env{ns: testenv.Namespace(t), intake: &fakeIntake{concerns: map[string]*intakev1.Concern{}}, keys: testenv.EncryptionKeys(t)}
	dbURL := testenv.Database(t)
	cfg := Config{
		Service: config.Service{
			DatabaseURL:     dbURL,
			DatabaseSchema:  "casework",
			NATSURL:         testenv.NATS(t),
			EventNamespace:  string(e.ns),
			LogLevel:        "warn",
			ShutdownTimeout: 5 * time.Second,
			ServiceSecret:   caseworkSecret,
			TrustedServices: "notification=" + notificationSecret,
		},
		Keys:          e.keys,
		DirectoryAddr: testenv.ServeGRPC(t, func(s *grpc.Server) { directoryv1.RegisterDirectoryServiceServer(s, fakeDirectory{}) }),
		IntakeAddr:    testenv.ServeGRPC(t, func(s *grpc.Server) { intakev1.RegisterIntakeServiceServer(s, e.intake) }),
		Now:           clock.Now,
		TimerInterval: 5 * time.Millisecond,
	}
	var stop func()
	launch := func() {
		c := cfg
		c.GRPCAddr = testenv.FreeAddr(t)
		e.addr = c.GRPCAddr
		stopping, stopped := make(chan struct{}), make(chan struct{})
		testenv.RunService(t, Name, e.addr, func(ctx context.Context) error {
			defer close(stopped)
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				select {
				case <-stopping:
					cancel()
				case <-ctx.Done():
				}
			}()
			return Run(ctx, c)
		})
		stop = sync.OnceFunc(func() { close(stopping); <-stopped })
	}
	launch()
	restart = func() { stop(); launch() }

	nc, err := nats.Connect(cfg.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if e.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	poolCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	poolCfg.ConnConfig.RuntimeParams["search_path"] = "casework"
	if e.db, err = pgxpool.NewWithConfig(context.Background(), poolCfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)
	return e, restart
}

// timerEventCount is how many CaseTimerFired the stream holds.
func (e *env) timerEventCount(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	stream, err := e.js.Stream(ctx, e.ns.Stream())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, kind := range []string{"reminder", "overdue"} {
		info, err := stream.Info(ctx, jetstream.WithSubjectFilter(e.ns.Filter("case", kind)))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range info.State.Subjects {
			n += int(c)
		}
	}
	return n
}

// TestTimersFireOnceAcrossRestarts is the acceptance test of durable timers:
// it drives the clock through every reminder and overdue event of a case,
// restarting casework in between, and finds each on the stream exactly
// once.
func TestTimersFireOnceAcrossRestarts(t *testing.T) {
	t.Parallel()
	start := time.Now().UTC().Truncate(time.Microsecond)
	clock := &fakeClock{now: start}
	e, restart := startTimedCasework(t, clock)
	ctx := context.Background()
	concern := newConcern("groups/riverside", "CANARYTIMERS1", start)
	e.register(t, concern)
	id := e.caseID(t, concern.GetName())
	caseName := "groups/riverside/cases/" + id

	// The schedule follows from the case as stored, so the test holds
	// whatever targets and offsets the group has.
	var (
		dc      deadline.Case
		offsets []int64
	)
	if err := e.db.QueryRow(ctx, `SELECT deadline, first_response_deadline, reminder_offsets FROM cases WHERE id = $1`, id).
		Scan(&dc.Deadline, &dc.FirstResponseDeadline, &offsets); err != nil {
		t.Fatal(err)
	}
	for _, o := range offsets {
		dc.ReminderOffsets = append(dc.ReminderOffsets, time.Duration(o)*time.Second)
	}
	type step struct {
		at  time.Time
		key string // kind, target and offset of the event the step fires
	}
	var schedule []step
	for target, d := range map[deadline.Target]time.Time{deadline.Overall: dc.Deadline, deadline.FirstResponse: dc.FirstResponseDeadline} {
		for _, o := range deadline.Offsets(dc) {
			// At the due instant exactly: a reminder is due then.
			schedule = append(schedule, step{d.Add(-o), fmt.Sprintf("reminder %s %s", target, o)})
		}
		schedule = append(schedule, step{d.Add(time.Second), fmt.Sprintf("overdue %s", target)})
	}
	slices.SortFunc(schedule, func(a, b step) int { return a.at.Compare(b.at) })
	for i := 1; i < len(schedule); i++ {
		if !schedule[i].at.After(schedule[i-1].at) {
			t.Fatalf("%s and %s are due together; the test needs them apart", schedule[i-1].key, schedule[i].key)
		}
	}
	if len(schedule) < 4 {
		t.Fatalf("schedule %v: want reminders and overdue events for both targets", schedule)
	}

	clock.waitPass(t)
	e.waitRelayed(t)
	if n := e.timerEventCount(t); n != 0 {
		t.Fatalf("%d timer events right after opening; want none", n)
	}
	for i, s := range schedule {
		switch i {
		case 1, len(schedule) - 1:
			// After the first reminder, and before the last event.
			restart()
		}
		clock.set(s.at)
		testenv.Eventually(t, 30*time.Second, s.key+" on the stream", func() bool { return e.timerEventCount(t) >= i+1 })
		clock.waitPass(t)
		e.waitRelayed(t)
		if n := e.timerEventCount(t); n != i+1 {
			t.Fatalf("after %s: %d timer events on the stream; want %d", s.key, n, i+1)
		}
	}
	// Long after the case ran out, and once more after a restart: nothing
	// new.
	clock.set(dc.Deadline.Add(60 * 24 * time.Hour))
	clock.waitPass(t)
	restart()
	clock.waitPass(t)
	e.waitRelayed(t)

	var phase string
	if err := e.db.QueryRow(ctx, `SELECT phase FROM cases WHERE id = $1`, id).Scan(&phase); err != nil {
		t.Fatal(err)
	}
	byKey, byID := map[string]int{}, map[string]int{}
	var got []string
	for _, kind := range []string{"reminder", "overdue"} {
		for _, m := range e.streamMessages(t, e.ns.Filter("case", kind)) {
			var ev eventsv1.CaseTimerFired
			if err := proto.Unmarshal(m.Data(), &ev); err != nil {
				t.Fatal(err)
			}
			key := strings.TrimSpace(kind + " " + ev.GetTarget() + " " + ev.GetOffset())
			byKey[key]++
			byID[m.Headers().Get("Nats-Msg-Id")]++
			got = append(got, key)
			if m.Subject() != e.ns.Subject("groups/riverside", "case", kind) ||
				m.Headers().Get("Nats-Msg-Id") != ev.GetMetadata().GetEventId() ||
				ev.GetCase() != caseName || ev.GetPhase() != phase || ev.GetMetadata().GetProducer() != "casework" {
				t.Errorf("%s on %s: %v", key, m.Subject(), &ev)
			}
			for _, secret := range confidential(concern) {
				if strings.Contains(string(m.Data()), secret) {
					t.Errorf("%s carries confidential text", key)
				}
			}
		}
	}
	var want []string
	for _, s := range schedule {
		want = append(want, s.key)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("timer events\n%s\nwant each once\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for k, n := range byKey {
		if n != 1 {
			t.Errorf("%s fired %d times", k, n)
		}
	}
	for id, n := range byID {
		if n != 1 || id == "" {
			t.Errorf("event id %q on the stream %d times", id, n)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM timer_firings WHERE case_id = $1 AND event_id IS NOT NULL`, id); n != len(schedule) {
		t.Errorf("%d firings recorded with an event; want %d", n, len(schedule))
	}
}
