package session_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/jackc/pgx/v5"
)

// mailbox is a session.LinkMailer that keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	sent []session.LinkMail
	err  error
}

func (m *mailbox) SendClientSignInLinks(_ context.Context, l session.LinkMail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, l)
	return m.err
}

func (m *mailbox) take() []session.LinkMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sent
	m.sent = nil
	return out
}

type groupNames map[string]string

func (g groupNames) GroupName(_ context.Context, group string) (string, error) {
	if n, ok := g[group]; ok {
		return n, nil
	}
	return "", errors.New("no such group")
}

// linkURL is a link to the demo website's page for a link.
var linkURL = regexp.MustCompile(`^https://disputes\.example\.org/riverside/link/([a-z2-7]{52})$`)

// newLinks is the fixture's Service with clients' sign-in links: mail is
// sent before the answer, so that a test sees it at once, and at most
// perEmail requests per address and group are allowed.
func (f *fixture) newLinks(perEmail int) (*session.Links, *mailbox, *[]string) {
	mail := &mailbox{}
	var logs []string
	return &session.Links{
		Service:    f.svc,
		LinkStore:  f.store,
		Emails:     f.store.Emails,
		Groups:     groupNames{"groups/riverside": "Riverside Practitioners"},
		Mailer:     mail,
		PublicURL:  "https://disputes.example.org/",
		PerEmail:   &limit.Limiter{Store: f.store, Rule: limit.Rule{Bucket: "sign_in_link_email", Max: perEmail, Window: time.Hour}},
		PerAddress: &limit.Limiter{Store: f.store, Rule: limit.Rule{Bucket: "sign_in_link_address", Max: 100, Window: time.Hour}},
		Send:       func(f func()) { f() },
		Log:        func(msg string, args ...any) { logs = append(logs, msg) },
	}, mail, &logs
}

// setCreateTime makes a stored concern older, for the order of the links.
func (f *fixture) setCreateTime(t *testing.T, r registered, at time.Time) {
	t.Helper()
	if _, err := f.store.Pool.Exec(context.Background(), `UPDATE concerns SET create_time = $2 WHERE id = $1`, r.ID, at); err != nil {
		t.Fatal(err)
	}
}

// TestClientSignInLinks: a client who gave an address gets one mail with a
// link per case in the group, newest first, under each case's reference,
// also for a case handed over to casework; an address that is no client's
// gets the same empty answer and no mail. A link gives a session of its
// case, which authenticates as the reference and code's would; it works
// once; after 15 minutes, or unknown, it is expired. Only the secrets'
// SHA-256 are stored.
func TestClientSignInLinks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	older := f.addConcern(t, "groups/riverside", "")
	newer := f.addConcern(t, "groups/riverside", "")
	elsewhere := f.addConcern(t, "groups/hillside", "")
	f.setCreateTime(t, older, start.Add(-48*time.Hour))
	f.setCreateTime(t, elsewhere, start.Add(time.Hour))
	if err := pgx.BeginFunc(ctx, f.store.Pool, func(tx pgx.Tx) error { return f.store.HandOver(ctx, tx, older.Name(), start) }); err != nil {
		t.Fatal(err)
	}
	links, mail, logs := f.newLinks(10)

	for _, email := range []string{"nobody@example.org", "sam@example.org"} {
		err := links.Request(ctx, session.LinkRequest{Group: "groups/hillside-not", Email: email, Source: "192.0.2.7/32"})
		if err != nil {
			t.Fatalf("Request in a group with no concerns: %v", err)
		}
	}
	if err := links.Request(ctx, session.LinkRequest{Group: "groups/riverside", Email: "nobody@example.org"}); err != nil {
		t.Fatalf("Request for an unknown address: %v", err)
	}
	if sent := mail.take(); len(sent) != 0 {
		t.Fatalf("%d mails for addresses that are no client's in the group; want none", len(sent))
	}

	if err := links.Request(ctx, session.LinkRequest{Group: "groups/riverside", Email: " SAM@Example.org ", Where: "a network whose addresses start 192.0.2"}); err != nil {
		t.Fatalf("Request: %v", err)
	}
	sent := mail.take()
	if len(sent) != 1 {
		t.Fatalf("%d mails; want one", len(sent))
	}
	m := sent[0]
	if m.Group != "groups/riverside" || m.GroupName != "Riverside Practitioners" || m.Email != "sam@example.org" ||
		!m.RequestTime.Equal(start) || !m.ExpireTime.Equal(start.Add(15*time.Minute)) || m.RequestedFrom != "a network whose addresses start 192.0.2" {
		t.Errorf("mail %+v", m)
	}
	if len(m.Links) != 2 || m.Links[0].Reference != newer.Reference || m.Links[1].Reference != older.Reference {
		t.Fatalf("links %+v; want the newer case's, then the older's", m.Links)
	}
	var secrets []string
	for _, l := range m.Links {
		found := linkURL.FindStringSubmatch(l.URL)
		if found == nil {
			t.Fatalf("link %q is not the website's page for a link", l.URL)
		}
		secrets = append(secrets, found[1])
	}
	for _, line := range *logs {
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("log line %q holds a secret", line)
			}
		}
	}

	// Stored as SHA-256 only.
	var n int
	if err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM client_sign_in_links WHERE secret_sha256 = $1`, sha(secrets[0])).Scan(&n); err != nil || n != 1 {
		t.Errorf("links stored under the secret's SHA-256: %d, %v; want 1", n, err)
	}
	if err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM client_sign_in_links l WHERE l::text LIKE '%' || $1 || '%'`, secrets[0]).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows holding the secret: %d, %v; want none", n, err)
	}

	// The newer case's link opens it, as the reference and code would.
	got, err := links.CreateFromLink(ctx, "", strings.ToUpper(secrets[0]))
	if err != nil {
		t.Fatalf("CreateFromLink: %v", err)
	}
	if got.Concern != newer.Name() || !tokenRE.MatchString(got.Token) || !got.ExpireTime.Equal(start.Add(time.Hour)) {
		t.Errorf("session %+v; want one of %s for an hour", got, newer.Name())
	}
	a, err := f.svc.Authenticate(asService("casework"), got.Token)
	if err != nil || a.Concern != newer.Name() || a.Group != "groups/riverside" {
		t.Errorf("Authenticate the link's session: %+v, %v", a, err)
	}
	_, err = links.CreateFromLink(ctx, "", secrets[0])
	wantFault(t, err, fault.FailedPrecondition, "SIGN_IN_LINK_USED")

	// The handed-over case's link, within its 15 minutes and after them.
	f.clock.Set(start.Add(15 * time.Minute))
	_, err = links.CreateFromLink(ctx, "", secrets[1])
	wantFault(t, err, fault.FailedPrecondition, "SIGN_IN_LINK_EXPIRED")
	f.clock.Set(start.Add(15*time.Minute - time.Microsecond))
	if got, err := links.CreateFromLink(ctx, "", secrets[1]); err != nil || got.Concern != older.Name() {
		t.Errorf("the handed-over case's link just in time: %+v, %v", got, err)
	}
	_, err = links.CreateFromLink(ctx, "", "nosuchsecretnosuchsecretnosuchsecretnosuchsecretnosu")
	wantFault(t, err, fault.FailedPrecondition, "SIGN_IN_LINK_EXPIRED")
}

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// TestClientSignInLinkRefusals: malformed requests name their field; past
// the per-address limit every request is refused alike, a client's address
// or not, and the limit's table holds the address only as its keyed hash.
func TestClientSignInLinkRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.addConcern(t, "groups/riverside", "")
	links, mail, _ := f.newLinks(2)
	for _, tt := range []struct {
		group, email, field string
	}{
		{"riverside", "sam@example.org", "group"},
		{"groups/riverside", "", "email"},
		{"groups/riverside", "Sam <sam@example.org>", "email"},
	} {
		fe := wantFault(t, links.Request(ctx, session.LinkRequest{Group: tt.group, Email: tt.email}), fault.InvalidArgument, "INVALID_FIELDS")
		if len(fe.Violations) != 1 || fe.Violations[0].Field != tt.field {
			t.Errorf("%q %q: violations %+v; want one on %s", tt.group, tt.email, fe.Violations, tt.field)
		}
	}
	for _, email := range []string{"sam@example.org", "nobody@example.org"} {
		for range 2 {
			if err := links.Request(ctx, session.LinkRequest{Group: "groups/riverside", Email: email}); err != nil {
				t.Fatalf("Request for %s within the limit: %v", email, err)
			}
		}
		err := links.Request(ctx, session.LinkRequest{Group: "groups/riverside", Email: strings.ToUpper(email)})
		wantFault(t, err, fault.ResourceExhausted, "TOO_MANY_SIGN_IN_LINKS")
	}
	if sent := mail.take(); len(sent) != 2 {
		t.Errorf("%d mails; want the two within the limit", len(sent))
	}
	var n int
	if err := f.store.Pool.QueryRow(ctx, `SELECT count(*) FROM rate_limit_events WHERE key LIKE '%@%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rate limit rows with an address in clear: %d, %v; want none", n, err)
	}
}

// TestClientSignInLinkSameAnswerTime: a request for an address that is a
// client's and one that is not both take at least MinAnswer, though the
// first stores links and the second does not.
func TestClientSignInLinkSameAnswerTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addConcern(t, "groups/riverside", "")
	links, _, _ := f.newLinks(100)
	links.MinAnswer = 80 * time.Millisecond
	for _, email := range []string{"sam@example.org", "nobody@example.org"} {
		began := time.Now()
		if err := links.Request(context.Background(), session.LinkRequest{Group: "groups/riverside", Email: email}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(began); d < links.MinAnswer {
			t.Errorf("%s answered in %v; want at least %v", email, d, links.MinAnswer)
		}
	}
}
