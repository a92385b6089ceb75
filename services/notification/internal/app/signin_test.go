package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/testenv"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
)

// TestSendSignInLink: the directory's call is e-mailed at once with the link
// and the facts, and nothing of the notification schema holds the link
// afterwards (no delivery is recorded); every other caller is refused and
// sends nothing.
func TestSendSignInLink(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	r := startNotification(t, options{smtpAddr: mailpit.SMTPAddr})
	ctx := context.Background()
	const secret = "canary-sign-in-secret-v8k2m4"
	req := func() *notificationv1.SendSignInLinkRequest {
		return &notificationv1.SendSignInLinkRequest{
			Member:            memberName("cal-nash"),
			MemberDisplayName: "Cal Nash",
			GroupDisplayName:  groupDisplayName,
			Email:             emailOf("cal-nash"),
			LinkUrl:           "https://disputes.example.org/riverside/sign-in/" + secret,
			// 10:30 UTC in January is 10:30 in the UK (GMT).
			RequestTime:   timestamppb.New(time.Date(2026, 1, 14, 10, 30, 0, 0, time.UTC)),
			ExpireTime:    timestamppb.New(time.Date(2026, 1, 14, 10, 45, 0, 0, time.UTC)),
			RequestedFrom: "a network whose addresses start 198.51.100",
		}
	}

	refused := []struct {
		name   string
		secret string
		want   codes.Code
	}{
		{"no credentials", "", codes.Unauthenticated},
		{"another service", auth.ServiceToken("casework", caseworkSecret), codes.PermissionDenied},
		{"an admin", adminToken, codes.PermissionDenied},
		{"the member", memberToken, codes.PermissionDenied},
		{"the operator", operatorToken, codes.PermissionDenied},
	}
	for _, c := range refused {
		_, err := r.client(t, c.secret).SendSignInLink(ctx, req())
		if status.Code(err) != c.want {
			t.Errorf("%s: %v; want %v", c.name, err, c.want)
		}
	}

	directory := r.client(t, auth.ServiceToken("directory", directorySecret))
	if _, err := directory.SendSignInLink(ctx, req()); err != nil {
		t.Fatalf("SendSignInLink as the directory: %v", err)
	}
	// Sent at once: the message is there when the call answers.
	msgs := received(t, mailpit)
	if len(msgs) != 1 {
		t.Fatalf("%d messages; want the directory's one (the refused calls sent none)", len(msgs))
	}
	m := msgs[0]
	if len(m.To) != 1 || m.To[0].Address != emailOf("cal-nash") {
		t.Errorf("to %v; want %s", m.To, emailOf("cal-nash"))
	}
	if want := "Your link to sign in to " + groupDisplayName; m.Subject != want {
		t.Errorf("subject %q; want %q", m.Subject, want)
	}
	body, err := mailpit.Body(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{req().GetLinkUrl(), emailOf("cal-nash"), "Wednesday 14 January 2026 at 10:30 UK time",
		"198.51.100", "works once, for 15 minutes", "10:45 UK time", "ignore this e-mail", "tell your group's admins"} {
		if !strings.Contains(body.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, body.Text)
		}
	}
	if !strings.Contains(body.HTML, req().GetLinkUrl()) {
		t.Errorf("HTML lacks the link:\n%s", body.HTML)
	}

	// Not stored: no row of any of the service's tables holds the secret.
	rows, err := r.db.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'notification' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if rows.Err() != nil || len(tables) == 0 {
		t.Fatalf("tables %v: %v", tables, rows.Err())
	}
	for _, table := range tables {
		var n int
		if err := r.db.QueryRow(ctx, `SELECT count(*) FROM notification.`+table+` AS row WHERE row::text LIKE '%`+secret+`%'`).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if n > 0 {
			t.Errorf("%d rows of notification.%s hold the secret", n, table)
		}
	}
}

// TestSendClientSignInLinks: intake's call is e-mailed at once, one
// message with every case's link and reference, and no table of the
// notification schema holds a link afterwards; every other caller, the
// directory included, is refused and sends nothing.
func TestSendClientSignInLinks(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	r := startNotification(t, options{smtpAddr: mailpit.SMTPAddr})
	ctx := context.Background()
	const secret1, secret2 = "canary-client-link-one-p3x8", "canary-client-link-two-w5j1"
	const email = "sam@client.example.net"
	req := &notificationv1.SendClientSignInLinksRequest{
		Group:            "groups/riverside",
		GroupDisplayName: groupDisplayName,
		Email:            email,
		Links: []*notificationv1.ClientSignInLink{
			{Reference: "K7QM-3XRD", LinkUrl: "https://disputes.example.org/riverside/link/" + secret1},
			{Reference: "B2CD-9FGH", LinkUrl: "https://disputes.example.org/riverside/link/" + secret2},
		},
		RequestTime: timestamppb.New(time.Date(2026, 1, 14, 10, 30, 0, 0, time.UTC)),
		ExpireTime:  timestamppb.New(time.Date(2026, 1, 14, 10, 45, 0, 0, time.UTC)),
	}
	for _, c := range []struct {
		name   string
		secret string
		want   codes.Code
	}{
		{"no credentials", "", codes.Unauthenticated},
		{"the directory", auth.ServiceToken("directory", directorySecret), codes.PermissionDenied},
		{"an admin", adminToken, codes.PermissionDenied},
		{"the operator", operatorToken, codes.PermissionDenied},
	} {
		if _, err := r.client(t, c.secret).SendClientSignInLinks(ctx, req); status.Code(err) != c.want {
			t.Errorf("%s: %v; want %v", c.name, err, c.want)
		}
	}
	if _, err := r.client(t, auth.ServiceToken("intake", intakeSecret)).SendClientSignInLinks(ctx, req); err != nil {
		t.Fatalf("SendClientSignInLinks as intake: %v", err)
	}
	msgs := received(t, mailpit)
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0].Address != email {
		t.Fatalf("messages %+v; want intake's one, to %s", msgs, email)
	}
	body, err := mailpit.Body(ctx, msgs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Reference K7QM-3XRD", req.Links[0].LinkUrl, "Reference B2CD-9FGH", req.Links[1].LinkUrl,
		email, "Wednesday 14 January 2026 at 10:30 UK time", "10:45 UK time"} {
		if !strings.Contains(body.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, body.Text)
		}
	}
	var n int
	err = r.db.QueryRow(ctx, `
		SELECT count(*) FROM information_schema.tables t
		WHERE t.table_schema = 'notification' AND t.table_type = 'BASE TABLE'
		  AND (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM notification.%I AS r WHERE r::text LIKE %L OR r::text LIKE %L',
		       t.table_name, '%'||$1||'%', '%'||$2||'%'), false, true, '')))[1]::text::int > 0`, secret1, secret2).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		t.Errorf("%d tables of the notification schema hold a link's secret", n)
	}
}
