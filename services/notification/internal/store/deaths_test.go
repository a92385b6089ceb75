package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
)

// TestTellDeaths: each death is told once, the job's own messages dying are
// never told, a retried delivery is no death, and a group is told at most
// once per quiet period; deaths in it wait and are told after.
func TestTellDeaths(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	const quiet = time.Hour
	far := base.Add(1000 * time.Hour)
	kill := func(d dispatch.Delivery, at time.Time) {
		t.Helper()
		add(t, s, d)
		if got := sendDue(t, s, at, func(got dispatch.Delivery) dispatch.Delivery {
			return got.Failed(at, "550 no such mailbox", dispatch.Permanent, dispatch.Retry{}, 0)
		}); got != d.ID {
			t.Fatalf("attempted %q; want %s", got, d.ID)
		}
	}
	// tell runs a pass at now and returns the groups it planned for.
	tell := func(now time.Time) []string {
		t.Helper()
		var planned []string
		n, err := s.TellDeaths(ctx, now, quiet, func(_ context.Context, group string) ([]dispatch.Delivery, error) {
			planned = append(planned, group)
			alert := newDelivery(uuid.NewString(), group+"/members/admin", now)
			alert.Group, alert.EventType, alert.Template = group, dispatch.EventTypeDeliveriesDead, "deliveries_dead"
			// Not due before far, so that only the deaths the test means
			// are attempted.
			alert.NextAttemptAt = far
			return []dispatch.Delivery{alert}, nil
		})
		if err != nil || n != len(planned) {
			t.Fatalf("TellDeaths = %d, %v; planned %v", n, err, planned)
		}
		return planned
	}
	want := func(stage string, got []string, groups ...string) {
		t.Helper()
		if len(got) != len(groups) || (len(got) > 0 && got[0] != groups[0]) {
			t.Errorf("%s: told %v; want %v", stage, got, groups)
		}
	}

	want("nothing dead", tell(base))
	first := newDelivery(uuid.NewString(), "groups/riverside/members/ann", base)
	kill(first, base)
	want("a death", tell(base), "groups/riverside")
	want("the same death again", tell(base.Add(time.Minute)))

	// The alert itself dies: nobody is told of that.
	alerts, err := s.ListDeliveries(ctx, "groups/riverside", dispatch.Filter{Recipient: "groups/riverside/members/admin"}, nil, 10)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts: %v, %v; want one", alerts, err)
	}
	if got := sendDue(t, s, far, func(d dispatch.Delivery) dispatch.Delivery {
		return d.Failed(base, "550 no such mailbox", dispatch.Permanent, dispatch.Retry{}, 0)
	}); got != alerts[0].ID {
		t.Fatalf("attempted %q; want the alert", got)
	}
	want("the alert's own death", tell(base.Add(2*quiet)))

	// Another death within the quiet hour waits for its end.
	second := newDelivery(uuid.NewString(), "groups/riverside/members/ben", base.Add(10*time.Minute))
	kill(second, base.Add(10*time.Minute))
	want("a death within the quiet hour", tell(base.Add(30*time.Minute)))
	want("the same death after the quiet hour", tell(base.Add(quiet+time.Minute)), "groups/riverside")

	// A retried delivery is no death; one that dies again is told again.
	third := newDelivery(uuid.NewString(), "groups/riverside/members/cy", base.Add(3*quiet))
	kill(third, base.Add(3*quiet))
	if _, err := s.Retry(ctx, "groups/riverside", third.ID, func(d dispatch.Delivery) dispatch.Delivery { return d.Retried(base.Add(3 * quiet)) }); err != nil {
		t.Fatal(err)
	}
	want("a death retried before it was told", tell(base.Add(3*quiet)))
	if got := sendDue(t, s, base.Add(3*quiet), func(d dispatch.Delivery) dispatch.Delivery {
		return d.Failed(base, "550 no such mailbox", dispatch.Permanent, dispatch.Retry{}, 0)
	}); got != third.ID {
		t.Fatalf("attempted %q; want the retried delivery", got)
	}
	want("the retried delivery dead again", tell(base.Add(3*quiet)), "groups/riverside")

	// Groups are told apart.
	other := newDelivery(uuid.NewString(), "groups/hillside/members/hal", base.Add(4*quiet))
	other.Group = "groups/hillside"
	kill(other, base.Add(4*quiet))
	want("another group's death", tell(base.Add(4*quiet)), "groups/hillside")
}
