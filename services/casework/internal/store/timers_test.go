package store

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/deadline"
	"github.com/ipnmediation/disputes/services/casework/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const day = 24 * time.Hour

// registered is when every test case's concern was registered; the tests
// drive time themselves, so it need not be near the real now.
var registered = time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC)

// openDB is a fresh casework schema with the service's migrations applied.
func openDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(context.Background(), testenv.Database(t), "casework", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// testCase is a cases row with the columns the timers read. A zero
// firstResponse target means 14 days, a zero overall one 56 days.
type testCase struct {
	group         string
	overall       time.Duration
	firstResponse time.Duration
	offsets       []int64
	met, closed   time.Time
}

func (tc testCase) deadlines() (overall, first time.Time) {
	o, f := tc.overall, tc.firstResponse
	if o == 0 {
		o = 56 * day
	}
	if f == 0 {
		f = 14 * day
	}
	return registered.Add(o), registered.Add(f)
}

// insertCase writes tc as a new case and returns its id.
func insertCase(t *testing.T, pool *pgxpool.Pool, tc testCase) string {
	t.Helper()
	id := uuid.NewString()
	if tc.group == "" {
		tc.group = "riverside"
	}
	if tc.offsets == nil {
		tc.offsets = []int64{}
	}
	overall, first := tc.deadlines()
	nullable := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	_, err := pool.Exec(context.Background(), `
		INSERT INTO cases (id, group_id, concern, reference, therapist, phase, register_time, deadline,
		                   concern_text, client_name, create_time, first_response_deadline, first_response_time,
		                   reminder_offsets, close_time)
		VALUES ($1, $2, $3, 'ABCD-EFGH', $4, 'REGISTERED', $5, $6, 'confidential', 'Sam', $5, $7, $8, $9, $10)`,
		id, tc.group, "groups/"+tc.group+"/concerns/"+id, "groups/"+tc.group+"/members/alex-moss",
		registered, overall, first, nullable(tc.met), tc.offsets, nullable(tc.closed))
	if err != nil {
		t.Fatalf("insert case: %v", err)
	}
	return id
}

// outboxEvent is a CaseTimerFired as written to the outbox.
type outboxEvent struct {
	id, subject string
	msg         *eventsv1.CaseTimerFired
}

// key names the timer an event is for, e.g. "reminder first_response
// 168h0m0s" or "overdue overall".
func (e outboxEvent) key() string {
	kind := e.subject[strings.LastIndex(e.subject, ".")+1:]
	return strings.TrimSpace(kind + " " + e.msg.GetTarget() + " " + e.msg.GetOffset())
}

// drainOutbox returns the events written since the last call and deletes
// them, as the relay would once it has published them.
func drainOutbox(t *testing.T, pool *pgxpool.Pool) []outboxEvent {
	t.Helper()
	rows, err := pool.Query(context.Background(), `DELETE FROM outbox RETURNING id, event_id::text, subject, event_type, payload`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		seq int64
		ev  outboxEvent
	}
	var got []row
	for rows.Next() {
		var (
			r       row
			typ     string
			payload []byte
		)
		if err := rows.Scan(&r.seq, &r.ev.id, &r.ev.subject, &typ, &payload); err != nil {
			t.Fatal(err)
		}
		if typ != "ipn.disputes.events.v1.CaseTimerFired" {
			t.Fatalf("outbox holds a %s", typ)
		}
		r.ev.msg = &eventsv1.CaseTimerFired{}
		if err := proto.Unmarshal(payload, r.ev.msg); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b row) int { return int(a.seq - b.seq) })
	out := make([]outboxEvent, len(got))
	for i, r := range got {
		out[i] = r.ev
	}
	return out
}

func keys(evs []outboxEvent) string {
	var ks []string
	for _, e := range evs {
		ks = append(ks, e.key())
	}
	return strings.Join(ks, ", ")
}

// TestFireDueTimers runs passes at chosen instants over one case and checks
// what each pass announces, then that the events say the right things and
// that every timer is recorded once.
func TestFireDueTimers(t *testing.T) {
	t.Parallel()
	overall, first := testCase{}.deadlines()
	type pass struct {
		at   time.Time
		want string
	}
	tests := []struct {
		name        string
		tc          testCase
		passes      []pass
		wantSkipped int
	}{
		{
			name: "on time, passes at the boundaries",
			passes: []pass{
				{registered, ""},
				{first.Add(-7*day - time.Microsecond), ""},
				{first.Add(-7 * day), "reminder first_response 168h0m0s"},
				{first.Add(-7 * day), ""},
				{first.Add(-day), "reminder first_response 24h0m0s"},
				{first, ""},
				{first.Add(time.Microsecond), "overdue first_response"},
				{overall.Add(-7 * day), "reminder overall 168h0m0s"},
				{overall.Add(-day).Add(time.Hour), "reminder overall 24h0m0s"},
				{overall, ""},
				{overall.Add(time.Second), "overdue overall"},
				{overall.Add(30 * day), ""},
			},
		},
		{
			name: "opened late: both reminders of a target in the next pass",
			passes: []pass{
				{first.Add(-12 * time.Hour), "reminder first_response 168h0m0s, reminder first_response 24h0m0s"},
				{first.Add(-6 * time.Hour), ""},
			},
		},
		{
			name: "down past a deadline: only the overdue event, reminders never later",
			passes: []pass{
				{first.Add(-3 * day), "reminder first_response 168h0m0s"},
				{first.Add(2 * day), "overdue first_response"},
				{overall.Add(day), "overdue overall"},
				{overall.Add(2 * day), ""},
			},
			wantSkipped: 3, // first response's one-day reminder, both overall reminders
		},
		{
			name:   "closed case",
			tc:     testCase{closed: registered.Add(day)},
			passes: []pass{{first.Add(-day), ""}, {overall.Add(day), ""}},
		},
		{
			name: "first response met",
			tc:   testCase{met: registered.Add(2 * day)},
			passes: []pass{
				{first.Add(day), ""},
				{overall.Add(-7 * day), "reminder overall 168h0m0s"},
			},
		},
		{
			name: "offsets of the case's own",
			tc:   testCase{offsets: []int64{3600}},
			passes: []pass{
				{first.Add(-7 * day), ""},
				{first.Add(-time.Hour), "reminder first_response 1h0m0s"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool := openDB(t)
			s := &Store{Pool: pool, Namespace: "ns"}
			id := insertCase(t, pool, tt.tc)
			ctx := context.Background()
			var all []outboxEvent
			for _, p := range tt.passes {
				n, err := s.FireDueTimers(ctx, p.at, 0)
				if err != nil {
					t.Fatalf("pass at %v: %v", p.at.Sub(registered), err)
				}
				evs := drainOutbox(t, pool)
				if got := keys(evs); got != p.want || n != len(evs) {
					t.Errorf("pass at %v: %d, events [%s]; want [%s]", p.at.Sub(registered), n, got, p.want)
				}
				all = append(all, evs...)
			}
			overall, first := tt.tc.deadlines()
			for _, e := range all {
				wantDeadline := overall
				if e.msg.GetTarget() == "first_response" {
					wantDeadline = first
				}
				kind := e.subject[strings.LastIndex(e.subject, ".")+1:]
				m := e.msg
				if e.subject != events.Namespace("ns").Subject("groups/riverside", "case", kind) ||
					m.GetCase() != "groups/riverside/cases/"+id || !m.GetDeadline().AsTime().Equal(wantDeadline) ||
					m.GetPhase() != "REGISTERED" || m.GetMetadata().GetEventId() != e.id ||
					m.GetMetadata().GetGroup() != "groups/riverside" || m.GetMetadata().GetProducer() != Producer {
					t.Errorf("event on %s: %v", e.subject, m)
				}
			}
			var announced, skipped, linked int
			err := pool.QueryRow(ctx, `SELECT count(event_id), count(*) - count(event_id),
				count(*) FILTER (WHERE event_id::text = ANY($2))
				FROM timer_firings WHERE case_id = $1`, id, eventIDs(all)).Scan(&announced, &skipped, &linked)
			if err != nil {
				t.Fatal(err)
			}
			if announced != len(all) || linked != len(all) || skipped != tt.wantSkipped {
				t.Errorf("timer_firings: %d announced (%d with the events' ids), %d skipped; want %d and %d",
					announced, linked, skipped, len(all), tt.wantSkipped)
			}
		})
	}
}

func eventIDs(evs []outboxEvent) []string {
	ids := []string{}
	for _, e := range evs {
		ids = append(ids, e.id)
	}
	return ids
}

// TestFireDueTimersConcurrently runs several runners, each with its own
// pool as replicas would have, over the same due cases at once, in small
// batches, several times over: every timer must be announced exactly once.
func TestFireDueTimersConcurrently(t *testing.T) {
	t.Parallel()
	pool := openDB(t)
	const cases = 30
	for i := range cases {
		// Every case has both first-response reminders due; half have the
		// overall week reminder due, half are past their overall deadline.
		tc := testCase{overall: 15 * day}
		if i%2 == 0 {
			tc.overall = 13 * day
		}
		insertCase(t, pool, tc)
	}
	now := registered.Add(13*day + 12*time.Hour)
	// Per case: two first-response reminders and either the overall week
	// reminder or the overall overdue event (its reminders skipped).
	const want = cases * (2 + 1)

	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		runner, err := postgres.Open(context.Background(), pool.Config().ConnString(), "casework", migrations.FS)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(runner.Close)
		s := &Store{Pool: runner, Namespace: "ns"}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				n, err := s.FireDueTimers(context.Background(), now, 3)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	evs := drainOutbox(t, pool)
	seen := map[string]int{}
	for _, e := range evs {
		seen[e.msg.GetCase()+" "+e.key()]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s announced %d times", k, n)
		}
	}
	if len(evs) != want || len(seen) != want || total != want {
		t.Errorf("%d events for %d timers, runners counted %d; want %d", len(evs), len(seen), total, want)
	}
}

// TestDueCasesAgreeWithDeadline checks that the SQL selection picks exactly
// the cases for which deadline.Due has something to record, over cases of
// every shape and instants around each of their timers.
func TestDueCasesAgreeWithDeadline(t *testing.T) {
	t.Parallel()
	pool := openDB(t)
	ctx := context.Background()
	shapes := []testCase{
		{},
		{offsets: []int64{3600}},
		{offsets: []int64{7 * 86400, 86400, 86400}},
		{offsets: []int64{0, 2 * 86400}},
		{met: registered.Add(day)},
		{closed: registered.Add(day)},
		{overall: 10 * day, firstResponse: 3 * day},
	}
	// Each shape four times: nothing fired yet; and what a pass would have
	// recorded of the first response a week before its deadline, at the
	// deadline (every reminder, not the overdue event) and after it.
	s := &Store{Pool: pool, Namespace: "ns"}
	byID := map[string]testCase{}
	var instants []time.Time
	for i, shape := range shapes {
		for _, at := range []time.Time{{}, firstDeadline(shape).Add(-7 * day), firstDeadline(shape), firstDeadline(shape).Add(time.Hour)} {
			id := insertCase(t, pool, shape)
			byID[id] = shape
			overall, first := shape.deadlines()
			for _, d := range []time.Time{overall, first} {
				for _, o := range []time.Duration{0, 3600 * time.Second, day, 2 * day, 7 * day} {
					instants = append(instants, d.Add(-o).Add(-time.Microsecond), d.Add(-o), d.Add(-o).Add(time.Microsecond))
				}
			}
			if at.IsZero() {
				continue
			}
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c := timerCase{id: id, groupID: "riverside", phase: "REGISTERED", c: deadlineCase(shape)}
			for _, f := range deadline.Due(c.c, nil, at) {
				if f.Target != deadline.FirstResponse {
					continue
				}
				if _, err := s.fire(ctx, tx, c, f, at); err != nil {
					t.Fatalf("shape %d: %v", i, err)
				}
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.SortFunc(instants, time.Time.Compare)
	instants = slices.Compact(instants)

	for _, now := range instants {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		selected, err := dueCases(ctx, tx, now, 1000)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]string, 0, len(byID))
		for id := range byID {
			ids = append(ids, id)
		}
		fired, err := firedTimers(ctx, tx, ids)
		if err != nil {
			t.Fatal(err)
		}
		_ = tx.Rollback(ctx)
		got := map[string]bool{}
		for _, c := range selected {
			got[c.id] = true
		}
		for id, shape := range byID {
			want := len(deadline.Due(deadlineCase(shape), fired[id], now)) > 0
			if got[id] != want {
				t.Errorf("at %v, case %+v with %d timers fired: selected %v, deadline.Due has something due: %v",
					now.Sub(registered), shape, len(fired[id]), got[id], want)
			}
		}
	}
}

func firstDeadline(tc testCase) time.Time {
	_, f := tc.deadlines()
	return f
}

func deadlineCase(tc testCase) deadline.Case {
	overall, first := tc.deadlines()
	c := deadline.Case{Deadline: overall, FirstResponseDeadline: first, FirstResponseTime: tc.met, Closed: !tc.closed.IsZero()}
	for _, o := range tc.offsets {
		c.ReminderOffsets = append(c.ReminderOffsets, time.Duration(o)*time.Second)
	}
	return c
}

// TestFireDueTimersBatches fires more due cases than one batch holds in one
// call.
func TestFireDueTimersBatches(t *testing.T) {
	t.Parallel()
	pool := openDB(t)
	for range 11 {
		insertCase(t, pool, testCase{})
	}
	s := &Store{Pool: pool, Namespace: "ns"}
	_, first := testCase{}.deadlines()
	n, err := s.FireDueTimers(context.Background(), first.Add(-7*day), 4)
	if err != nil {
		t.Fatal(err)
	}
	if evs := drainOutbox(t, pool); n != 11 || len(evs) != 11 {
		t.Errorf("fired %d, %d events; want 11 week reminders in batches of 4", n, len(evs))
	}
}
