package concern

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
)

// testHashing is a Hashing under a fresh key.
func testHashing(t *testing.T) *accesscode.Hashing {
	t.Helper()
	setting, err := sealed.NewKeySetting("test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := accesscode.ParseKeys(setting, "")
	if err != nil {
		t.Fatal(err)
	}
	return accesscode.NewHashing(keys, 1, time.Second)
}

func validDraft() Draft {
	return Draft{
		Practitioner: "groups/riverside/members/alex-moss",
		Description:  "Sessions were cancelled at short notice.",
		ClientName:   "Sam",
		Contact:      Contact{Email: "sam@example.org"},
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		parent string
		edit   func(*Draft)
		want   map[string]bool // fields with violations
	}{
		{name: "valid with e-mail", parent: "groups/riverside", edit: func(*Draft) {}},
		{name: "valid with phone only", parent: "groups/riverside", edit: func(d *Draft) { d.Contact = Contact{Phone: "+44 (0)20 7946-0000"} }},
		{name: "blank name", parent: "groups/riverside", edit: func(d *Draft) { d.ClientName = "   " },
			want: map[string]bool{"concern.client_name": true}},
		{name: "missing description", parent: "groups/riverside", edit: func(d *Draft) { d.Description = "" },
			want: map[string]bool{"concern.description": true}},
		{name: "no contact", parent: "groups/riverside", edit: func(d *Draft) { d.Contact = Contact{} },
			want: map[string]bool{"concern.client_contact": true}},
		{name: "e-mail with display name", parent: "groups/riverside", edit: func(d *Draft) { d.Contact.Email = "Sam <sam@example.org>" },
			want: map[string]bool{"concern.client_contact.email": true}},
		{name: "e-mail without domain", parent: "groups/riverside", edit: func(d *Draft) { d.Contact.Email = "sam" },
			want: map[string]bool{"concern.client_contact.email": true}},
		{name: "phone with letters", parent: "groups/riverside", edit: func(d *Draft) { d.Contact.Phone = "020 7946 OOOO" },
			want: map[string]bool{"concern.client_contact.phone": true}},
		{name: "phone too short", parent: "groups/riverside", edit: func(d *Draft) { d.Contact.Phone = "12345" },
			want: map[string]bool{"concern.client_contact.phone": true}},
		{name: "phone too long", parent: "groups/riverside", edit: func(d *Draft) { d.Contact.Phone = strings.Repeat("1", 21) },
			want: map[string]bool{"concern.client_contact.phone": true}},
		{name: "practitioner of another group", parent: "groups/hillside", edit: func(*Draft) {},
			want: map[string]bool{"concern.practitioner": true}},
		{name: "practitioner of a group whose name starts alike", parent: "groups/river", edit: func(*Draft) {},
			want: map[string]bool{"concern.practitioner": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := validDraft()
			tt.edit(&d)
			err := Check(tt.parent, d)
			got := map[string]bool{}
			if err != nil {
				fe, ok := fault.As(err)
				if !ok || fe.Kind != fault.InvalidArgument {
					t.Fatalf("Check = %v; want an InvalidArgument fault", err)
				}
				for _, v := range fe.Violations {
					got[v.Field] = true
					if strings.Contains(v.Description, "sam@") || strings.Contains(v.Description, "7946") {
						t.Errorf("violation %q repeats the value", v.Description)
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("violations on %v; want %v", got, tt.want)
			}
			for f := range tt.want {
				if !got[f] {
					t.Fatalf("violations on %v; want %v", got, tt.want)
				}
			}
		})
	}
}

type fakeDirectory struct{}

func (fakeDirectory) Group(_ context.Context, name string) (GroupFacts, bool, error) {
	return GroupFacts{LinkGroups: 2}, name == "groups/riverside", nil
}

func (fakeDirectory) Member(context.Context, string) (MemberFacts, bool, error) {
	return MemberFacts{Active: true}, true, nil
}

// collidingStore reports the first `collisions` references as taken.
type collidingStore struct {
	collisions int
	tried      []string
	created    []Concern
	hashes     []string
	replay     []string
}

func (s *collidingStore) Create(_ context.Context, c Concern, hash, replayCode string) error {
	s.tried = append(s.tried, c.Reference)
	if len(s.tried) <= s.collisions {
		return ErrReferenceTaken
	}
	s.created = append(s.created, c)
	s.hashes = append(s.hashes, hash)
	s.replay = append(s.replay, replayCode)
	return nil
}

func (s *collidingStore) Get(context.Context, string, string) (Concern, error) {
	return Concern{}, ErrNotFound
}

func (s *collidingStore) RecordRead(context.Context, string, string, time.Time) error {
	return errors.New("not used")
}

func TestRegisterRetriesTakenReference(t *testing.T) {
	t.Parallel()
	store := &collidingStore{collisions: 2}
	now := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	h := testHashing(t)
	s := &Service{Store: store, Directory: fakeDirectory{}, Hasher: h, Now: func() time.Time { return now }}
	r, err := s.Register(context.Background(), "groups/riverside", validDraft())
	if err != nil {
		t.Fatal(err)
	}
	if len(store.tried) != 3 || len(store.created) != 1 {
		t.Fatalf("tried %d references, created %d; want 3 and 1", len(store.tried), len(store.created))
	}
	if store.tried[0] == store.tried[2] {
		t.Error("the retry used the same reference again")
	}
	if r.Reference != store.tried[2] || r.Name() != store.created[0].Name() || !r.CreateTime.Equal(now) {
		t.Errorf("registered %+v; stored %+v", r.Concern, store.created[0])
	}
	if ok, current, err := h.Verify(r.AccessCode, store.hashes[0]); err != nil || !ok || !current {
		t.Errorf("stored hash does not verify the returned access code: %v, %v, %v", ok, current, err)
	}
	if store.replay[0] != "" {
		t.Error("the code was handed to the store to keep, without a request id that could repeat")
	}
}

func TestRegisterGivesUpAfterRepeatedCollisions(t *testing.T) {
	t.Parallel()
	s := &Service{Store: &collidingStore{collisions: 100}, Directory: fakeDirectory{}, Hasher: testHashing(t)}
	_, err := s.Register(context.Background(), "groups/riverside", validDraft())
	if !errors.Is(err, ErrReferenceTaken) {
		t.Fatalf("Register = %v; want ErrReferenceTaken in the chain", err)
	}
	if _, ok := fault.As(err); ok {
		t.Fatal("an exhausted retry must stay internal, not become a fault for the caller")
	}
}

func TestGetNeedsCasework(t *testing.T) {
	t.Parallel()
	s := &Service{Store: &collidingStore{}, Directory: fakeDirectory{}}
	tests := []struct {
		name    string
		caller  auth.Principal
		concern string
		want    fault.Kind
	}{
		{name: "anonymous", caller: auth.Principal{}, concern: "groups/riverside/concerns/0b7e0f7c-4c1e-4a52-9c0a-7d2b1f6e8a11", want: fault.PermissionDenied},
		{name: "member", caller: auth.Principal{Kind: auth.Member, Member: "groups/riverside/members/alex-moss", Group: "groups/riverside"}, concern: "groups/riverside/concerns/0b7e0f7c-4c1e-4a52-9c0a-7d2b1f6e8a11", want: fault.PermissionDenied},
		{name: "notification", caller: auth.Principal{Kind: auth.Service, Service: "notification"}, concern: "groups/riverside/concerns/0b7e0f7c-4c1e-4a52-9c0a-7d2b1f6e8a11", want: fault.PermissionDenied},
		{name: "casework, unknown concern", caller: auth.Principal{Kind: auth.Service, Service: "casework"}, concern: "groups/riverside/concerns/0b7e0f7c-4c1e-4a52-9c0a-7d2b1f6e8a11", want: fault.NotFound},
		{name: "casework, id not a UUID", caller: auth.Principal{Kind: auth.Service, Service: "casework"}, concern: "groups/riverside/concerns/abc", want: fault.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Get(auth.WithPrincipal(context.Background(), tt.caller), tt.concern)
			if !fault.IsKind(err, tt.want) {
				t.Fatalf("Get = %v; want kind %v", err, tt.want)
			}
		})
	}
}
