package app

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/testenv"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/smtptest"
)

// TestRetryDeadDeliveries: after a mail server refused every delivery of
// two events for good (550, a mailbox setting gone wrong, say), one call by
// the group's admin makes all twelve pending again and each is delivered
// exactly once; another group's dead delivery and the group's deliveries in
// other states are left as they were, and callers the gate refuses change
// nothing.
func TestRetryDeadDeliveries(t *testing.T) {
	t.Parallel()
	refusing := smtptest.Start(t, "127.0.0.1:0", smtptest.Replies{Rcpt: "550 5.1.1 mailbox unavailable"})
	smtpAddr := refusing.Addr // mailpit takes over here later
	r := startNotification(t, options{smtpAddr: smtpAddr, maxAttempts: 2, retryBase: 10 * time.Millisecond, retryMax: 20 * time.Millisecond})
	ctx := context.Background()
	var concerns []string
	for range 2 {
		ev := concernEvent()
		concerns = append(concerns, ev.GetConcern())
		r.publish(t, ev, ev.GetMetadata().GetEventId())
	}
	testenv.Eventually(t, time.Minute, "every delivery is dead", func() bool { return r.stateCounts(t)["dead"] == 12 })

	// Bystanders: another group's dead delivery, and the group's own sent
	// delivery and pending one (due in a year, so the sender leaves it be).
	insert := func(group, state string, attempts int, due time.Time) string {
		t.Helper()
		id := uuid.NewString()
		_, err := r.db.Exec(ctx, `INSERT INTO notification.deliveries (id, group_name, event_id, event_type, template, recipient,
			recipient_kind, facts, state, attempts, next_attempt_at, last_error, create_time)
			VALUES ($1, $2, $3, 'ipn.disputes.events.v1.ConcernRegistered', 'concern_registered', $2 || '/members/zed', 'member', '{}',
			$4, $5, $6, 'connection refused', now())`, id, group, uuid.NewString(), state, attempts, due)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	year := time.Now().Add(365 * 24 * time.Hour).UTC().Truncate(time.Microsecond)
	bystanders := map[string]string{
		insert("groups/hillside", "dead", 2, time.Now()): "dead",
		insert(group, "sent", 1, time.Now()):             "sent",
		insert(group, "pending", 3, year):                "pending",
	}
	type row struct {
		state    string
		attempts int
		due      time.Time
	}
	snapshot := func() map[string]row {
		t.Helper()
		out := map[string]row{}
		for id := range bystanders {
			var r0 row
			if err := r.db.QueryRow(ctx, `SELECT state, attempts, next_attempt_at FROM notification.deliveries WHERE id = $1`, id).
				Scan(&r0.state, &r0.attempts, &r0.due); err != nil {
				t.Fatal(err)
			}
			out[id] = r0
		}
		return out
	}
	before := snapshot()

	refused := []struct {
		name       string
		secret     string
		req        *notificationv1.RetryDeadDeliveriesRequest
		wantCode   codes.Code
		wantReason string
	}{
		{"plain member", memberToken, &notificationv1.RetryDeadDeliveriesRequest{Parent: group}, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"operator", operatorToken, &notificationv1.RetryDeadDeliveriesRequest{Parent: group}, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"admin of another group", otherGroupToken, &notificationv1.RetryDeadDeliveriesRequest{Parent: group}, codes.NotFound, "GROUP_NOT_FOUND"},
		{"another service", auth.ServiceToken("casework", caseworkSecret), &notificationv1.RetryDeadDeliveriesRequest{Parent: group},
			codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"no credentials", "", &notificationv1.RetryDeadDeliveriesRequest{Parent: group}, codes.Unauthenticated, "UNAUTHENTICATED"},
		{"case of another group", adminToken, &notificationv1.RetryDeadDeliveriesRequest{Parent: group, Case: "groups/hillside/cases/K7QX-2M9D"},
			codes.InvalidArgument, "INVALID_FIELDS"},
		{"no parent", adminToken, &notificationv1.RetryDeadDeliveriesRequest{}, codes.InvalidArgument, "INVALID_FIELDS"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.client(t, tt.secret).RetryDeadDeliveries(ctx, tt.req)
			testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
		})
	}
	if c := r.stateCounts(t); c["dead"] != 13 {
		t.Fatalf("after refused calls deliveries are %v; want the 13 dead still dead", c)
	}

	refusing.Close()
	mailpit := startMailpitAt(t, smtpAddr)
	admin := r.client(t, adminToken)
	// No dead delivery is about this case: nothing is retried.
	resp, err := admin.RetryDeadDeliveries(ctx, &notificationv1.RetryDeadDeliveriesRequest{Parent: group, Case: group + "/cases/NONE-0000"})
	if err != nil || resp.GetRetriedCount() != 0 {
		t.Fatalf("RetryDeadDeliveries of a case without deliveries = %v, %v; want 0", resp, err)
	}
	resp, err = admin.RetryDeadDeliveries(ctx, &notificationv1.RetryDeadDeliveriesRequest{Parent: group})
	if err != nil || resp.GetRetriedCount() != 12 {
		t.Fatalf("RetryDeadDeliveries = %v, %v; want 12 retried", resp, err)
	}

	testenv.Eventually(t, time.Minute, "the twelve are sent", func() bool {
		return r.stateCounts(t)["sent"] == 13 && len(received(t, mailpit)) >= 12
	})
	seen := oncePerRecipient(t, mailpit, received(t, mailpit), concerns)
	if len(seen) != 12 {
		t.Errorf("%d distinct messages arrived; want 12", len(seen))
	}
	// Each was sent at its first attempt of the fresh allowance: the
	// second attempt in all, the first (refused) one still on record.
	var fresh int
	if err := r.db.QueryRow(ctx, `SELECT count(*) FROM notification.deliveries WHERE group_name = $1 AND state = 'sent' AND attempts = 2
		AND failures = 0 AND recipient <> $1 || '/members/zed'`, group).Scan(&fresh); err != nil || fresh != 12 {
		t.Errorf("%d retried deliveries sent at the first fresh attempt (%v); want 12", fresh, err)
	}
	if after := snapshot(); !maps.Equal(before, after) {
		t.Errorf("bystanders changed from %v to %v", before, after)
	}

	resp, err = admin.RetryDeadDeliveries(ctx, &notificationv1.RetryDeadDeliveriesRequest{Parent: group})
	if err != nil || resp.GetRetriedCount() != 0 {
		t.Fatalf("RetryDeadDeliveries with nothing dead = %v, %v; want 0", resp, err)
	}
}
