package concern_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/ipnmediation/disputes/services/intake/internal/store"
	"github.com/ipnmediation/disputes/services/intake/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var start = time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)

type directory struct{}

func (directory) Group(context.Context, string) (concern.GroupFacts, bool, error) {
	return concern.GroupFacts{LinkGroups: concern.RequiredLinkGroups}, true, nil
}

func (directory) Member(context.Context, string) (concern.MemberFacts, bool, error) {
	return concern.MemberFacts{Active: true}, true, nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

type fixture struct {
	svc    *concern.Service
	store  *store.Store
	pool   *pgxpool.Pool
	clock  *clock
	log    *bytes.Buffer
	hasher *accesscode.Hashing
}

// newFixture is a concern.Service on its own database, with a limit of
// three concerns per hour per address.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := postgres.Open(ctx, testenv.Database(t), "intake", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	keys, err := sealed.FromConfig(testenv.EncryptionKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	setting, err := sealed.NewKeySetting("test")
	if err != nil {
		t.Fatal(err)
	}
	codeKeys, err := accesscode.ParseKeys(setting, "")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: &store.Store{Pool: pool, Namespace: testenv.Namespace(t), Keys: keys, Emails: codeKeys}, pool: pool, clock: &clock{now: start},
		log: &bytes.Buffer{}, hasher: accesscode.NewHashing(codeKeys, 1, time.Minute)}
	f.svc = &concern.Service{
		Store:        f.store,
		Directory:    directory{},
		AddressLimit: &limit.Limiter{Store: f.store, Rule: limit.Rule{Bucket: "concern", Max: 3, Window: time.Hour}},
		Hasher:       f.hasher,
		Log:          slog.New(slog.NewJSONHandler(f.log, nil)),
		Now:          f.clock.Now,
	}
	return f
}

// counts is how many concerns and outbox events the database holds.
func (f *fixture) counts(t *testing.T) (concerns, events int) {
	t.Helper()
	err := f.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM concerns), (SELECT count(*) FROM outbox)`).Scan(&concerns, &events)
	if err != nil {
		t.Fatal(err)
	}
	return concerns, events
}

func submission(requestID string) concern.Submission {
	return concern.Submission{
		Parent: "groups/riverside",
		Draft: concern.Draft{
			Practitioner:   "groups/riverside/members/alex-moss",
			Description:    "Sessions were cancelled at short notice.",
			DesiredOutcome: "An apology,\nand notice next time.",
			ClientName:     "Sam",
			Contact:        concern.Contact{Email: "sam@example.org"},
		},
		RequestID: requestID,
		Source:    "203.0.113.9/32",
	}
}

func wantFault(t *testing.T, err error, kind fault.Kind, reason string) *fault.Error {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != kind || fe.Reason != reason {
		t.Fatalf("error = %v; want a %v fault with reason %s", err, kind, reason)
	}
	return fe
}

func TestSubmitHoneypot(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sub := submission("")
	sub.Honeypot = "http://spam.example"
	got, err := f.svc.Submit(context.Background(), sub)
	if err != nil {
		t.Fatalf("Submit with the honeypot filled in: %v", err)
	}
	if got.Reference == "" || got.AccessCode == "" || got.ID == "" || got.Repeated {
		t.Errorf("answer %+v does not look like a registration", got)
	}
	if c, e := f.counts(t); c != 0 || e != 0 {
		t.Errorf("%d concerns and %d events after a honeypot submission; want none", c, e)
	}
	if _, err := f.svc.Get(testenvCasework(), got.Name()); !fault.IsKind(err, fault.NotFound) {
		t.Errorf("Get(decoy) = %v; want NOT_FOUND", err)
	}
	// The decoy's reference and code open nothing.
	sessions := &session.Service{Store: f.store, Hasher: f.hasher, Now: f.clock.Now}
	if _, err := sessions.Create(context.Background(), got.Reference, got.AccessCode); !fault.IsKind(err, fault.Unauthenticated) {
		t.Errorf("signing in with the decoy = %v; want UNAUTHENTICATED", err)
	}
	for _, secret := range []string{sub.Honeypot, sub.Draft.Description, sub.Draft.Contact.Email, got.Reference, got.AccessCode} {
		if bytes.Contains(f.log.Bytes(), []byte(secret)) {
			t.Errorf("the log holds %q: %s", secret, f.log)
		}
	}
	if !bytes.Contains(f.log.Bytes(), []byte("honeypot")) {
		t.Errorf("the honeypot was not logged: %q", f.log)
	}
}

func TestSubmitIdempotent(t *testing.T) {
	t.Parallel()
	const id = "0b7e8c4e-6a4e-4c55-9a61-3f3b0d1d9a01"
	tests := []struct {
		name string
		// edit changes the repeat; nil repeats it unchanged.
		edit       func(*concern.Submission)
		after      time.Duration
		wantReason string // "" for a repeat answered with the first concern
		wantNew    bool   // a second concern, the id having expired
	}{
		{name: "unchanged repeat", edit: nil},
		{name: "repeat with whitespace the form adds", edit: func(s *concern.Submission) { s.Draft.ClientName = " Sam " }},
		{name: "repeat from another address", edit: func(s *concern.Submission) { s.Source = "198.51.100.2/32" }},
		{name: "repeat a day later registers anew", after: concern.RequestIDTTL, wantNew: true},
		{name: "repeat with whitespace around the desired outcome", edit: func(s *concern.Submission) { s.Draft.DesiredOutcome = "\n" + s.Draft.DesiredOutcome + "  " }},
		{name: "other description", edit: func(s *concern.Submission) { s.Draft.Description = "Something else." }, wantReason: "REQUEST_ID_REUSED"},
		{name: "other desired outcome", edit: func(s *concern.Submission) { s.Draft.DesiredOutcome = "An apology." }, wantReason: "REQUEST_ID_REUSED"},
		{name: "desired outcome left out", edit: func(s *concern.Submission) { s.Draft.DesiredOutcome = "" }, wantReason: "REQUEST_ID_REUSED"},
		{name: "other group", edit: func(s *concern.Submission) {
			s.Parent = "groups/hillside"
			s.Draft.Practitioner = "groups/hillside/members/alex-moss"
		}, wantReason: "REQUEST_ID_REUSED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			first, err := f.svc.Submit(ctx, submission(id))
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Set(start.Add(tt.after))
			sub := submission(id)
			if tt.edit != nil {
				tt.edit(&sub)
			}
			again, err := f.svc.Submit(ctx, sub)
			concerns, events := f.counts(t)
			switch {
			case tt.wantReason != "":
				wantFault(t, err, fault.AlreadyExists, tt.wantReason)
				if concerns != 1 || events != 1 {
					t.Errorf("%d concerns, %d events; want 1 and 1", concerns, events)
				}
			case tt.wantNew:
				if err != nil || again.Repeated || again.ID == first.ID || concerns != 2 {
					t.Errorf("late repeat = %+v, %v with %d concerns; want a second concern", again, err, concerns)
				}
			default:
				if err != nil {
					t.Fatalf("repeat: %v", err)
				}
				if !again.Repeated || again.AccessCode == "" || again.AccessCode != first.AccessCode || again.Name() != first.Name() ||
					again.Reference != first.Reference || !again.CreateTime.Equal(first.CreateTime) || again.DesiredOutcome != first.DesiredOutcome {
					t.Errorf("repeat = %+v; want the first concern %s %s with its code", again, first.Name(), first.Reference)
				}
				if concerns != 1 || events != 1 {
					t.Errorf("%d concerns, %d events; want 1 and 1", concerns, events)
				}
			}
		})
	}
}

func TestSubmitConcurrentRepeats(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.svc.AddressLimit = nil
	const id = "4a1c2f0e-0b2d-4d7e-8a3c-5e6f7a8b9c0d"
	const n = 8
	results := make([]concern.Registered, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = f.svc.Submit(context.Background(), submission(id)) })
	}
	wg.Wait()
	names, codes := map[string]bool{}, map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Submit #%d: %v", i, errs[i])
		}
		names[results[i].Name()] = true
		codes[results[i].AccessCode] = true
	}
	if concerns, events := f.counts(t); concerns != 1 || events != 1 || len(names) != 1 || len(codes) != 1 || codes[""] {
		t.Errorf("%d concerns, %d events, %d names and access codes %v; want one of each, in every answer", concerns, events, len(names), codes)
	}
}

// TestSubmitUnderAnEarlierClaim: a request id claimed without its concern
// (an earlier release claimed ids in a transaction of their own, and may
// have stopped before registering) is registered under the claimed id, once.
func TestSubmitUnderAnEarlierClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const id = "c2d4e6f8-0a1b-4c3d-8e5f-6a7b8c9d0e1f"
	first, err := f.svc.Submit(ctx, submission(id))
	if err != nil {
		t.Fatal(err)
	}
	// Leave the claim as such a release would have: naming a concern
	// that was never stored.
	if _, err := f.pool.Exec(ctx, `DELETE FROM concerns; DELETE FROM outbox`); err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.Submit(ctx, submission(id))
	if err != nil || again.Repeated || again.ID != first.ID || again.AccessCode == "" {
		t.Fatalf("Submit = %+v, %v; want a new registration under the claimed id %s", again, err, first.ID)
	}
	third, err := f.svc.Submit(ctx, submission(id))
	if err != nil || !third.Repeated || third.ID != first.ID || third.AccessCode != again.AccessCode {
		t.Fatalf("repeat = %+v, %v; want the concern registered under the claim, with its code", third, err)
	}
	if concerns, events := f.counts(t); concerns != 1 || events != 1 {
		t.Errorf("%d concerns, %d events; want 1 and 1", concerns, events)
	}
}

func TestSubmitAddressLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	other := submission("")
	other.Source = "198.51.100.2/32"
	steps := []struct {
		name      string
		at        time.Duration
		sub       concern.Submission
		wantRetry time.Duration // from start; 0 for allowed
		honeypot  bool
	}{
		{name: "first", at: 0, sub: submission("")},
		{name: "second", at: 10 * time.Minute, sub: submission("")},
		{name: "a bot's counts too", at: 20 * time.Minute, sub: submission(""), honeypot: true},
		{name: "fourth refused", at: 30 * time.Minute, sub: submission(""), wantRetry: time.Hour},
		{name: "another address is not", at: 30 * time.Minute, sub: other},
		{name: "unknown address is not limited", at: 30 * time.Minute, sub: concern.Submission{Parent: "groups/riverside", Draft: submission("").Draft}},
		{name: "still refused just before the first ages out", at: time.Hour - time.Second, sub: submission(""), wantRetry: time.Hour},
		{name: "allowed once it has", at: time.Hour, sub: submission("")},
		{name: "refused again until the second ages out", at: time.Hour, sub: submission(""), wantRetry: 70 * time.Minute},
	}
	for _, s := range steps {
		f.clock.Set(start.Add(s.at))
		if s.honeypot {
			s.sub.Honeypot = "x"
		}
		_, err := f.svc.Submit(ctx, s.sub)
		if s.wantRetry == 0 {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		fe := wantFault(t, err, fault.ResourceExhausted, "TOO_MANY_CONCERNS")
		retry := start.Add(s.wantRetry).Format(time.RFC3339)
		if fe.Metadata["retryTime"] != retry || !bytes.Contains([]byte(fe.Message), []byte(retry)) ||
			fe.RetryDelay != s.wantRetry-s.at {
			t.Errorf("%s: refusal %+v; want retry at %s, in %v", s.name, fe, retry, s.wantRetry-s.at)
		}
	}
}

func testenvCasework() context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Kind: auth.Service, Service: "casework"})
}
