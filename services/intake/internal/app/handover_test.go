package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/testenv"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"google.golang.org/grpc/codes"
)

// TestHandOverToCasework: once casework announces its case, intake forgets
// the concern's text and the client's details, keeps what recognises the
// client's code (sign-in and reissue still work), and says so to a late
// GetConcern.
func TestHandOverToCasework(t *testing.T) {
	t.Parallel()
	r := startIntake(t)
	public := intakev1.NewIntakeServiceClient(dial(t, r.addr, ""))
	casework := intakev1.NewIntakeServiceClient(dial(t, r.addr, "casework"))
	ctx := context.Background()

	created, err := public.CreateConcern(ctx, validRequest())
	if err != nil {
		t.Fatal(err)
	}
	got, err := casework.GetConcern(ctx, &intakev1.GetConcernRequest{Name: created.GetName()})
	if err != nil {
		t.Fatalf("GetConcern before the hand-over: %v", err)
	}
	if got.GetDescription() != validRequest().GetConcern().GetDescription() || got.GetDesiredOutcome() != validRequest().GetConcern().GetDesiredOutcome() {
		t.Error("GetConcern before the hand-over does not return the concern's text and the outcome the client would like")
	}
	// The read is in the access log, which nobody may change.
	logConn, err := pgx.Connect(ctx, r.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer logConn.Close(ctx)
	var reader string
	if err := logConn.QueryRow(ctx, `SELECT reader FROM intake.access_log WHERE concern_id = $1`, created.GetName()[strings.LastIndex(created.GetName(), "/")+1:]).Scan(&reader); err != nil || reader != "service:casework" {
		t.Errorf("access log after GetConcern: %q, %v", reader, err)
	}
	if _, err := logConn.Exec(ctx, `UPDATE intake.access_log SET reader = 'someone else'`); err == nil {
		t.Error("the access log was changed")
	}

	conn, err := pgx.Connect(ctx, r.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Until the hand-over, a plain SELECT (a leaked dump) shows ciphertext
	// only: none of what the client wrote.
	var stored []string
	rows, err := conn.Query(ctx, `SELECT unnest(ARRAY[description, client_name, client_email, client_phone, desired_outcome]) FROM intake.concerns`)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	draft := validRequest().GetConcern()
	for _, v := range stored {
		for _, secret := range []string{draft.GetDescription(), draft.GetDesiredOutcome(), draft.GetClientName(), draft.GetClientContact().GetEmail(), draft.GetClientContact().GetPhone()} {
			if secret != "" && strings.Contains(v, secret) {
				t.Errorf("a confidential column holds plaintext: %q", v)
			}
		}
		if !sealed.IsSealed(v) {
			t.Errorf("a confidential column holds %q; want a ciphertext", v)
		}
	}

	meta := events.NewMetadata("groups/riverside", "casework", time.Now())
	ev, err := r.ns.Encode(meta, "case", "opened", &eventsv1.CaseOpened{
		Metadata: meta, Case: "groups/riverside/cases/00000000-0000-4000-8000-00000000c0de", Concern: created.GetName(),
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: ev.Subject, Data: ev.Payload, Header: nats.Header{}}
	msg.Header.Set(events.TypeHeader, ev.Type)
	msg.Header.Set("Nats-Msg-Id", ev.ID)
	if _, err := r.natsJS.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}

	testenv.Eventually(t, 30*time.Second, "the concern to be handed over", func() bool {
		_, err := casework.GetConcern(ctx, &intakev1.GetConcernRequest{Name: created.GetName()})
		return err != nil
	})
	_, err = casework.GetConcern(ctx, &intakev1.GetConcernRequest{Name: created.GetName()})
	testenv.WantStatus(t, err, codes.FailedPrecondition, "CONCERN_HANDED_OVER")

	var description, name, email, phone, reference, hash string
	var wrapped, outcome *string
	if err := conn.QueryRow(ctx, `SELECT description, client_name, client_email, client_phone, desired_outcome, reference, access_code_hash, wrapped_key
		FROM intake.concerns WHERE reference = $1`, created.GetReference()).Scan(&description, &name, &email, &phone, &outcome, &reference, &hash, &wrapped); err != nil {
		t.Fatal(err)
	}
	if description != "" || name != "" || email != "" || phone != "" || outcome != nil || wrapped != nil {
		t.Errorf("intake still holds the client's words, details or their key after the hand-over")
	}
	if reference != created.GetReference() || hash == "" {
		t.Errorf("the reference or the access code's hash was lost: %q %q", reference, hash)
	}

	// What intake kept is enough for the client to sign in, and for casework
	// to give the client a new code.
	sess, err := public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: created.GetReference(), AccessCode: created.GetAccessCode()})
	if err != nil {
		t.Fatalf("CreateClientSession after the hand-over: %v", err)
	}
	if sess.GetConcern() != created.GetName() {
		t.Errorf("session for %s; want %s", sess.GetConcern(), created.GetName())
	}
	reissued, err := casework.ReissueAccessCode(ctx, &intakev1.ReissueAccessCodeRequest{Name: created.GetName()})
	if err != nil {
		t.Fatalf("ReissueAccessCode after the hand-over: %v", err)
	}
	if _, err := public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: created.GetReference(), AccessCode: reissued.GetAccessCode()}); err != nil {
		t.Errorf("CreateClientSession with the reissued code after the hand-over: %v", err)
	}

	// Once casework purges the case, intake forgets the concern: the code
	// opens nothing and nothing of it is left, the second time too.
	purged := func() {
		meta := events.NewMetadata("groups/riverside", "casework", time.Now())
		ev, err := r.ns.Encode(meta, "case", "purged", &eventsv1.CasePurged{
			Metadata: meta, Case: "groups/riverside/cases/00000000-0000-4000-8000-00000000c0de", Concern: created.GetName(),
		})
		if err != nil {
			t.Fatal(err)
		}
		msg := &nats.Msg{Subject: ev.Subject, Data: ev.Payload, Header: nats.Header{}}
		msg.Header.Set(events.TypeHeader, ev.Type)
		msg.Header.Set("Nats-Msg-Id", ev.ID)
		if _, err := r.natsJS.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	count := func(query string) int {
		var n int
		if err := conn.QueryRow(ctx, query, created.GetReference()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	purged()
	testenv.Eventually(t, 30*time.Second, "the concern to be forgotten", func() bool {
		return count(`SELECT count(*) FROM intake.concerns WHERE reference = $1`) == 0
	})
	if n := count(`SELECT count(*) FROM intake.access_log WHERE $1 <> ''`); n != 0 {
		t.Errorf("%d access log rows of the forgotten concern", n)
	}
	purged()
	testenv.Eventually(t, 30*time.Second, "the second CasePurged to be applied", func() bool {
		return count(`SELECT count(*) FROM intake.applied_events WHERE consumer = 'intake-purged' AND $1 <> ''`) == 2
	})
	_, err = public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: created.GetReference(), AccessCode: reissued.GetAccessCode()})
	testenv.WantStatus(t, err, codes.Unauthenticated, "INVALID_ACCESS_CODE")
}
