package store

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/ipnmediation/disputes/services/casework/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The members the list tests list as.
const (
	alex = "groups/riverside/members/alex-moss"     // the therapist, kept from appointing
	cal  = "groups/riverside/members/cal-reyes"     // a role holder who is awaited
	bea  = "groups/riverside/members/bea-lindqvist" // a member with no role
)

// listed is a case as the list tests insert it.
type listed struct {
	id         string
	group      string
	registered time.Time
	deadline   time.Time
	closed     bool
	awaiting   casefile.Awaiting
}

// insertListed writes c straight into the table, whom it waits for
// included, as of its current version.
func insertListed(t *testing.T, pool *pgxpool.Pool, c listed) {
	t.Helper()
	var closed *time.Time
	phase, outcome := "SUPPORT_APPOINTED", ""
	if c.closed {
		at := c.registered.Add(day)
		closed, phase, outcome = &at, "CLOSED", "RESOLVED"
	}
	_, err := pool.Exec(context.Background(), `
		INSERT INTO cases (id, group_id, concern, reference, therapist, phase, register_time, deadline,
		                   concern_text, client_name, create_time, first_response_deadline, outcome, close_time,
		                   awaiting_members, awaiting_any_member, awaiting_excluded, awaiting_version)
		VALUES ($1, $2, $3, 'ABCD-EFGH', $4, $5, $6, $7, 'confidential', 'Sam', $6, $7, $8, $9, $10, $11, $12, 1)`,
		c.id, c.group, "groups/"+c.group+"/concerns/"+c.id, alex, phase, c.registered, c.deadline, outcome, closed,
		members(c.awaiting.Members), c.awaiting.AnyMember, members(c.awaiting.Excluded))
	if err != nil {
		t.Fatalf("insert case: %v", err)
	}
}

// TestListFiltersOrdersAndPages holds List and Count to the filters and
// orders worked out in Go (casefile.Awaiting.Includes, the orders' keys),
// for every combination of member, awaiting filter, open, phase and order,
// paged in pages of 1, 3 and all, as Service.List makes its cursors.
func TestListFiltersOrdersAndPages(t *testing.T) {
	t.Parallel()
	s := &Store{Pool: openDB(t)}
	ctx := context.Background()
	// Equal registration times and equal deadlines, so that the ids decide;
	// deadlines past and to come; open and closed; another group's.
	registrations := []time.Duration{0, day, day, 2 * day, 3 * day, 3 * day, 4 * day, 5 * day, 6 * day, 7 * day, 8 * day, 9 * day}
	deadlines := []time.Duration{-10 * day, 5 * day, -10 * day, 5 * day, 30 * day, 1 * day, 5 * day, -2 * day, 40 * day, 5 * day, 12 * day, 1 * day}
	waits := []casefile.Awaiting{
		{Members: []string{cal}},
		{AnyMember: true, Excluded: []string{alex}},
		{},
		{Members: []string{alex, cal}},
		{AnyMember: true},
		{AnyMember: true, Excluded: []string{alex, cal}},
		{Members: []string{alex}},
		{},
		{AnyMember: true, Members: []string{cal}, Excluded: []string{alex}},
		{Members: []string{cal}},
		{},
		{AnyMember: true},
	}
	var all []listed
	for i := range registrations {
		c := listed{id: uuid.NewString(), group: "riverside", registered: registered.Add(registrations[i]),
			deadline: registered.Add(deadlines[i]), closed: i%4 == 2, awaiting: waits[i]}
		if i == 11 {
			c.group = "hillside"
		}
		if c.closed {
			// What the store keeps for a closed case.
			c.awaiting = casefile.Awaiting{}
		}
		insertListed(t, s.Pool, c)
		all = append(all, c)
	}
	// A closed case whose row still says it waits for everyone must not be
	// listed as waiting: the awaiting filters keep open cases only.
	stale := listed{id: uuid.NewString(), group: "riverside", registered: registered.Add(10 * day),
		deadline: registered.Add(3 * day), closed: true, awaiting: casefile.Awaiting{AnyMember: true, Members: []string{cal}}}
	insertListed(t, s.Pool, stale)
	all = append(all, stale)

	want := func(f casefile.Filter) []string {
		var keep []listed
		for _, c := range all {
			waiting := !c.closed && f.Member != "" && c.awaiting.Includes(f.Member)
			switch {
			case c.group != "riverside",
				f.Open && c.closed,
				f.Phase == "CLOSED" && !c.closed,
				f.Awaiting != casefile.AwaitingAny && c.closed,
				f.Awaiting == casefile.AwaitingCaller && !waiting,
				f.Awaiting == casefile.AwaitingOthers && waiting:
				continue
			}
			keep = append(keep, c)
		}
		slices.SortFunc(keep, func(a, b listed) int {
			if f.Order == casefile.DeadlineFirst {
				if d := a.deadline.Compare(b.deadline); d != 0 {
					return d
				}
				return strings.Compare(a.id, b.id)
			}
			if d := b.registered.Compare(a.registered); d != 0 {
				return d
			}
			return strings.Compare(b.id, a.id)
		})
		ids := []string{}
		for _, c := range keep {
			ids = append(ids, c.id)
		}
		return ids
	}

	type combination struct {
		f    casefile.Filter
		size int
	}
	var tests []combination
	for _, member := range []string{alex, cal, bea, ""} {
		for _, awaiting := range []casefile.AwaitingFilter{casefile.AwaitingAny, casefile.AwaitingCaller, casefile.AwaitingOthers} {
			for _, open := range []bool{false, true} {
				for _, phase := range []casefile.Phase{"", "CLOSED"} {
					for _, order := range []casefile.Order{casefile.NewestFirst, casefile.DeadlineFirst} {
						for _, size := range []int{1, 3, 50} {
							tests = append(tests, combination{casefile.Filter{Member: member, Awaiting: awaiting, Open: open, Phase: phase, Order: order}, size})
						}
					}
				}
			}
		}
	}
	someListed := map[casefile.AwaitingFilter]bool{}
	for _, tt := range tests {
		name := fmt.Sprintf("member %q awaiting %d open %v phase %q order %d size %d",
			tt.f.Member, tt.f.Awaiting, tt.f.Open, tt.f.Phase, tt.f.Order, tt.size)
		expected := want(tt.f)
		got := []string{}
		var after *casefile.Cursor
		for page := 0; ; page++ {
			if page > len(all) {
				t.Fatalf("%s: paging does not end", name)
			}
			cases, err := s.List(ctx, "groups/riverside", tt.f, after, tt.size+1)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			more := len(cases) > tt.size
			if more {
				cases = cases[:tt.size]
			}
			for _, c := range cases {
				got = append(got, c.ID)
			}
			if !more {
				break
			}
			last := cases[len(cases)-1]
			after = &casefile.Cursor{Order: tt.f.Order, RegisterTime: last.RegisterTime, Deadline: last.Deadline, ID: last.ID}
		}
		if !slices.Equal(got, expected) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, expected)
		}
		n, err := s.Count(ctx, "groups/riverside", tt.f)
		if err != nil {
			t.Fatalf("%s: count: %v", name, err)
		}
		if n != len(expected) {
			t.Errorf("%s: count %d, want %d", name, n, len(expected))
		}
		if len(expected) > 0 {
			someListed[tt.f.Awaiting] = true
		}
	}
	// The table means something only if each filter lists some cases.
	if len(someListed) != 3 {
		t.Errorf("filters that listed any case: %v; want all three", someListed)
	}
}

// TestFillAwaiting: the open cases whose stored answer is not their current
// version's are filled in, a batch at a time; closed cases, and cases up to
// date, are left alone; a case locked by a change in progress is skipped and
// filled in by the next pass.
func TestFillAwaiting(t *testing.T) {
	t.Parallel()
	s := &Store{Pool: openDB(t)}
	ctx := context.Background()
	// insertCase leaves the awaiting columns as the migration does: not
	// worked out (awaiting_version 0, version 1).
	var stale []string
	for range 5 {
		stale = append(stale, insertCase(t, s.Pool, testCase{}))
	}
	closed := insertCase(t, s.Pool, testCase{closed: registered.Add(day)})
	upToDate := uuid.NewString()
	insertListed(t, s.Pool, listed{id: upToDate, group: "riverside", registered: registered, deadline: registered.Add(56 * day),
		awaiting: casefile.Awaiting{Members: []string{bea}}})
	// Worked out from the case itself, so that each row's answer is its own.
	awaiting := func(c casefile.Case) casefile.Awaiting {
		return casefile.Awaiting{Members: []string{c.Concern}, AnyMember: true, Excluded: []string{c.Therapist}}
	}

	// A change in progress holds one of them.
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM cases WHERE id = $1 FOR UPDATE`, stale[0]); err != nil {
		t.Fatal(err)
	}
	n, err := s.FillAwaiting(ctx, awaiting, 2)
	if err != nil || n != 4 {
		t.Fatalf("FillAwaiting with one case locked = %d, %v; want the 4 others", n, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.FillAwaiting(ctx, awaiting, 2); err != nil || n != 1 {
		t.Fatalf("FillAwaiting once unlocked = %d, %v; want the 1 left", n, err)
	}
	if n, err := s.FillAwaiting(ctx, awaiting, 2); err != nil || n != 0 {
		t.Fatalf("FillAwaiting again = %d, %v; want none", n, err)
	}

	tests := []struct {
		id   string
		want casefile.Awaiting
	}{
		{stale[0], casefile.Awaiting{Members: []string{"groups/riverside/concerns/" + stale[0]}, AnyMember: true, Excluded: []string{alex}}},
		{stale[4], casefile.Awaiting{Members: []string{"groups/riverside/concerns/" + stale[4]}, AnyMember: true, Excluded: []string{alex}}},
		{closed, casefile.Awaiting{}},
		{upToDate, casefile.Awaiting{Members: []string{bea}}},
	}
	for _, tt := range tests {
		got, current := storedAwaiting(t, s.Pool, tt.id)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("case %s waits for %+v; want %+v", tt.id, got, tt.want)
		}
		if tt.id != closed && !current {
			t.Errorf("case %s: awaiting_version is not its version", tt.id)
		}
	}
}

// storedAwaiting reads whom case id waits for as the table keeps it, and
// whether that is its current version's answer.
func storedAwaiting(t *testing.T, pool *pgxpool.Pool, id string) (casefile.Awaiting, bool) {
	t.Helper()
	var a casefile.Awaiting
	var current bool
	err := pool.QueryRow(context.Background(), `
		SELECT awaiting_members, awaiting_any_member, awaiting_excluded, awaiting_version = version FROM cases WHERE id = $1`, id).
		Scan(&a.Members, &a.AnyMember, &a.Excluded, &current)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Members) == 0 {
		a.Members = nil
	}
	if len(a.Excluded) == 0 {
		a.Excluded = nil
	}
	return a, current
}

// TestMigrationLeavesOpenCasesToFill: cases from before migration 009 come
// out of it with the open ones marked to be filled in (awaiting_version is
// not their version) and the closed ones not, since a closed case waits for
// nobody, which the columns' defaults already say.
func TestMigrationLeavesOpenCasesToFill(t *testing.T) {
	t.Parallel()
	url := testenv.Database(t)
	ctx := context.Background()
	before, err := postgres.Open(ctx, url, "casework", migrationsBefore(t, "009"))
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	open, closed := uuid.NewString(), uuid.NewString()
	for _, c := range []struct {
		id     string
		closed *time.Time
	}{{open, nil}, {closed, &registered}} {
		_, err := before.Exec(ctx, `
			INSERT INTO cases (id, group_id, concern, reference, therapist, phase, register_time, deadline,
			                   concern_text, client_name, create_time, close_time, version, first_response_deadline)
			VALUES ($1::uuid, 'riverside', 'groups/riverside/concerns/' || $1::text, 'ABCD-EFGH', $2, 'REGISTERED', $3, $3,
			        'confidential', 'Sam', $3, $4, 3, $3)`, c.id, alex, registered, c.closed)
		if err != nil {
			t.Fatal(err)
		}
	}
	before.Close()
	pool, err := postgres.Open(ctx, url, "casework", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, current := storedAwaiting(t, pool, open); current {
		t.Error("the open case is not marked to be filled in")
	}
	if _, current := storedAwaiting(t, pool, closed); !current {
		t.Error("the closed case is marked to be filled in")
	}
	s := &Store{Pool: pool}
	n, err := s.FillAwaiting(ctx, func(casefile.Case) casefile.Awaiting { return casefile.Awaiting{AnyMember: true} }, DefaultAwaitingBatch)
	if err != nil || n != 1 {
		t.Errorf("FillAwaiting = %d, %v; want the open case", n, err)
	}
}

// migrationsBefore is the service's migrations before the one numbered
// first.
func migrationsBefore(t *testing.T, first string) fs.FS {
	t.Helper()
	return beforeFS{migrations.FS, first}
}

// beforeFS hides the migrations from first on.
type beforeFS struct {
	fs.ReadDirFS
	first string
}

func (b beforeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := b.ReadDirFS.ReadDir(name)
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() >= b.first }), err
}
