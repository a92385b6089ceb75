package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// fakeCases answers Case from a map (err, when set, for every call), and
// the client's address for any case.
type fakeCases struct {
	cases map[string]Case
	err   error
}

func (f fakeCases) Case(_ context.Context, name string) (Case, error) {
	if f.err != nil {
		return Case{}, f.err
	}
	c, ok := f.cases[name]
	if !ok {
		return Case{}, ErrNotFound
	}
	return c, nil
}

func (fakeCases) MeetingKind(context.Context, string, string) (string, error) { return "", nil }

func (fakeCases) ClientEmail(context.Context, string) (string, error) {
	return "sam@client.example.net", nil
}

const (
	testCase      = "groups/riverside/cases/c1"
	testReference = "B7ZX-M0E5"
)

// testCases has riverside's case c1 (the case of concern c1) and k1.
var testCases = fakeCases{cases: map[string]Case{
	testCase:                    {Name: testCase, Reference: testReference},
	"groups/riverside/cases/k1": {Name: "groups/riverside/cases/k1", Reference: "K1KK-0000"},
}}

// audiences says who reads each template the routing table sends, and
// the digest: members, the client or link groups.
func audiences() map[string]RecipientKind {
	out := map[string]RecipientKind{message.Digest: MemberRecipient}
	for _, r := range Routes {
		switch r.Recipients {
		case LinkGroups:
			out[r.Template] = LinkGroupRecipient
		case ActiveMembers, GroupAdmins:
			out[r.Template] = MemberRecipient
		}
		for _, to := range r.To {
			if to.Template != "" {
				out[to.Template] = MemberRecipient
			}
			if to.ClientTemplate != "" {
				out[to.ClientTemplate] = ClientRecipient
			}
		}
	}
	return out
}

// TestMessagesQuoteWhatTheirReaderReads renders every standard template as
// the sender sends it: no member's or client's message holds a resource
// name ("groups/…"); members' messages about a case quote its short
// reference, as the website shows it; the client's quote none (their
// reference is half of their sign-in); link groups' quote the case's
// resource name, which they use with the API, and never the short
// reference, which casework keeps from them.
func TestMessagesQuoteWhatTheirReaderReads(t *testing.T) {
	t.Parallel()
	templates, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	digest, err := json.Marshal([]message.DigestItem{{Case: testCase, Step: "Nominate a support person"}})
	if err != nil {
		t.Fatal(err)
	}
	who := audiences()
	for _, key := range templates.Keys() {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			if key == message.SignInLink || key == message.ClientSignInLink {
				// Sent at once with their own facts, never as deliveries:
				// a sign-in link and the client's references with links.
				m, err := templates.Render(key, message.Sample(key))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(m.Subject+m.Text+m.HTML, "groups/") {
					t.Errorf("%s quotes a resource name:\n%s", key, m.Text)
				}
				return
			}
			kind, ok := who[key]
			if !ok {
				t.Fatalf("no route sends %s: say here who reads it", key)
			}
			facts := Facts{FactGroupName: "Riverside Practitioners", FactCase: testCase, FactTarget: TargetOverall,
				FactDeadline: now.Add(72 * time.Hour).Format(time.RFC3339)}
			aboutCase := true
			switch key {
			case message.ConcernRegistered:
				facts = Facts{FactGroupName: "Riverside Practitioners", FactConcern: "groups/riverside/concerns/c1"}
			case message.DeliveriesDead:
				facts, aboutCase = Facts{FactGroupName: "Riverside Practitioners", FactDeliveryLog: "groups/riverside/deliveries"}, false
			case message.IncomingLinkGroupsInformed, message.IncomingProgressReported:
				facts, aboutCase = Facts{FactGroupName: "Riverside Practitioners", FactFromGroupName: "Fenland IPN",
					FactIncomingNotice: "groups/riverside/incomingNotices/n1"}, false
			case message.Digest:
				facts = Facts{FactGroupName: "Riverside Practitioners", FactDigest: string(digest)}
			}
			recipient := map[RecipientKind]string{
				MemberRecipient:    "groups/riverside/members/ann",
				ClientRecipient:    ClientRecipientOf(testCase),
				LinkGroupRecipient: "groups/riverside/linkGroups/lakeland",
			}[kind]
			mailer := &fakeMailer{}
			s := &Sender{Directory: testDirectory, Casework: testCases, Mailer: mailer, Templates: templates,
				PublicURL: "https://disputes.example.org/", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Now: func() time.Time { return now }, Jitter: func() float64 { return 0.5 }}
			d := Delivery{ID: "0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11", Group: "groups/riverside", Template: key,
				Recipient: recipient, RecipientKind: kind, Facts: facts, State: Pending, CreateTime: now}
			got, _ := s.attempt(context.Background(), d.Claimed(now, time.Minute))
			if got.State != Sent || len(mailer.sent) != 1 {
				t.Fatalf("%s to a %s: %v %q, %d mails", key, kind, got.State, got.LastError, len(mailer.sent))
			}
			m := mailer.sent[0]
			all := m.Subject + "\n" + m.Text + "\n" + m.HTML
			switch kind {
			case LinkGroupRecipient:
				if !strings.Contains(m.Text, testCase) || strings.Contains(all, testReference) {
					t.Errorf("a link group's notice must quote the case's name, not its short reference:\n%s", m.Text)
				}
				return
			case ClientRecipient:
				if strings.Contains(all, testReference) {
					t.Errorf("the client's message quotes the reference:\n%s", all)
				}
			case MemberRecipient:
				if aboutCase && (!strings.Contains(m.Text, testReference) || (m.HTML != "" && !strings.Contains(m.HTML, testReference))) {
					t.Errorf("a member's message about a case lacks its reference %s:\n%s", testReference, all)
				}
			}
			if strings.Contains(all, "groups/") {
				t.Errorf("a %s's message quotes a resource name:\n%s", kind, all)
			}
		})
	}
}

// TestCaseReferenceLookUp: what a member's message quotes when casework
// does not have the case, has it only later, or cannot be asked; and that
// waiting for a case to open is neither a counted failure nor a pause.
func TestCaseReferenceLookUp(t *testing.T) {
	t.Parallel()
	templates, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	const transientWait = 2250 * time.Millisecond // jitter 0.5 of the default 3s
	concern := func(created time.Time) Delivery {
		return Delivery{ID: "0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11", Group: "groups/riverside", Template: message.ConcernRegistered,
			Recipient: "groups/riverside/members/ann", RecipientKind: MemberRecipient, State: Pending, CreateTime: created,
			Facts: Facts{FactGroupName: "Riverside Practitioners", FactConcern: "groups/riverside/concerns/c9"}}
	}
	step := func(caseName string) Delivery {
		return Delivery{ID: "5d1c2b3a-4f5e-4a6b-8c7d-9e0f1a2b3c4d", Group: "groups/riverside", Template: message.SPTNominated,
			Recipient: "groups/riverside/members/ann", RecipientKind: MemberRecipient, State: Pending, CreateTime: now.Add(-time.Hour),
			Facts: Facts{FactGroupName: "Riverside Practitioners", FactCase: caseName}}
	}
	opened := fakeCases{cases: map[string]Case{"groups/riverside/cases/c9": {Name: "groups/riverside/cases/c9", Reference: "C9CC-9999"}}}
	tests := []struct {
		name      string
		cases     Casework
		delivery  Delivery
		wantState State
		wantCut   bool
		// wantReference is what the mail quotes; "" for none.
		wantReference string
	}{
		{name: "the case has opened", cases: opened, delivery: concern(now), wantState: Sent, wantReference: "C9CC-9999"},
		{name: "the case is still opening: the message waits", cases: testCases, delivery: concern(now.Add(-30 * time.Second)), wantState: Pending},
		{name: "the case never opened: sent without a reference", cases: testCases, delivery: concern(now.Add(-DefaultCaseOpening)), wantState: Sent},
		{name: "a case casework no longer has: sent without a reference, at once", cases: testCases, delivery: step("groups/riverside/cases/gone"), wantState: Sent},
		{name: "casework unreachable: the message waits, the sender pauses", cases: fakeCases{err: Unreachable(errors.New("casework: get case: unavailable"))},
			delivery: step(testCase), wantState: Pending, wantCut: true},
		{name: "casework refuses: sent without a reference", cases: fakeCases{err: errors.New("casework: get case: permission denied")},
			delivery: step(testCase), wantState: Sent},
		{name: "no casework configured: sent without a reference", delivery: step(testCase), wantState: Sent},
		{name: "no casework configured, a concern just registered: sent at once without a reference", delivery: concern(now), wantState: Sent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mailer := &fakeMailer{}
			s := &Sender{Directory: testDirectory, Casework: tt.cases, Mailer: mailer, Templates: templates,
				PublicURL: "https://disputes.example.org/", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Now: func() time.Time { return now }, Jitter: func() float64 { return 0.5 }}
			got, cut := s.attempt(context.Background(), tt.delivery.Claimed(now, time.Minute))
			if got.State != tt.wantState || cut != tt.wantCut || got.Failures != 0 {
				t.Fatalf("got %v (%q), cut %v, %d failures; want %v, cut %v, none counted", got.State, got.LastError, cut, got.Failures, tt.wantState, tt.wantCut)
			}
			if tt.wantState == Pending {
				if !got.NextAttemptAt.Equal(now.Add(transientWait)) || len(mailer.sent) != 0 {
					t.Errorf("next attempt in %v, %d mails; want %v, none", got.NextAttemptAt.Sub(now), len(mailer.sent), transientWait)
				}
				return
			}
			m := mailer.sent[0]
			hasRef := strings.Contains(m.Text, "Reference:") || strings.Contains(m.HTML, "Reference:")
			switch {
			case tt.wantReference != "" && (!strings.Contains(m.Text, "Reference: "+tt.wantReference) || !strings.Contains(m.HTML, tt.wantReference)):
				t.Errorf("mail lacks the reference %s:\n%s", tt.wantReference, m.Text)
			case tt.wantReference == "" && hasRef:
				t.Errorf("mail quotes a reference it cannot know:\n%s", m.Text)
			}
			if slices.ContainsFunc([]string{m.Subject, m.Text, m.HTML}, func(s string) bool { return strings.Contains(s, "groups/") }) {
				t.Errorf("mail quotes a resource name:\n%s", m.Text)
			}
		})
	}
}
