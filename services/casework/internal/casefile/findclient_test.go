package casefile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

func TestNormalPhone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"07700 900123", "07700900123"},
		{"+44 7700 900123", "07700900123"},
		{"+44 (0)7700 900123", "07700900123"},
		{"0044 7700 900123", "07700900123"},
		{"44 7700-900-123", "07700900123"},
		{"(020) 7946 0123", "02079460123"},
		{"+44 20 7946 0123", "02079460123"},
		{"+1 (555) 010-0199", "15550100199"},
		{"+353 1 234 5678", "35312345678"},
		{"00 353 1 234 5678", "0035312345678"},
		{"0", "0"},
		{"44", "0"},
		{"+44 000", "0"},
		{"", ""},
		{"no digits", ""},
		{"０７７００", ""}, // full-width digits are not the digits of a number
	} {
		if got := normalPhone(tt.in); got != tt.want {
			t.Errorf("normalPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalEmail(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"jane@example.net", "jane@example.net"},
		{"  Jane@Example.NET ", "jane@example.net"},
		{"\tJANE@EXAMPLE.NET\n", "jane@example.net"},
		{"", ""},
	} {
		if got := normalEmail(tt.in); got != tt.want {
			t.Errorf("normalEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClientSearchTerms(t *testing.T) {
	t.Parallel()
	const secretEmail, secretPhone = "private.person@example.net", "+44 7700 900999"
	for _, tt := range []struct {
		name         string
		email, phone string
		want         clientQuery
		fields       []string
	}{
		{name: "e-mail", email: " Private.Person@Example.NET", want: clientQuery{email: "private.person@example.net"}},
		{name: "telephone", phone: secretPhone, want: clientQuery{phone: "07700900999"}},
		{name: "both", email: secretEmail, phone: "07700 900999", want: clientQuery{email: secretEmail, phone: "07700900999"}},
		{name: "neither", fields: []string{"client_email", "client_phone"}},
		{name: "only spaces", email: "  ", phone: "\t", fields: []string{"client_email", "client_phone"}},
		{name: "no @", email: "private.person.example.net", fields: []string{"client_email"}},
		{name: "two @", email: "private@person@example.net", fields: []string{"client_email"}},
		{name: "nothing before @", email: "@example.net", fields: []string{"client_email"}},
		{name: "nothing after @", email: "private.person@", fields: []string{"client_email"}},
		{name: "five digits", phone: "77 009", fields: []string{"client_phone"}},
		{name: "country code and five digits", phone: "+44 7700", fields: []string{"client_phone"}},
		{name: "phone with many spaces around", phone: "07700 900999" + strings.Repeat(" ", 40), want: clientQuery{phone: "07700900999"}},
		{name: "phone with much punctuation", phone: "0" + strings.Repeat("-", 40) + "7700900999", want: clientQuery{phone: "07700900999"}},
		{name: "good e-mail, bad telephone", email: secretEmail, phone: "12", fields: []string{"client_phone"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := clientSearch(tt.email, tt.phone)
			if tt.fields == nil {
				if err != nil || got != tt.want {
					t.Errorf("clientSearch = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.InvalidArgument || fe.Reason != "INVALID_FIELDS" {
				t.Fatalf("clientSearch: %v; want INVALID_FIELDS", err)
			}
			var fields []string
			for _, v := range fe.Violations {
				fields = append(fields, v.Field)
				for _, given := range []string{tt.email, tt.phone, strings.TrimSpace(tt.email), strings.TrimSpace(tt.phone)} {
					if given != "" && strings.Contains(v.Description, given) {
						t.Errorf("violation on %s repeats what was given: %q", v.Field, v.Description)
					}
				}
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("violations on %v, want %v", fields, tt.fields)
			}
			if strings.Contains(fe.Message, "@") {
				t.Errorf("message %q repeats what was given", fe.Message)
			}
		})
	}
}

// FuzzNormalPhone checks the telephone normaliser's promises on any input:
// digits only, stable when applied again, blind to spaces and punctuation,
// and the UK's +44 the same as its leading 0.
func FuzzNormalPhone(f *testing.F) {
	for _, seed := range []string{"07700 900123", "+44 7700 900123", "+44 (0)7700 900123", "0044 7700 900123",
		"440044", "+1 555 0100", "", "4", "00", "٠١٢", "\xff44"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := normalPhone(in)
		if strings.Trim(got, "0123456789") != "" {
			t.Fatalf("normalPhone(%q) = %q: not digits only", in, got)
		}
		if again := normalPhone(got); again != got {
			t.Fatalf("normalPhone(%q) = %q, but normalised again %q", in, got, again)
		}
		if spaced := strings.Join(strings.Split(in, ""), " - "); normalPhone(spaced) != got {
			t.Fatalf("normalPhone(%q) = %q, but with spaces and dashes %q", in, got, normalPhone(spaced))
		}
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, in)
		national, uk := strings.CutPrefix(digits, "0")
		if uk && !strings.HasPrefix(national, "0") {
			// A national UK number is the same whether dialled from home or
			// from abroad.
			if a, b := normalPhone("0"+national), normalPhone("+44 "+national); a != b {
				t.Fatalf("0%s gives %q but +44 %s gives %q", national, a, national, b)
			}
		}
		if len(got) > len(digits) {
			t.Fatalf("normalPhone(%q) = %q: longer than the input's digits", in, got)
		}
	})
}

// FuzzNormalEmail checks that the e-mail normaliser is stable and blind to
// surrounding spaces and, for ASCII addresses, to case.
func FuzzNormalEmail(f *testing.F) {
	for _, seed := range []string{"jane@example.net", " Jane@Example.NET ", "", "İ@x", "\xff@x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := normalEmail(in)
		if again := normalEmail(got); again != got {
			t.Fatalf("normalEmail(%q) = %q, but normalised again %q", in, got, again)
		}
		if padded := normalEmail(" \t" + in + "\n "); padded != got {
			t.Fatalf("normalEmail(%q) = %q, but with spaces around %q", in, got, padded)
		}
		if !isASCII(in) {
			// Beyond ASCII, lower case is Unicode's, which is no business
			// of this test.
			return
		}
		if normalEmail(strings.ToUpper(in)) != got {
			t.Fatalf("normalEmail(%q) = %q, but in upper case %q", in, got, normalEmail(strings.ToUpper(in)))
		}
		if !strings.EqualFold(got, strings.TrimSpace(in)) {
			t.Fatalf("normalEmail(%q) = %q: not the input up to case", in, got)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// contactStore holds cases with their clients' contact details in memory and
// records the access log, for the search's walk over several batches.
type contactStore struct {
	Store
	contacts []RegisteredContact // in list order
	reads    []AccessRecord
	batches  int
}

func (m *contactStore) RegisteredContacts(_ context.Context, group string, after *Cursor, limit int) ([]RegisteredContact, error) {
	m.batches++
	var out []RegisteredContact
	for _, rc := range m.contacts {
		c := rc.Case
		if c.Group != group {
			continue
		}
		if after != nil && !(c.RegisterTime.Before(after.RegisterTime) || (c.RegisterTime.Equal(after.RegisterTime) && c.ID < after.ID)) {
			continue
		}
		if out = append(out, rc); len(out) == limit {
			break
		}
	}
	return out, nil
}

func (m *contactStore) RecordAccess(_ context.Context, reads []AccessRecord) error {
	m.reads = append(m.reads, reads...)
	return nil
}

// TestFindClientCasesWalksEveryBatch finds a client's cases spread over more
// than two batches of the walk, newest first, each logged once, and leaves
// the rest unlogged.
func TestFindClientCasesWalksEveryBatch(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m := &contactStore{}
	var want []string
	for i := range 2*contactBatch + 30 {
		// Newest first, as the store lists them; every 60th case is the
		// searched client's, written differently each time.
		c := Case{ID: uuid.NewString(), Group: "groups/riverside", RegisterTime: start.Add(-time.Duration(i) * time.Hour)}
		rc := RegisteredContact{Case: c, Email: fmt.Sprintf("someone%d@example.org", i), Phone: fmt.Sprintf("0161 496 %04d", i)}
		switch {
		case i%120 == 0:
			rc.Email = " Jane.Doe@Example.NET"
			want = append(want, c.Name())
		case i%60 == 0:
			rc.Phone = "+44 (0)7700 900123"
			want = append(want, c.Name())
		}
		m.contacts = append(m.contacts, rc)
	}
	m.contacts = append(m.contacts, RegisteredContact{Case: Case{ID: uuid.NewString(), Group: "groups/hillside", RegisterTime: start},
		Email: "jane.doe@example.net"})
	s := &Service{Store: m, Now: func() time.Time { return start }}
	admin := auth.WithPrincipal(context.Background(), auth.Principal{Kind: auth.Member, Member: "groups/riverside/members/bea",
		Group: "groups/riverside", GroupAdmin: true})

	got, err := s.FindClientCases(admin, "groups/riverside", "jane.doe@example.net", "07700 900123")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("found %v, want %v", got, want)
	}
	if m.batches != 3 {
		t.Errorf("%d batches read, want 3", m.batches)
	}
	if len(m.reads) != len(want) {
		t.Fatalf("%d access records, want %d", len(m.reads), len(want))
	}
	for i, r := range m.reads {
		if r.Resource != want[i]+"/registeredConcern" || r.Kind != AccessContactSearch || r.Reader != "groups/riverside/members/bea" ||
			r.ReaderRole != RoleMember || !r.Time.Equal(start) {
			t.Errorf("access record %d = %+v", i, r)
		}
	}

	m.reads = nil
	got, err = s.FindClientCases(admin, "groups/riverside", "nobody@example.net", "")
	if err != nil || got == nil || len(got) != 0 || len(m.reads) != 0 {
		t.Errorf("no match: %#v, %v, %d access records; want an empty list and none", got, err, len(m.reads))
	}
}
