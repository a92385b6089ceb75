package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/names"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"google.golang.org/grpc/codes"
)

// TestPurgeAfterRetention closes one case and leaves another open, moves
// the clock past the group's retention, and finds the closed case gone,
// with its key, documents, timeline and access log, leaving only
// statistics that identify no one and a CasePurged event.
func TestPurgeAfterRetention(t *testing.T) {
	t.Parallel()
	start := time.Now().UTC().Truncate(time.Microsecond)
	clock := &fakeClock{now: start}
	e, _ := startTimedCasework(t, clock)
	ctx := context.Background()

	closed := e.openWalk(t, "PRGA"+strings.ToUpper(uuid.NewString()[:8]))
	open := e.openWalk(t, "PRGB"+strings.ToUpper(uuid.NewString()[:8]))
	closed.do(t, "nominate_spt", "accept_spt", "appoint")
	if _, err := closed.clients[asClient].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: closed.name, Message: &caseworkv1.Message{Text: "Before I go."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := closed.clients[asSPC].GetRegisteredConcern(ctx, &caseworkv1.GetRegisteredConcernRequest{Name: closed.name + "/registeredConcern"}); err != nil {
		t.Fatal(err)
	}
	closed.do(t, "withdraw")
	id := strings.TrimPrefix(closed.name, "groups/riverside/cases/")
	rows := func(table string) int {
		return e.count(t, `SELECT count(*) FROM `+table+` WHERE case_id = $1`, id)
	}
	for _, table := range []string{"documents", "timeline_entries", "access_log"} {
		if rows(table) == 0 {
			t.Fatalf("nothing in %s before the purge", table)
		}
	}

	// A day short of six years, nothing goes.
	clock.set(start.Add(6*365*24*time.Hour - 24*time.Hour))
	clock.waitPass(t)
	if e.count(t, `SELECT count(*) FROM cases WHERE id = $1`, id) != 1 {
		t.Fatal("purged before the retention ran out")
	}
	clock.set(start.Add(6*365*24*time.Hour + time.Hour))
	testenv.Eventually(t, 30*time.Second, "the closed case to be purged", func() bool {
		return e.count(t, `SELECT count(*) FROM cases WHERE id = $1`, id) == 0
	})
	for _, table := range []string{"documents", "timeline_entries", "access_log", "case_keys", "timer_firings"} {
		if n := rows(table); n != 0 {
			t.Errorf("%d rows of the purged case left in %s", n, table)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM cases WHERE id = $1`, strings.TrimPrefix(open.name, "groups/riverside/cases/")); n != 1 {
		t.Error("an open case was purged")
	}
	if n := e.count(t, `SELECT count(*) FROM case_statistics WHERE group_id = 'riverside' AND outcome = 'WITHDRAWN' AND NOT escalated`); n != 1 {
		t.Errorf("%d statistics rows for the purged case, want 1", n)
	}
	// Intake forgets the concern on CasePurged; until it has, the case
	// would read as one being opened.
	concern, _ := names.ConcernOfCase(closed.name)
	e.intake.forget(concern)
	_, err := closed.clients[asOther].GetCase(ctx, &caseworkv1.GetCaseRequest{Name: closed.name})
	wantCode(t, "the purged case", err, codes.NotFound, "CASE_NOT_FOUND", "")

	e.waitRelayed(t)
	purged := e.streamMessages(t, e.ns.Filter("case", "purged"))
	if len(purged) != 1 || !strings.Contains(string(purged[0].Data()), closed.name) {
		t.Errorf("%d CasePurged events", len(purged))
	}
	for _, m := range purged {
		for _, secret := range confidential(closed.concern) {
			if strings.Contains(string(m.Data()), secret) {
				t.Errorf("CasePurged carries %q", secret)
			}
		}
	}
}
