package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/jackc/pgx/v5"
)

// parkedEvent is a parked event as the REST API shows it.
type parkedEvent struct {
	Name      string `json:"name"`
	Consumer  string `json:"consumer"`
	EventID   string `json:"eventId"`
	EventType string `json:"eventType"`
	Reason    string `json:"reason"`
	Retries   int    `json:"retries"`
}

// TestParkedEventAppliedOnceItsCauseIsFixed: with the whole system running,
// a concern registered while its group names a procedure casework does not
// know (written straight into the directory's database, past the
// directory's own check) has its event parked by casework, where the
// operator sees it over REST and with disputesctl; a retry while the cause
// lasts leaves it parked with its reason; once the group's procedure is put
// back, `disputesctl events retry` applies it, and the concern has exactly
// one case however often it is retried.
func TestParkedEventAppliedOnceItsCauseIsFixed(t *testing.T) {
	s := startSystem(t)
	ctl := s.buildCLI(t)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	var procedure string
	if err := db.QueryRow(ctx, `SELECT procedure_name FROM directory.groups WHERE id = $1`, demo.GroupID).Scan(&procedure); err != nil {
		t.Fatal(err)
	}
	setProcedure := func(name string) {
		t.Helper()
		if tag, err := db.Exec(ctx, `UPDATE directory.groups SET procedure_name = $2 WHERE id = $1`, demo.GroupID, name); err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("set the group's procedure to %q: %v (%d rows)", name, err, tag.RowsAffected())
		}
	}
	setProcedure("procedures/ipn-disputes-v9")

	concern := s.raiseConcern(t, newMarker())
	cases := func() int {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM casework.cases WHERE concern = $1`, concern.Name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Casework parks the event, and the operator sees it.
	var parked parkedEvent
	testenv.Eventually(t, 30*time.Second, "casework to park the concern's event", func() bool {
		var list struct {
			ParkedEvents []parkedEvent `json:"parkedEvents"`
		}
		if code := s.call(t, http.MethodGet, "/v1/services/casework/parkedEvents", s.OperatorToken, nil, &list); code != http.StatusOK {
			t.Fatalf("list parked events: HTTP %d", code)
		}
		for _, p := range list.ParkedEvents {
			if p.EventType == "ipn.disputes.events.v1.ConcernRegistered" {
				parked = p
				return true
			}
		}
		return false
	})
	if parked.Consumer != "casework" || !strings.Contains(parked.Reason, "procedure this casework does not know") ||
		parked.Name != "services/casework/parkedEvents/"+parked.EventID {
		t.Errorf("parked as %+v", parked)
	}
	if code := s.call(t, http.MethodGet, "/v1/services/casework/parkedEvents", s.Token(otherID), nil, nil); code != http.StatusForbidden {
		t.Errorf("a member listed parked events: HTTP %d, want 403", code)
	}
	listed := ctl.want(t, 0, s.OperatorToken, "events", "parked", "--intake-addr", s.Addr("intake"),
		"--casework-addr", s.Addr("casework"), "--notification-addr", s.Addr("notification"))
	if !strings.Contains(listed.stdout, parked.EventID) || !strings.Contains(listed.stdout, "does not know") {
		t.Errorf("disputesctl events parked does not show the event:\n%s", listed.stdout)
	}

	// A retry while the cause lasts leaves it parked, with its reason.
	var retried struct {
		Applied     bool        `json:"applied"`
		ParkedEvent parkedEvent `json:"parkedEvent"`
	}
	if code := s.call(t, http.MethodPost, "/v1/"+parked.Name+":retry", s.OperatorToken, map[string]any{}, &retried); code != http.StatusOK ||
		retried.Applied || retried.ParkedEvent.Retries < 1 || !strings.Contains(retried.ParkedEvent.Reason, "does not know") {
		t.Fatalf("a retry while the cause lasts: HTTP %d %+v; want it parked still", code, retried)
	}
	if n := cases(); n != 0 {
		t.Fatalf("%d cases while the event is parked", n)
	}

	// Fixed: the operator's retry applies it, once.
	setProcedure(procedure)
	out := ctl.want(t, 0, s.OperatorToken, "events", "retry", "casework", parked.EventID, "--casework-addr", s.Addr("casework"))
	if !strings.Contains(out.stdout, "applied "+parked.Name) {
		t.Errorf("disputesctl events retry: %q", out.stdout)
	}
	if n := cases(); n != 1 {
		t.Fatalf("%d cases after the retry, want 1", n)
	}
	retried.Applied = false
	if code := s.call(t, http.MethodPost, "/v1/"+parked.Name+":retry", s.OperatorToken, map[string]any{}, &retried); code != http.StatusOK || !retried.Applied {
		t.Errorf("a retry of the applied event: HTTP %d %+v; want applied", code, retried)
	}
	if n := cases(); n != 1 {
		t.Errorf("%d cases after a second retry, want 1", n)
	}
	var list struct {
		ParkedEvents []parkedEvent `json:"parkedEvents"`
	}
	if code := s.call(t, http.MethodGet, "/v1/services/casework/parkedEvents", s.OperatorToken, nil, &list); code != http.StatusOK || len(list.ParkedEvents) != 0 {
		t.Errorf("parked events after the retry: HTTP %d %+v; want none", code, list.ParkedEvents)
	}
	// The group's members see the one case.
	s.openedCase(t, s.Token(otherID), concern.Case)
}
