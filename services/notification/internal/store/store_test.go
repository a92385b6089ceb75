package store

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/migrations"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func open(t *testing.T) *Store {
	t.Helper()
	pool, err := postgres.Open(context.Background(), testenv.Database(t), "notification", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &Store{Pool: pool, Schema: "notification"}
}

var base = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newDelivery(event, recipient string, created time.Time) dispatch.Delivery {
	return dispatch.Delivery{
		ID: uuid.NewString(), Group: "groups/riverside", EventID: event, EventType: dispatch.EventTypeConcernRegistered,
		Template: "concern_registered", Recipient: recipient, RecipientKind: dispatch.MemberRecipient, State: dispatch.Pending,
		Facts:         dispatch.Facts{dispatch.FactGroupName: "Riverside Practitioners"},
		NextAttemptAt: created, CreateTime: created,
	}
}

func add(t *testing.T, s *Store, ds ...dispatch.Delivery) int {
	t.Helper()
	var n int
	err := postgres.InTx(context.Background(), s.Pool, func(tx pgx.Tx) error {
		var err error
		n, err = AddDeliveries(context.Background(), tx, ds)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAddDeliveriesOncePerEventAndRecipient(t *testing.T) {
	t.Parallel()
	s := open(t)
	event := uuid.NewString()
	first := []dispatch.Delivery{newDelivery(event, "groups/riverside/members/ann", base), newDelivery(event, "groups/riverside/members/ben", base)}
	if n := add(t, s, first...); n != 2 {
		t.Fatalf("inserted %d; want 2", n)
	}
	// The same event planned again gets fresh delivery ids, but the pair
	// (event, recipient) is taken.
	again := []dispatch.Delivery{newDelivery(event, "groups/riverside/members/ann", base), newDelivery(event, "groups/riverside/members/cy", base)}
	if n := add(t, s, again...); n != 1 {
		t.Fatalf("inserted %d on replay; want only the new recipient", n)
	}
	got, err := s.ListDeliveries(context.Background(), "groups/riverside", dispatch.Filter{}, nil, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("ListDeliveries = %d, %v; want 3", len(got), err)
	}
}

func TestRecipientKinds(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	event := uuid.NewString()
	toLink := func(link string) dispatch.Delivery {
		d := newDelivery(event, "groups/riverside/linkGroups/"+link, base)
		d.RecipientKind = dispatch.LinkGroupRecipient
		d.EventType = dispatch.EventTypeCaseStepTaken
		d.Template = "progress_reported"
		d.Facts[dispatch.FactCase] = "groups/riverside/cases/k1"
		return d
	}
	member := newDelivery(event, "groups/riverside/members/ann", base)
	if n := add(t, s, toLink("hillside"), toLink("lakeland"), member); n != 3 {
		t.Fatalf("inserted %d; want 3", n)
	}
	if n := add(t, s, toLink("hillside")); n != 0 {
		t.Errorf("inserted %d for a link group already told of the event; want 0", n)
	}
	got, err := s.ListDeliveries(ctx, "groups/riverside", dispatch.Filter{}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]dispatch.RecipientKind{}
	for _, d := range got {
		kinds[d.Recipient] = d.RecipientKind
	}
	want := map[string]dispatch.RecipientKind{
		"groups/riverside/linkGroups/hillside": dispatch.LinkGroupRecipient,
		"groups/riverside/linkGroups/lakeland": dispatch.LinkGroupRecipient,
		"groups/riverside/members/ann":         dispatch.MemberRecipient,
	}
	if !maps.Equal(kinds, want) {
		t.Errorf("recipients read back as %v; want %v", kinds, want)
	}

	// A delivery whose kind was never set is a bug, which the table refuses
	// rather than store something the sender cannot send.
	unset := newDelivery(uuid.NewString(), "groups/riverside/members/ben", base)
	unset.RecipientKind = 0
	err = postgres.InTx(ctx, s.Pool, func(tx pgx.Tx) error {
		_, err := AddDeliveries(ctx, tx, []dispatch.Delivery{unset})
		return err
	})
	if err == nil {
		t.Error("a delivery without a recipient kind was stored")
	}
}

// sendDue claims the delivery due first at now with a minute's lease,
// records what attempt makes of it, and returns its id ("" when nothing was
// due), as the sender does.
func sendDue(t *testing.T, s *Store, now time.Time, attempt func(dispatch.Delivery) dispatch.Delivery) string {
	t.Helper()
	ctx := context.Background()
	d, found, err := s.Claim(ctx, now, func(d dispatch.Delivery) dispatch.Delivery { return d.Claimed(now, time.Minute) })
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if !found {
		return ""
	}
	if ok, err := s.Record(ctx, attempt(d)); err != nil || !ok {
		t.Fatalf("Record = %v, %v", ok, err)
	}
	return d.ID
}

// read returns the delivery id as stored.
func read(t *testing.T, s *Store, id string) dispatch.Delivery {
	t.Helper()
	d, err := scan(s.Pool.QueryRow(context.Background(), `SELECT `+columns+` FROM deliveries WHERE id = $1`, id))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestClaimAndRecord(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	early := newDelivery(uuid.NewString(), "groups/riverside/members/ann", base)
	later := newDelivery(uuid.NewString(), "groups/riverside/members/ben", base.Add(time.Minute))
	add(t, s, later, early)

	// The claim is committed before the attempt: another connection sees
	// the attempt counted and the lease as the due time.
	d, found, err := s.Claim(ctx, base, func(d dispatch.Delivery) dispatch.Delivery {
		if d.Facts[dispatch.FactGroupName] != "Riverside Practitioners" {
			t.Errorf("facts not read back: %v", d.Facts)
		}
		return d.Claimed(base, time.Minute)
	})
	if err != nil || !found || d.ID != early.ID {
		t.Fatalf("Claim = %v, %v, %v; want the early one", d.ID, found, err)
	}
	if got := read(t, s, early.ID); got.Attempts != 1 || !got.AttemptTime.Equal(base) || !got.NextAttemptAt.Equal(base.Add(time.Minute)) ||
		got.State != dispatch.Pending {
		t.Fatalf("claimed delivery stored as %+v; want attempt 1 at base, leased for a minute", got)
	}
	// Nothing else is due at base: the claimed one is leased.
	if _, found, err := s.Claim(ctx, base, func(d dispatch.Delivery) dispatch.Delivery { return d.Claimed(base, time.Minute) }); err != nil || found {
		t.Fatalf("second Claim at base = %v, %v; want nothing due", found, err)
	}
	if ok, err := s.Record(ctx, d.Failed(base, "connection refused", dispatch.Unknown, dispatch.Retry{}, 0.5)); err != nil || !ok {
		t.Fatalf("Record = %v, %v", ok, err)
	}
	if got := read(t, s, early.ID); got.Attempts != 1 || got.Failures != 1 || got.LastError != "connection refused" || got.State != dispatch.Pending ||
		!got.NextAttemptAt.Equal(base.Add(time.Second)) {
		t.Errorf("failed attempt recorded as %+v", got)
	}
	// A sent delivery is never due again.
	for range 2 {
		if sendDue(t, s, base.Add(time.Hour), func(d dispatch.Delivery) dispatch.Delivery { return d.Delivered(base.Add(time.Hour)) }) == "" {
			t.Fatal("nothing due an hour on")
		}
	}
	if got := read(t, s, early.ID); got.State != dispatch.Sent || got.Attempts != 2 || !got.SendTime.Equal(base.Add(time.Hour)) {
		t.Errorf("sent delivery stored as %+v; want sent at its second attempt", got)
	}
	if id := sendDue(t, s, base.Add(time.Hour), func(d dispatch.Delivery) dispatch.Delivery { return d }); id != "" {
		t.Fatalf("%s due after all were sent", id)
	}
}

// TestLeaseRunsOut: an attempt whose outcome was never recorded leaves its
// delivery due again when the lease runs out, and that next attempt is
// counted as the second; the first attempt's outcome, should it come late,
// changes nothing.
func TestLeaseRunsOut(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	d := newDelivery(uuid.NewString(), "groups/riverside/members/ann", base)
	add(t, s, d)
	claim := func(at time.Time) (dispatch.Delivery, bool) {
		t.Helper()
		got, found, err := s.Claim(ctx, at, func(d dispatch.Delivery) dispatch.Delivery { return d.Claimed(at, time.Minute) })
		if err != nil {
			t.Fatal(err)
		}
		return got, found
	}
	first, found := claim(base)
	if !found || first.Attempts != 1 {
		t.Fatalf("first claim = %+v, %v", first, found)
	}
	if _, found := claim(base.Add(59 * time.Second)); found {
		t.Fatal("claimed again within the lease")
	}
	second, found := claim(base.Add(time.Minute))
	if !found || second.ID != d.ID || second.Attempts != 2 {
		t.Fatalf("claim after the lease = %+v, %v; want the delivery at its second attempt", second, found)
	}
	if ok, err := s.Record(ctx, second.Delivered(base.Add(time.Minute))); err != nil || !ok {
		t.Fatalf("Record of the second attempt = %v, %v", ok, err)
	}
	// The first attempt's outcome comes late: a Transient failure would
	// make the sent delivery pending again and send it a third time.
	ok, err := s.Record(ctx, first.Failed(base.Add(2*time.Minute), "connection reset", dispatch.Transient, dispatch.Retry{}, 0))
	if err != nil || ok {
		t.Fatalf("Record of the stale first attempt = %v, %v; want it refused", ok, err)
	}
	if got := read(t, s, d.ID); got.State != dispatch.Sent || got.Attempts != 2 || got.LastError != "" {
		t.Errorf("delivery stored as %+v; want sent at attempt 2", got)
	}
}

// TestClaimSkipsLockedRows shows two senders never take the same row: the
// first holds its row while it claims, and the second gets the other one.
func TestClaimSkipsLockedRows(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	add(t, s, newDelivery(uuid.NewString(), "groups/riverside/members/ann", base), newDelivery(uuid.NewString(), "groups/riverside/members/ben", base))

	holding := make(chan string)
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _, err := s.Claim(ctx, base, func(d dispatch.Delivery) dispatch.Delivery {
			holding <- d.ID
			<-release
			return d.Claimed(base, time.Minute)
		})
		if err != nil {
			t.Error(err)
		}
	}()
	first := <-holding
	second, found, err := s.Claim(ctx, base, func(d dispatch.Delivery) dispatch.Delivery { return d.Claimed(base, time.Minute) })
	close(release)
	wg.Wait()
	if err != nil || !found || second.ID == first {
		t.Fatalf("second sender got %q (found %v, %v) while the first held %q", second.ID, found, err, first)
	}
	if _, found, err := s.Claim(ctx, base, func(d dispatch.Delivery) dispatch.Delivery { return d.Claimed(base, time.Minute) }); err != nil || found {
		t.Fatalf("a third claim = %v, %v; want nothing left, both leased", found, err)
	}
}

func TestListDeliveriesKeyset(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	// Two events, the second a minute later; deliveries of one event share
	// their creation time, so the id breaks ties.
	e1, e2 := uuid.NewString(), uuid.NewString()
	var all []dispatch.Delivery
	for _, r := range []string{"ann", "ben", "cy"} {
		all = append(all, newDelivery(e1, "groups/riverside/members/"+r, base), newDelivery(e2, "groups/riverside/members/"+r, base.Add(time.Minute)))
	}
	other := newDelivery(uuid.NewString(), "groups/hillside/members/hal", base)
	other.Group = "groups/hillside"
	add(t, s, append(all, other)...)

	var paged []dispatch.Delivery
	var after *dispatch.Cursor
	for range 10 {
		page, err := s.ListDeliveries(ctx, "groups/riverside", dispatch.Filter{}, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if len(page) < 2 {
			break
		}
		last := page[len(page)-1]
		after = &dispatch.Cursor{CreateTime: last.CreateTime, ID: last.ID}
	}
	if len(paged) != 6 {
		t.Fatalf("paged through %d deliveries; want the group's 6", len(paged))
	}
	seen := map[string]bool{}
	for i, d := range paged {
		if seen[d.ID] {
			t.Errorf("delivery %s listed twice", d.ID)
		}
		seen[d.ID] = true
		if d.Group != "groups/riverside" {
			t.Errorf("another group's delivery listed: %s", d.Group)
		}
		if i > 0 {
			prev := paged[i-1]
			if d.CreateTime.After(prev.CreateTime) || (d.CreateTime.Equal(prev.CreateTime) && d.ID > prev.ID) {
				t.Errorf("delivery %d out of newest-first order", i)
			}
		}
		if i < 3 && d.EventID != e2 {
			t.Errorf("delivery %d is of the older event", i)
		}
	}
}
