package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/testenv"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newStore(t *testing.T) (*Store, *pgxpool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := postgres.Open(ctx, testenv.Database(t), "intake", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &Store{Pool: pool, Namespace: testenv.Namespace(t), Keys: testKeys(t), Emails: testEmailKeys(t)}, pool
}

// testEmailKeys are access code keys of one fresh key, which hash clients'
// e-mail addresses.
func testEmailKeys(t *testing.T) *accesscode.Keys {
	t.Helper()
	setting, err := sealed.NewKeySetting("test")
	if err != nil {
		t.Fatal(err)
	}
	k, err := accesscode.ParseKeys(setting, "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testKeys is a keyring of one fresh key.
func testKeys(t *testing.T) *sealed.Keyring {
	t.Helper()
	k, err := sealed.FromConfig(testenv.EncryptionKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sampleConcern(reference string) concern.Concern {
	return concern.Concern{
		ID:    uuid.NewString(),
		Group: "groups/riverside",
		Draft: concern.Draft{
			Practitioner:   "groups/riverside/members/alex-moss",
			Description:    "Sessions were cancelled at short notice several times.",
			DesiredOutcome: "Notice of changes, and an apology.",
			ClientName:     "Sam",
			Contact:        concern.Contact{Email: "sam@example.org", Phone: "+44 20 7946 0000"},
		},
		Reference:  reference,
		CreateTime: time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC),
	}
}

type rowCounts struct{ concerns, outbox int }

func countRows(t *testing.T, pool *pgxpool.Pool) rowCounts {
	t.Helper()
	var n rowCounts
	err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM concerns), (SELECT count(*) FROM outbox)`).Scan(&n.concerns, &n.outbox)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateWritesConcernAndEventTogether(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	c := sampleConcern("K7QM-3XRD")
	if err := s.Create(ctx, c, "$argon2id$hash", ""); err != nil {
		t.Fatal(err)
	}
	if got := countRows(t, pool); got != (rowCounts{concerns: 1, outbox: 1}) {
		t.Fatalf("rows = %+v; want one concern and one outbox row", got)
	}

	var groupID, hash string
	if err := pool.QueryRow(ctx, `SELECT group_id, access_code_hash FROM concerns WHERE id = $1`, c.ID).Scan(&groupID, &hash); err != nil {
		t.Fatal(err)
	}
	if groupID != "riverside" || hash != "$argon2id$hash" {
		t.Fatalf("stored group_id %q, hash %q", groupID, hash)
	}

	var eventID, subject, eventType string
	var payload []byte
	if err := pool.QueryRow(ctx, `SELECT event_id::text, subject, event_type, payload FROM outbox`).Scan(&eventID, &subject, &eventType, &payload); err != nil {
		t.Fatal(err)
	}
	if want := s.Namespace.Subject("groups/riverside", "concern", "registered"); subject != want {
		t.Errorf("subject = %q; want %q", subject, want)
	}
	if eventType != "ipn.disputes.events.v1.ConcernRegistered" {
		t.Errorf("event type = %q", eventType)
	}
	var ev eventsv1.ConcernRegistered
	if err := proto.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.GetMetadata().GetEventId() != eventID || ev.GetMetadata().GetGroup() != "groups/riverside" || ev.GetMetadata().GetProducer() != "intake" {
		t.Errorf("metadata = %v; want event id %s, group groups/riverside, producer intake", ev.GetMetadata(), eventID)
	}
	if ev.GetConcern() != c.Name() || ev.GetPractitioner() != c.Practitioner {
		t.Errorf("event = %v", &ev)
	}
	// The reference is half of the client's sign-in: it stays out of events
	// like the client's words.
	for _, secret := range []string{c.Description, c.DesiredOutcome, c.Contact.Email, c.Contact.Phone, c.ClientName, c.Reference} {
		if strings.Contains(string(payload), secret) {
			t.Errorf("event payload carries confidential text %q", secret)
		}
	}

	got, err := s.Get(ctx, c.Group, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != c {
		t.Errorf("Get = %+v\nwant %+v", got, c)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// prepare arranges for the second Create to fail.
		prepare func(t *testing.T, s *Store, pool *pgxpool.Pool) concern.Concern
		wantErr error
	}{
		{
			name: "reference taken in the group",
			prepare: func(t *testing.T, s *Store, pool *pgxpool.Pool) concern.Concern {
				return sampleConcern("AAAA-0001")
			},
			wantErr: concern.ErrReferenceTaken,
		},
		{
			name: "event cannot be written",
			prepare: func(t *testing.T, s *Store, pool *pgxpool.Pool) concern.Concern {
				_, err := pool.Exec(context.Background(), `
					CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN RAISE EXCEPTION 'outbox refused by the test'; END; $$;
					CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox();`)
				if err != nil {
					t.Fatal(err)
				}
				return sampleConcern("AAAA-0002")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, pool := newStore(t)
			ctx := context.Background()
			if err := s.Create(ctx, sampleConcern("AAAA-0001"), "h", ""); err != nil {
				t.Fatal(err)
			}
			second := tt.prepare(t, s, pool)
			err := s.Create(ctx, second, "h", "")
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Create = %v; want failure %v", err, tt.wantErr)
			}
			if got := countRows(t, pool); got != (rowCounts{concerns: 1, outbox: 1}) {
				t.Fatalf("rows after the failed Create = %+v; want only the first concern and its event", got)
			}
			if _, err := s.Get(ctx, second.Group, second.ID); !errors.Is(err, concern.ErrNotFound) {
				t.Fatalf("Get of the failed concern = %v; want ErrNotFound", err)
			}
		})
	}
}

func TestSameReferenceInAnotherGroup(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	a := sampleConcern("AAAA-0001")
	b := sampleConcern("AAAA-0001")
	b.Group, b.Practitioner = "groups/hillside", "groups/hillside/members/jo-park"
	for _, c := range []concern.Concern{a, b} {
		if err := s.Create(ctx, c, "h", ""); err != nil {
			t.Fatalf("Create in %s: %v", c.Group, err)
		}
	}
	if got := countRows(t, pool); got != (rowCounts{concerns: 2, outbox: 2}) {
		t.Fatalf("rows = %+v; want two of each", got)
	}
}

func TestGetNotFound(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	c := sampleConcern("AAAA-0001")
	if err := s.Create(ctx, c, "h", ""); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct{ group, id string }{
		"unknown id":    {c.Group, uuid.NewString()},
		"another group": {"groups/hillside", c.ID},
	}
	for name, tt := range tests {
		if _, err := s.Get(ctx, tt.group, tt.id); !errors.Is(err, concern.ErrNotFound) {
			t.Errorf("%s: Get = %v; want ErrNotFound", name, err)
		}
	}
}

// claimRows is how many request ids are remembered, and the concern the
// given one names ("" when it is not remembered).
func claimRows(t *testing.T, pool *pgxpool.Pool, requestID string) (int, string) {
	t.Helper()
	var n int
	var concernID *string
	err := pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM create_requests),
		       (SELECT concern_id::text FROM create_requests WHERE request_id = $1)`, requestID).Scan(&n, &concernID)
	if err != nil {
		t.Fatal(err)
	}
	if concernID == nil {
		return n, ""
	}
	return n, *concernID
}

// TestCreateClaimed: the request id, the concern and its event are stored
// together or not at all, and an id claimed within the window stops a
// second concern under it.
func TestCreateClaimed(t *testing.T) {
	t.Parallel()
	const requestID = "3d9f1b2a-7c4e-4f60-9b1d-2e8a5c7f0a13"
	at := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	claim := concern.Claim{RequestID: requestID, Digest: []byte("digest"), At: at, Since: at.Add(-concern.RequestIDTTL)}
	tests := []struct {
		name string
		// prepare arranges the second CreateClaimed, of the returned
		// concern with the returned claim.
		prepare func(t *testing.T, pool *pgxpool.Pool) (concern.Concern, concern.Claim)
		// wantSecond says the second concern is stored (and the id names
		// it); otherwise CreateClaimed fails, with wantErr when set.
		wantSecond bool
		wantErr    error
		// want is the rows afterwards.
		want       rowCounts
		wantClaims int
	}{
		{
			name: "id claimed",
			prepare: func(*testing.T, *pgxpool.Pool) (concern.Concern, concern.Claim) {
				return sampleConcern("AAAA-0002"), claim
			},
			wantErr: concern.ErrRequestClaimed, want: rowCounts{concerns: 1, outbox: 1}, wantClaims: 1,
		},
		{
			name: "id claimed just inside the window",
			prepare: func(*testing.T, *pgxpool.Pool) (concern.Concern, concern.Claim) {
				later := claim
				later.At, later.Since = at.Add(concern.RequestIDTTL-time.Microsecond), at.Add(-time.Microsecond)
				return sampleConcern("AAAA-0002"), later
			},
			wantErr: concern.ErrRequestClaimed, want: rowCounts{concerns: 1, outbox: 1}, wantClaims: 1,
		},
		{
			name: "expired id claimed again",
			prepare: func(*testing.T, *pgxpool.Pool) (concern.Concern, concern.Claim) {
				later := claim
				later.At, later.Since = at.Add(concern.RequestIDTTL), at
				return sampleConcern("AAAA-0002"), later
			},
			want: rowCounts{concerns: 2, outbox: 2}, wantClaims: 1, wantSecond: true,
		},
		{
			name: "reference taken in the group",
			prepare: func(*testing.T, *pgxpool.Pool) (concern.Concern, concern.Claim) {
				other := claim
				other.RequestID = "7e2a4c6d-1b3f-4a5e-8c7d-9f0e1a2b3c4d"
				return sampleConcern("AAAA-0001"), other
			},
			wantErr: concern.ErrReferenceTaken, want: rowCounts{concerns: 1, outbox: 1}, wantClaims: 1,
		},
		{
			name: "event cannot be written",
			prepare: func(t *testing.T, pool *pgxpool.Pool) (concern.Concern, concern.Claim) {
				_, err := pool.Exec(context.Background(), `
					CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN RAISE EXCEPTION 'outbox refused by the test'; END; $$;
					CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox();`)
				if err != nil {
					t.Fatal(err)
				}
				other := claim
				other.RequestID = "7e2a4c6d-1b3f-4a5e-8c7d-9f0e1a2b3c4d"
				return sampleConcern("AAAA-0002"), other
			},
			want: rowCounts{concerns: 1, outbox: 1}, wantClaims: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, pool := newStore(t)
			ctx := context.Background()
			first := sampleConcern("AAAA-0001")
			if err := s.CreateClaimed(ctx, first, "h", "", claim); err != nil {
				t.Fatal(err)
			}
			second, secondClaim := tt.prepare(t, pool)
			err := s.CreateClaimed(ctx, second, "h", "", secondClaim)
			if (err == nil) != tt.wantSecond || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("second CreateClaimed = %v; want it stored (%v) or else %v", err, tt.wantSecond, tt.wantErr)
			}
			if got := countRows(t, pool); got != tt.want {
				t.Errorf("rows = %+v; want %+v", got, tt.want)
			}
			claims, named := claimRows(t, pool, requestID)
			want := first.ID
			if tt.wantSecond {
				want = second.ID
			}
			if claims != tt.wantClaims || named != want {
				t.Errorf("%d request ids remembered, %s naming %q; want %d, naming %q", claims, requestID, named, tt.wantClaims, want)
			}
			if _, err := s.Get(ctx, second.Group, second.ID); tt.wantSecond != (err == nil) {
				t.Errorf("Get of the second concern = %v; want it stored: %v", err, tt.wantSecond)
			}
		})
	}
}
