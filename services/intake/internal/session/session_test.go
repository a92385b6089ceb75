package session_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"github.com/ipnmediation/disputes/services/intake/internal/store"
	"github.com/ipnmediation/disputes/services/intake/migrations"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	start    = time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	casework = auth.Principal{Kind: auth.Service, Service: "casework"}
	tokenRE  = regexp.MustCompile(`^ipncs_[a-z2-7]{16}_[a-z2-7]{52}$`)
)

// clock is a settable time, safe for parallel subtests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

type fixture struct {
	svc   *session.Service
	store *store.Store
	clock *clock
	// oldKeys hashes under the key "old", which the service still holds
	// but no longer hashes with ("new" does).
	oldKeys *accesscode.Keys
}

// newFixture is a session.Service on its own fresh database.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := postgres.Open(ctx, testenv.Database(t), "intake", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	f := &fixture{store: &store.Store{Pool: pool, Namespace: testenv.Namespace(t), Keys: sessionKeys(t)}, clock: &clock{now: start}}
	oldSetting, newSetting := keySetting(t, "old"), keySetting(t, "new")
	if f.oldKeys, err = accesscode.ParseKeys(oldSetting, ""); err != nil {
		t.Fatal(err)
	}
	keys, err := accesscode.ParseKeys(oldSetting+","+newSetting, "new")
	if err != nil {
		t.Fatal(err)
	}
	f.store.Emails = keys
	f.svc = &session.Service{Store: f.store, TTL: time.Hour, Hasher: accesscode.NewHashing(keys, 2, time.Minute), Now: f.clock.Now}
	return f
}

// keySetting returns a fresh ACCESS_CODE_KEYS entry for id.
func keySetting(t *testing.T, id string) string {
	t.Helper()
	s, err := sealed.NewKeySetting(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// legacyCode and legacyCodeHash are a code and the argon2id hash intake
// wrote for it before keyed hashing (the same pair as package accesscode's
// tests).
const (
	legacyCode     = "0123-4567-89AB-CDEF-GHJK-MNPQ-R0"
	legacyCodeHash = "$argon2id$v=19$m=19456,t=2,p=1$36/two43MkDEfBt9oEtGHg$fodr3MUno8phHgwOCnetiIrpZZq5uK2LtVtud2TZoT0"
)

// registered is a stored concern with the access code its client holds.
type registered struct {
	concern.Concern
	code string
}

// addConcern stores a concern in group (groups/{g}) with a fresh access
// code hashed under the current key; reference "" picks a fresh one.
func (f *fixture) addConcern(t *testing.T, group, reference string) registered {
	t.Helper()
	code, err := accesscode.NewAccessCode()
	if err != nil {
		t.Fatal(err)
	}
	hash, err := f.svc.Hasher.Hash(code)
	if err != nil {
		t.Fatal(err)
	}
	return f.addConcernHashed(t, group, reference, code, hash)
}

// addConcernHashed stores a concern whose access code is code, hashed as
// hash.
func (f *fixture) addConcernHashed(t *testing.T, group, reference, code, hash string) registered {
	t.Helper()
	var err error
	if reference == "" {
		if reference, err = accesscode.NewReference(); err != nil {
			t.Fatal(err)
		}
	}
	c := concern.Concern{
		ID:    uuid.NewString(),
		Group: group,
		Draft: concern.Draft{
			Practitioner: group + "/members/alex-moss",
			Description:  "Sessions were cancelled at short notice.",
			ClientName:   "Sam",
			Contact:      concern.Contact{Email: "sam@example.org"},
		},
		Reference:  reference,
		CreateTime: start,
	}
	if err := f.store.Create(context.Background(), c, hash, ""); err != nil {
		t.Fatal(err)
	}
	return registered{Concern: c, code: code}
}

// wantFault fails unless err is a fault of the given kind and reason, and
// returns it.
func wantFault(t *testing.T, err error, kind fault.Kind, reason string) *fault.Error {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Kind != kind || fe.Reason != reason {
		t.Fatalf("error = %v; want a %v fault with reason %s", err, kind, reason)
	}
	return fe
}

func asService(name string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Kind: auth.Service, Service: name})
}

func TestCreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.addConcern(t, "groups/riverside", "")
	other := f.addConcern(t, "groups/riverside", "")
	const unknownRef = "ZZZZ-ZZZZ" // fresh references are random: 2^-40 to collide

	// The refusal every wrong attempt must look like, whatever was wrong.
	_, err := f.svc.Create(context.Background(), r.Reference, other.code)
	refusal := wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE")

	plain := strings.ReplaceAll(r.code, "-", "")
	tests := []struct {
		name            string
		reference, code string
		// wantFields, when set, are the InvalidArgument violations.
		wantFields []string
		wantOK     bool
	}{
		{name: "as issued", reference: r.Reference, code: r.code, wantOK: true},
		{name: "lowercase without dashes", reference: strings.ToLower(strings.ReplaceAll(r.Reference, "-", "")), code: strings.ToLower(plain), wantOK: true},
		{name: "spaces instead of dashes", reference: " " + strings.ReplaceAll(r.Reference, "-", " "), code: strings.ReplaceAll(r.code, "-", " ") + " ", wantOK: true},
		{name: "lowercase, dashes in odd places", reference: strings.ToLower(r.Reference), code: strings.ToLower(plain[:3] + "-" + plain[3:]), wantOK: true},
		{name: "another concern's code", reference: r.Reference, code: other.code},
		{name: "unknown reference", reference: unknownRef, code: r.code},
		{name: "malformed code", reference: r.Reference, code: r.code[:10]},
		{name: "malformed reference", reference: "not-a-ref", code: r.code},
		{name: "reference from another alphabet", reference: strings.Replace(r.Reference, r.Reference[:1], "U", 1), code: r.code},
		{name: "missing reference", reference: "", code: r.code, wantFields: []string{"reference"}},
		{name: "blank code", reference: r.Reference, code: "  ", wantFields: []string{"access_code"}},
		{name: "both missing", wantFields: []string{"reference", "access_code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.svc.Create(context.Background(), tt.reference, tt.code)
			switch {
			case tt.wantOK:
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				if !tokenRE.MatchString(got.Token) {
					t.Errorf("token %q is not ipncs_<16>_<52> in lowercase base32", got.Token)
				}
				if got.Concern != r.Name() || !got.ExpireTime.Equal(start.Add(time.Hour)) {
					t.Errorf("issued %+v; want concern %s expiring at %v", got, r.Name(), start.Add(time.Hour))
				}
				a, err := f.svc.Authenticate(asService("casework"), got.Token)
				if err != nil || a.Concern != r.Name() || a.Group != "groups/riverside" {
					t.Errorf("Authenticate(new token) = %+v, %v", a, err)
				}
			case tt.wantFields != nil:
				fe := wantFault(t, err, fault.InvalidArgument, "INVALID_FIELDS")
				var fields []string
				for _, v := range fe.Violations {
					fields = append(fields, v.Field)
				}
				if strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
					t.Errorf("violations on %v; want %v", fields, tt.wantFields)
				}
			default:
				fe := wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE")
				if fe.Message != refusal.Message || len(fe.Metadata) != 0 || fe.Cause != nil {
					t.Errorf("refusal %+v differs from the one for a wrong code %+v", fe, refusal)
				}
			}
			if err != nil {
				for _, secret := range []string{r.code, plain, other.code, r.Reference} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q repeats what the client typed", err)
					}
				}
			}
		})
	}
}

func TestCreateAfterHandOver(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.addConcern(t, "groups/riverside", "")
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, f.store.Pool, func(tx pgx.Tx) error { return f.store.HandOver(ctx, tx, r.Name(), start) })
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Create(ctx, r.Reference, r.code)
	if err != nil {
		t.Fatalf("Create after the hand-over: %v", err)
	}
	if got.Concern != r.Name() {
		t.Errorf("session for %s; want %s", got.Concern, r.Name())
	}
}

func TestSameReferenceInTwoGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.addConcern(t, "groups/riverside", "K7QM-3XRD")
	b := f.addConcern(t, "groups/hillside", "K7QM-3XRD")
	for _, r := range []registered{a, b} {
		got, err := f.svc.Create(context.Background(), "k7qm3xrd", r.code)
		if err != nil {
			t.Fatalf("Create with the code of %s: %v", r.Group, err)
		}
		if got.Concern != r.Name() {
			t.Errorf("the code of %s opened %s", r.Name(), got.Concern)
		}
	}
}

// TestFailedAttemptLimit: after ten wrong codes within fifteen minutes a
// reference is locked, the right code included, until the oldest wrong one
// is fifteen minutes old; an unknown reference is locked just the same.
func TestFailedAttemptLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	r := f.addConcern(t, "groups/riverside", "")
	wrong, err := accesscode.NewAccessCode()
	if err != nil {
		t.Fatal(err)
	}
	const unknown = "ZZZZ-ZZZZ"
	var lockouts atomic.Int32
	f.svc.LockedOut = func() { lockouts.Add(1) }

	// Both references get the same attempts at the same times, so their
	// answers must be identical.
	attempt := func(code string) (known, unknownErr error) {
		_, known = f.svc.Create(ctx, r.Reference, code)
		_, unknownErr = f.svc.Create(ctx, unknown, code)
		return known, unknownErr
	}
	sameAnswer := func(t *testing.T, a, b error) {
		t.Helper()
		fa, _ := fault.As(a)
		fb, _ := fault.As(b)
		if fa == nil || fb == nil || fa.Kind != fb.Kind || fa.Reason != fb.Reason || fa.Message != fb.Message {
			t.Fatalf("known reference answered %v; unknown reference %v; want the same", a, b)
		}
	}

	for i := range session.DefaultMaxFailures {
		f.clock.Set(start.Add(time.Duration(i) * time.Second))
		a, b := attempt(wrong)
		wantFault(t, a, fault.Unauthenticated, "INVALID_ACCESS_CODE")
		sameAnswer(t, a, b)
	}
	// The last wrong code locked both references, once each: the
	// metric counts lockouts begun, not refused attempts.
	if n := lockouts.Load(); n != 2 {
		t.Errorf("LockedOut was told of %d lockouts, want 2", n)
	}

	retry := start.Add(session.DefaultFailureWindow)
	for _, at := range []time.Time{start.Add(10 * time.Second), retry.Add(-time.Microsecond)} {
		f.clock.Set(at)
		_, err := f.svc.Create(ctx, r.Reference, r.code)
		fe := wantFault(t, err, fault.ResourceExhausted, "TOO_MANY_ATTEMPTS")
		if want := retry.Format(time.RFC3339); fe.Metadata["retryTime"] != want || !strings.Contains(fe.Message, want) {
			t.Errorf("at %v: %q, metadata %v; want it to say %s", at, fe.Message, fe.Metadata, want)
		}
		_, errUnknown := f.svc.Create(ctx, unknown, r.code)
		sameAnswer(t, err, errUnknown)
		// Wrong codes while locked do not extend the lock.
		a, b := attempt(wrong)
		wantFault(t, a, fault.ResourceExhausted, "TOO_MANY_ATTEMPTS")
		sameAnswer(t, a, b)
	}

	// The oldest wrong code has aged out: one more try is allowed.
	f.clock.Set(retry)
	if _, err := f.svc.Create(ctx, r.Reference, r.code); err != nil {
		t.Fatalf("Create with the right code once the lock has lifted: %v", err)
	}
	// A success forgets the reference's wrong attempts.
	for range session.DefaultMaxFailures - 1 {
		_, err := f.svc.Create(ctx, r.Reference, wrong)
		wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE")
	}
	if _, err := f.svc.Create(ctx, r.Reference, r.code); err != nil {
		t.Fatalf("Create after a success and nine wrong codes: %v", err)
	}
	if n := lockouts.Load(); n != 2 {
		t.Errorf("LockedOut was told of %d lockouts in all, want 2: attempts while locked, and fewer wrong codes than the limit, lock nothing", n)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	r := f.addConcern(t, "groups/riverside", "")
	issued, err := f.svc.Create(ctx, r.Reference, r.code)
	if err != nil {
		t.Fatal(err)
	}
	expire := start.Add(time.Hour)
	id, secret, _ := strings.Cut(strings.TrimPrefix(issued.Token, auth.ClientSessionPrefix), "_")
	otherSecret := strings.Repeat("a", len(secret))

	tests := []struct {
		name   string
		caller auth.Principal
		token  string
		at     time.Time
		// wantReason is the refusal; empty means accepted, with wantTTL.
		wantKind   fault.Kind
		wantReason string
		wantTTL    time.Duration
	}{
		{name: "casework", caller: casework, token: issued.Token, at: start, wantTTL: session.AuthCacheTTL},
		{name: "any service", caller: auth.Principal{Kind: auth.Service, Service: "notification"}, token: issued.Token, at: start, wantTTL: session.AuthCacheTTL},
		{name: "shortly before the end, the cache TTL stops at it", caller: casework, token: issued.Token, at: expire.Add(-4 * time.Second), wantTTL: 4 * time.Second},
		{name: "member", caller: auth.Principal{Kind: auth.Member, Member: "groups/riverside/members/alex-moss", Group: "groups/riverside"},
			token: issued.Token, at: start, wantKind: fault.PermissionDenied, wantReason: "SERVICE_ONLY"},
		{name: "anonymous", token: issued.Token, at: start, wantKind: fault.PermissionDenied, wantReason: "SERVICE_ONLY"},
		{name: "the client itself", caller: auth.Principal{Kind: auth.Client, Concern: r.Name(), Group: r.Group},
			token: issued.Token, at: start, wantKind: fault.PermissionDenied, wantReason: "SERVICE_ONLY"},
		{name: "expired", caller: casework, token: issued.Token, at: expire, wantKind: fault.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
		{name: "wrong secret", caller: casework, token: auth.ClientSessionPrefix + id + "_" + otherSecret, at: start, wantKind: fault.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
		{name: "unknown id", caller: casework, token: auth.ClientSessionPrefix + strings.Repeat("b", len(id)) + "_" + secret, at: start, wantKind: fault.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
		{name: "uppercase", caller: casework, token: strings.ToUpper(issued.Token), at: start, wantKind: fault.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
		{name: "malformed", caller: casework, token: "ipncs_x", at: start, wantKind: fault.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
		{name: "empty", caller: casework, at: start, wantKind: fault.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := *f.svc
			svc.Now = func() time.Time { return tt.at }
			got, err := svc.Authenticate(auth.WithPrincipal(ctx, tt.caller), tt.token)
			if tt.wantReason != "" {
				fe := wantFault(t, err, tt.wantKind, tt.wantReason)
				if strings.Contains(fe.Error(), secret) {
					t.Errorf("error %q repeats the token", fe)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			want := session.Authentication{Concern: r.Name(), Group: "groups/riverside", ExpireTime: expire, CacheTTL: tt.wantTTL}
			if got != want {
				t.Errorf("Authenticate = %+v; want %+v", got, want)
			}
		})
	}
}

// TestEnd: a client signing out ends the session its token stands for,
// and no other; an ended or expired session cannot be ended again, and
// nobody but the client may end one.
func TestEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	r := f.addConcern(t, "groups/riverside", "")
	bystander := f.addConcern(t, "groups/riverside", "")
	ending, err := f.svc.Create(ctx, r.Reference, r.code)
	if err != nil {
		t.Fatal(err)
	}
	staying, err := f.svc.Create(ctx, r.Reference, r.code)
	if err != nil {
		t.Fatal(err)
	}
	bystanderSession, err := f.svc.Create(ctx, bystander.Reference, bystander.code)
	if err != nil {
		t.Fatal(err)
	}
	client := auth.Principal{Kind: auth.Client, Concern: r.Name(), Group: r.Group}
	clients := session.Clients{Sessions: f.svc}

	if p, err := clients.Authenticate(ctx, ending.Token); err != nil || p != client {
		t.Fatalf("Clients.Authenticate = %+v, %v; want %+v", p, err, client)
	}
	refused := []struct {
		name       string
		caller     auth.Principal
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "a service", caller: casework, wantKind: fault.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "a member", caller: auth.Principal{Kind: auth.Member, Member: "groups/riverside/members/alex-moss", Group: "groups/riverside", GroupAdmin: true},
			wantKind: fault.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "anonymous", wantKind: fault.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "another client", caller: auth.Principal{Kind: auth.Client, Concern: bystander.Name(), Group: bystander.Group},
			wantKind: fault.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
	}
	for _, tt := range refused {
		err := f.svc.End(auth.WithPrincipal(ctx, tt.caller), ending.Token)
		if fe, ok := fault.As(err); !ok || fe.Kind != tt.wantKind || fe.Reason != tt.wantReason {
			t.Errorf("%s: End = %v; want a %v fault with reason %s", tt.name, err, tt.wantKind, tt.wantReason)
		}
	}
	if _, err := f.svc.Authenticate(asService("casework"), ending.Token); err != nil {
		t.Fatalf("the session ended after refused calls: %v", err)
	}

	if err := f.svc.End(auth.WithPrincipal(ctx, client), ending.Token); err != nil {
		t.Fatalf("End: %v", err)
	}
	_, err = f.svc.Authenticate(asService("casework"), ending.Token)
	wantFault(t, err, fault.Unauthenticated, "INVALID_CLIENT_SESSION")
	_, err = clients.Authenticate(ctx, ending.Token)
	wantFault(t, err, fault.Unauthenticated, "UNAUTHENTICATED")
	err = f.svc.End(auth.WithPrincipal(ctx, client), ending.Token)
	wantFault(t, err, fault.Unauthenticated, "INVALID_CLIENT_SESSION")
	for name, token := range map[string]string{"the client's other session": staying.Token, "another client's session": bystanderSession.Token} {
		if _, err := f.svc.Authenticate(asService("casework"), token); err != nil {
			t.Errorf("%s ended too: %v", name, err)
		}
	}

	// An expired session has nothing left to end.
	late := *f.svc
	late.Now = func() time.Time { return start.Add(time.Hour) }
	err = late.End(auth.WithPrincipal(ctx, client), staying.Token)
	wantFault(t, err, fault.Unauthenticated, "INVALID_CLIENT_SESSION")
}

func TestReissueAccessCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	r := f.addConcern(t, "groups/riverside", "")
	bystander := f.addConcern(t, "groups/riverside", "")
	oldSession, err := f.svc.Create(ctx, r.Reference, r.code)
	if err != nil {
		t.Fatal(err)
	}
	bystanderSession, err := f.svc.Create(ctx, bystander.Reference, bystander.code)
	if err != nil {
		t.Fatal(err)
	}

	refused := []struct {
		name       string
		caller     auth.Principal
		concern    string
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "notification", caller: auth.Principal{Kind: auth.Service, Service: "notification"}, concern: r.Name(), wantKind: fault.PermissionDenied, wantReason: "SERVICE_ONLY"},
		{name: "member", caller: auth.Principal{Kind: auth.Member, Member: "groups/riverside/members/alex-moss", Group: "groups/riverside", GroupAdmin: true},
			concern: r.Name(), wantKind: fault.PermissionDenied, wantReason: "SERVICE_ONLY"},
		{name: "the client", caller: auth.Principal{Kind: auth.Client, Concern: r.Name(), Group: r.Group}, concern: r.Name(), wantKind: fault.PermissionDenied, wantReason: "SERVICE_ONLY"},
		{name: "anonymous", concern: r.Name(), wantKind: fault.PermissionDenied, wantReason: "SERVICE_ONLY"},
		{name: "unknown concern", caller: casework, concern: "groups/riverside/concerns/" + uuid.NewString(), wantKind: fault.NotFound, wantReason: "CONCERN_NOT_FOUND"},
		{name: "concern of another group", caller: casework, concern: "groups/hillside/concerns/" + r.ID, wantKind: fault.NotFound, wantReason: "CONCERN_NOT_FOUND"},
		{name: "not a concern name", caller: casework, concern: "groups/riverside/concerns/abc", wantKind: fault.NotFound, wantReason: "CONCERN_NOT_FOUND"},
	}
	for _, tt := range refused {
		_, err := f.svc.ReissueAccessCode(auth.WithPrincipal(ctx, tt.caller), tt.concern)
		if fe, ok := fault.As(err); !ok || fe.Kind != tt.wantKind || fe.Reason != tt.wantReason {
			t.Errorf("%s: ReissueAccessCode = %v; want a %v fault with reason %s", tt.name, err, tt.wantKind, tt.wantReason)
		}
	}
	// The refusals changed nothing.
	if _, err := f.svc.Authenticate(asService("casework"), oldSession.Token); err != nil {
		t.Fatalf("the session ended after refused reissues: %v", err)
	}

	got, err := f.svc.ReissueAccessCode(auth.WithPrincipal(ctx, casework), r.Name())
	if err != nil {
		t.Fatalf("ReissueAccessCode: %v", err)
	}
	if got.Reference != r.Reference {
		t.Errorf("reference %q; want it unchanged, %q", got.Reference, r.Reference)
	}
	if got.AccessCode == r.code || !regexp.MustCompile(`^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}-[0-9A-Z]{2}$`).MatchString(got.AccessCode) {
		t.Errorf("new access code %q is not a fresh code in groups of four", got.AccessCode)
	}

	_, err = f.svc.Create(ctx, r.Reference, r.code)
	wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE")
	_, err = f.svc.Authenticate(asService("casework"), oldSession.Token)
	wantFault(t, err, fault.Unauthenticated, "INVALID_CLIENT_SESSION")
	fresh, err := f.svc.Create(ctx, r.Reference, strings.ToLower(got.AccessCode))
	if err != nil {
		t.Fatalf("Create with the new code: %v", err)
	}
	if _, err := f.svc.Authenticate(asService("casework"), fresh.Token); err != nil {
		t.Errorf("session made with the new code: %v", err)
	}
	if _, err := f.svc.Authenticate(asService("casework"), bystanderSession.Token); err != nil {
		t.Errorf("another concern's session ended too: %v", err)
	}
}

// TestReissueLiftsTheLock: the SPC's new code lets a client in at once, even
// when the reference was locked by wrong codes.
func TestReissueLiftsTheLock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	r := f.addConcern(t, "groups/riverside", "")
	f.svc.MaxFailures = 2
	for range 2 {
		_, err := f.svc.Create(ctx, r.Reference, "0000-0000-0000-0000-0000-0000-00")
		wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE")
	}
	_, err := f.svc.Create(ctx, r.Reference, r.code)
	wantFault(t, err, fault.ResourceExhausted, "TOO_MANY_ATTEMPTS")
	got, err := f.svc.ReissueAccessCode(auth.WithPrincipal(ctx, casework), r.Name())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, r.Reference, got.AccessCode); err != nil {
		t.Fatalf("Create with the reissued code: %v", err)
	}
}

func sessionKeys(t *testing.T) *sealed.Keyring {
	t.Helper()
	k, err := sealed.FromConfig(testenv.EncryptionKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRehash: a code that opens its case under an argon2id hash or an older
// key gets a keyed hash under the current key in the same transaction as
// the session, and opens the case again with it; a wrong code, or a hash
// already current, changes nothing.
func TestRehash(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// hash makes the stored hash of code.
		hash       func(f *fixture, code string) (string, error)
		code       string
		wantRehash bool
	}{
		{name: "argon2id", code: legacyCode, hash: func(*fixture, string) (string, error) { return legacyCodeHash, nil }, wantRehash: true},
		{name: "older key", hash: func(f *fixture, code string) (string, error) { return f.oldKeys.Hash(code) }, wantRehash: true},
		{name: "current key", hash: func(f *fixture, code string) (string, error) { return f.svc.Hasher.Hash(code) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			code := tt.code
			if code == "" {
				code, _ = accesscode.NewAccessCode()
			}
			hash, err := tt.hash(f, code)
			if err != nil {
				t.Fatal(err)
			}
			r := f.addConcernHashed(t, "groups/riverside", "", code, hash)
			storedHash := func() string {
				t.Helper()
				var h string
				if err := f.store.Pool.QueryRow(ctx, `SELECT access_code_hash FROM concerns WHERE id = $1`, r.ID).Scan(&h); err != nil {
					t.Fatal(err)
				}
				return h
			}

			wrong, _ := accesscode.NewAccessCode()
			_, err = f.svc.Create(ctx, r.Reference, wrong)
			wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE")
			if got := storedHash(); got != hash {
				t.Fatalf("a wrong code changed the hash to %q", got)
			}

			if _, err := f.svc.Create(ctx, r.Reference, strings.ToLower(code)); err != nil {
				t.Fatalf("Create with the right code: %v", err)
			}
			got := storedHash()
			if !tt.wantRehash {
				if got != hash {
					t.Fatalf("a current hash was replaced: %q, was %q", got, hash)
				}
				return
			}
			if !strings.HasPrefix(got, "$hmac-sha256$new$") {
				t.Fatalf("after the sign-in the hash is %q; want one under the current key", got)
			}
			if ok, current, err := f.svc.Hasher.Verify(code, got); err != nil || !ok || !current {
				t.Fatalf("the new hash does not verify the code: %v, %v, %v", ok, current, err)
			}
			if _, err := f.svc.Create(ctx, r.Reference, code); err != nil {
				t.Fatalf("Create again with the rehashed code: %v", err)
			}
		})
	}
}

// TestRehashKeepsAReissuedCode: the rehash replaces only the hash that was
// checked, so a code reissued between the check and the session keeps its
// own.
func TestRehashKeepsAReissuedCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	r := f.addConcernHashed(t, "groups/riverside", "", legacyCode, legacyCodeHash)
	reissued, err := f.svc.ReissueAccessCode(auth.WithPrincipal(ctx, casework), r.Name())
	if err != nil {
		t.Fatal(err)
	}
	rehashed, err := f.svc.Hasher.Hash(legacyCode)
	if err != nil {
		t.Fatal(err)
	}
	sess := session.Session{ID: "aaaaaaaaaaaaaaaa", ConcernID: r.ID, SecretSHA256: make([]byte, 32), CreateTime: start, ExpireTime: start.Add(time.Hour)}
	if err := f.store.CreateSession(ctx, sess, session.Rehash{Old: legacyCodeHash, New: rehashed}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, r.Reference, reissued.AccessCode); err != nil {
		t.Fatalf("the reissued code no longer opens the case: %v", err)
	}
	_, err = f.svc.Create(ctx, r.Reference, legacyCode)
	wantFault(t, err, fault.Unauthenticated, "INVALID_ACCESS_CODE")
}

// TestHashUnderARemovedKey: a hash under a key taken out of ACCESS_CODE_KEYS
// cannot be checked. That is the operator's mistake, so it is an error
// (logged, INTERNAL), not a refusal the client would take for a typo.
func TestHashUnderARemovedKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gone, err := accesscode.ParseKeys(keySetting(t, "gone"), "")
	if err != nil {
		t.Fatal(err)
	}
	code, _ := accesscode.NewAccessCode()
	hash, err := gone.Hash(code)
	if err != nil {
		t.Fatal(err)
	}
	r := f.addConcernHashed(t, "groups/riverside", "", code, hash)
	_, err = f.svc.Create(context.Background(), r.Reference, code)
	if !errors.Is(err, accesscode.ErrUnknownKey) {
		t.Fatalf("Create = %v; want ErrUnknownKey", err)
	}
	if _, ok := fault.As(err); ok {
		t.Fatalf("Create = %v; want an error, not a fault the caller sees", err)
	}
}
