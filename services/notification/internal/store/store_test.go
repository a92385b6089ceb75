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

func TestSendDue(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	early := newDelivery(uuid.NewString(), "groups/riverside/members/ann", base)
	later := newDelivery(uuid.NewString(), "groups/riverside/members/ben", base.Add(time.Minute))
	add(t, s, later, early)

	var seen []string
	attempt := func(_ context.Context, d dispatch.Delivery) dispatch.Delivery {
		seen = append(seen, d.ID)
		if d.Facts[dispatch.FactGroupName] != "Riverside Practitioners" {
			t.Errorf("facts not read back: %v", d.Facts)
		}
		return d.Failed(base, "connection refused", false, dispatch.Retry{}, 0.5)
	}
	// Only the early one is due at base.
	for i, want := range []bool{true, false} {
		found, err := s.SendDue(ctx, base, attempt)
		if err != nil || found != want {
			t.Fatalf("pass %d: SendDue = %v, %v; want %v", i, found, err, want)
		}
	}
	if len(seen) != 1 || seen[0] != early.ID {
		t.Fatalf("attempted %v; want only %s", seen, early.ID)
	}
	got, err := s.ListDeliveries(ctx, "groups/riverside", dispatch.Filter{}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		if d.ID == early.ID && (d.Attempts != 1 || d.LastError != "connection refused" || d.State != dispatch.Pending || !d.NextAttemptAt.Equal(base.Add(time.Second))) {
			t.Errorf("failed attempt recorded as %+v", d)
		}
	}
	// A sent delivery is never due again.
	found, err := s.SendDue(ctx, base.Add(time.Hour), func(_ context.Context, d dispatch.Delivery) dispatch.Delivery { return d.Delivered(base) })
	if err != nil || !found {
		t.Fatalf("SendDue = %v, %v", found, err)
	}
	found, err = s.SendDue(ctx, base.Add(time.Hour), func(_ context.Context, d dispatch.Delivery) dispatch.Delivery { return d.Delivered(base) })
	if err != nil || !found {
		t.Fatalf("SendDue = %v, %v", found, err)
	}
	found, err = s.SendDue(ctx, base.Add(time.Hour), attempt)
	if err != nil || found {
		t.Fatalf("SendDue after all sent = %v, %v; want nothing due", found, err)
	}
}

// TestSendDueSkipsLockedRows shows two senders never take the same row: the
// first holds its row while it "sends", and the second gets the other one.
func TestSendDueSkipsLockedRows(t *testing.T) {
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
		_, err := s.SendDue(ctx, base, func(_ context.Context, d dispatch.Delivery) dispatch.Delivery {
			holding <- d.ID
			<-release
			return d.Delivered(base)
		})
		if err != nil {
			t.Error(err)
		}
	}()
	first := <-holding
	var second string
	found, err := s.SendDue(ctx, base, func(_ context.Context, d dispatch.Delivery) dispatch.Delivery {
		second = d.ID
		return d.Delivered(base)
	})
	close(release)
	wg.Wait()
	if err != nil || !found || second == "" || second == first {
		t.Fatalf("second sender got %q (found %v, %v) while the first held %q", second, found, err, first)
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
