package dispatch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// fakeDirectory answers from maps; err, when set, is returned by every call.
type fakeDirectory struct {
	groups  map[string]Group
	members []Member
	links   []LinkGroup
	err     error
}

func (f fakeDirectory) Group(_ context.Context, name string) (Group, error) {
	if f.err != nil {
		return Group{}, f.err
	}
	g, ok := f.groups[name]
	if !ok {
		return Group{}, ErrNotFound
	}
	return g, nil
}

func (f fakeDirectory) ActiveMembers(_ context.Context, group string) ([]Member, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []Member
	for _, m := range f.members {
		if strings.HasPrefix(m.Name, group+"/") && m.Active {
			out = append(out, m)
		}
	}
	return out, nil
}

func (f fakeDirectory) Member(_ context.Context, name string) (Member, error) {
	if f.err != nil {
		return Member{}, f.err
	}
	for _, m := range f.members {
		if m.Name == name {
			return m, nil
		}
	}
	return Member{}, ErrNotFound
}

func (f fakeDirectory) LinkGroups(_ context.Context, group string) ([]LinkGroup, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []LinkGroup
	for _, l := range f.links {
		if strings.HasPrefix(l.Name, group+"/") {
			out = append(out, l)
		}
	}
	return out, nil
}

func (f fakeDirectory) LinkGroup(_ context.Context, name string) (LinkGroup, error) {
	if f.err != nil {
		return LinkGroup{}, f.err
	}
	for _, l := range f.links {
		if l.Name == name {
			return l, nil
		}
	}
	return LinkGroup{}, ErrNotFound
}

// testDirectory's riverside group has four members, one of whom has left
// and one without an address, and link groups of every sort: external with
// an address, local whose group's public contact is an address, local whose
// public contact is not one, external with a malformed address, and local
// with a group the directory no longer has.
var testDirectory = fakeDirectory{
	groups: map[string]Group{
		"groups/riverside": {Name: "groups/riverside", DisplayName: "Riverside Practitioners"},
		"groups/hillside":  {Name: "groups/hillside", DisplayName: "Hillside", PublicContact: "Hillside contact <contact@hillside.example.org>"},
		"groups/moorside":  {Name: "groups/moorside", DisplayName: "Moorside", PublicContact: "ring the convenor on Tuesdays"},
	},
	members: []Member{
		{Name: "groups/riverside/members/ann", DisplayName: "Ann", Active: true, Email: "ann@example.org"},
		{Name: "groups/riverside/members/ben", DisplayName: "Ben", Active: true, Admin: true, Email: "ben@example.org"},
		{Name: "groups/riverside/members/cy", DisplayName: "Cy", Active: false, Admin: true, Email: "cy@example.org"},
		{Name: "groups/riverside/members/dot", DisplayName: "Dot", Active: true},
	},
	links: []LinkGroup{
		{Name: "groups/riverside/linkGroups/lakeland", DisplayName: "Lakeland IPN", Email: "links@lakeland.example.net"},
		{Name: "groups/riverside/linkGroups/hillside", DisplayName: "Hillside", LocalGroup: "groups/hillside"},
		{Name: "groups/riverside/linkGroups/moorside", DisplayName: "Moorside", LocalGroup: "groups/moorside"},
		{Name: "groups/riverside/linkGroups/fenland", DisplayName: "Fenland", Email: "not an address"},
		{Name: "groups/riverside/linkGroups/gone", DisplayName: "Gone", LocalGroup: "groups/gone"},
	},
}

func TestEveryRouteHasATemplate(t *testing.T) {
	t.Parallel()
	c, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for key, route := range Routes {
		templates := []string{route.Template}
		if route.Recipients == CaseRoles {
			templates = nil
			for _, to := range route.To {
				// A role that may take in the client needs the client's
				// wording; members' roles need the members'.
				if to.Role != RoleClient {
					templates = append(templates, to.Template)
				}
				if slices.Contains([]string{RoleClient, RoleInvolved, RoleMeetingParticipants, RoleNextStepActors}, to.Role) {
					templates = append(templates, to.ClientTemplate)
				}
			}
		}
		for _, tmpl := range templates {
			if !slices.Contains(c.Keys(), tmpl) {
				t.Errorf("route for %v names template %q, which does not exist", key, tmpl)
			}
		}
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	const caseName = "groups/riverside/cases/k1"
	concern := Event{ID: "0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11", Type: EventTypeConcernRegistered, Group: "groups/riverside",
		Facts: Facts{FactConcern: "groups/riverside/concerns/c1"}}
	step := func(action string) Event {
		return Event{ID: "5d1c2b3a-4f5e-4a6b-8c7d-9e0f1a2b3c4d", Type: EventTypeCaseStepTaken, Action: action, Group: "groups/riverside",
			Facts: Facts{FactCase: caseName}}
	}
	const notice = "groups/riverside/incomingNotices/8f0e2d4c-1b3a-4c5d-9e6f-7a8b9c0d1e2f"
	incoming := func(kind NoticeKind) Event {
		return Event{ID: "8f0e2d4c-1b3a-4c5d-9e6f-7a8b9c0d1e2f", Type: EventTypeIncomingNotice, Action: string(kind), Group: "groups/riverside",
			Facts: Facts{FactIncomingNotice: notice, FactFromGroupName: "Lakeland IPN"}}
	}
	// Of testDirectory's link groups, only these have somewhere to send.
	reachable := []string{"groups/riverside/linkGroups/lakeland", "groups/riverside/linkGroups/hillside"}
	tests := []struct {
		name           string
		dir            fakeDirectory
		event          Event
		wantRecipients []string
		wantKind       RecipientKind
		wantTemplate   string
		wantReference  string
		wantErr        bool
	}{
		{name: "every active member once", dir: testDirectory, event: concern, wantRecipients: []string{
			"groups/riverside/members/ann", "groups/riverside/members/ben", "groups/riverside/members/dot"},
			wantKind: MemberRecipient, wantTemplate: message.ConcernRegistered, wantReference: "groups/riverside/cases/c1"},
		{name: "link groups informed: each link group with an address", dir: testDirectory, event: step(ActionInformLinkGroups),
			wantRecipients: reachable, wantKind: LinkGroupRecipient, wantTemplate: message.LinkGroupsInformed, wantReference: caseName},
		{name: "progress reported: each link group with an address", dir: testDirectory, event: step(ActionReportProgress),
			wantRecipients: reachable, wantKind: LinkGroupRecipient, wantTemplate: message.ProgressReported, wantReference: caseName},
		{name: "a link listed twice is told once", event: step(ActionReportProgress),
			dir:            fakeDirectory{groups: testDirectory.groups, links: append(slices.Clone(testDirectory.links), testDirectory.links[0])},
			wantRecipients: reachable, wantKind: LinkGroupRecipient, wantTemplate: message.ProgressReported, wantReference: caseName},
		{name: "no link groups", dir: fakeDirectory{groups: testDirectory.groups}, event: step(ActionInformLinkGroups)},
		{name: "a peer's notice of a concern: the active admins", dir: testDirectory, event: incoming(NoticeLinkGroupsInformed),
			wantRecipients: []string{"groups/riverside/members/ben"}, wantKind: MemberRecipient, wantTemplate: message.IncomingLinkGroupsInformed, wantReference: notice},
		{name: "a peer's progress report: the active admins", dir: testDirectory, event: incoming(NoticeProgressReported),
			wantRecipients: []string{"groups/riverside/members/ben"}, wantKind: MemberRecipient, wantTemplate: message.IncomingProgressReported, wantReference: notice},
		{name: "a peer's notice of a kind not known here", dir: testDirectory, event: incoming("gossip")},
		{name: "a step that tells nobody", dir: testDirectory, event: step("ACTION_RECORD_LINK_GROUP_ISSUE")},
		{name: "a step without an action", dir: testDirectory, event: step("")},
		{name: "unknown group", dir: testDirectory, event: Event{ID: "x", Type: EventTypeConcernRegistered, Group: "groups/nowhere"}},
		{name: "event without a route", dir: testDirectory, event: Event{ID: "x", Type: "ipn.disputes.events.v1.CaseOpened", Group: "groups/riverside"}},
		{name: "directory down", dir: fakeDirectory{err: errors.New("unavailable")}, event: concern, wantErr: true},
		{name: "directory down for link groups", dir: fakeDirectory{err: errors.New("unavailable")}, event: step(ActionInformLinkGroups), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &Planner{Directory: tt.dir, Now: func() time.Time { return now }}
			got, err := p.Plan(context.Background(), tt.event)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Plan error = %v; want error %v", err, tt.wantErr)
			}
			var recipients []string
			ids := map[string]bool{}
			for _, d := range got {
				recipients = append(recipients, d.Recipient)
				ids[d.ID] = true
				if d.State != Pending || !d.NextAttemptAt.Equal(now) || !d.CreateTime.Equal(now) || d.Attempts != 0 ||
					d.EventID != tt.event.ID || d.EventType != tt.event.Type || d.Template != tt.wantTemplate ||
					d.Group != "groups/riverside" || d.RecipientKind != tt.wantKind {
					t.Errorf("delivery %+v", d)
				}
				if d.Facts[FactGroupName] != "Riverside Practitioners" || d.Facts.Reference() != tt.wantReference {
					t.Errorf("facts %v", d.Facts)
				}
			}
			if !slices.Equal(recipients, tt.wantRecipients) {
				t.Errorf("recipients %v; want %v", recipients, tt.wantRecipients)
			}
			if len(ids) != len(got) {
				t.Error("deliveries share an id")
			}
		})
	}
}

// TestPlanLogsLinkGroupsItCannotTell checks that a link group left out is
// logged by its resource name and never by what its contact says, which may
// name a person.
func TestPlanLogsLinkGroupsItCannotTell(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	p := &Planner{Directory: testDirectory, Logger: slog.New(slog.NewJSONHandler(&logged, nil))}
	ev := Event{ID: "5d1c2b3a-4f5e-4a6b-8c7d-9e0f1a2b3c4d", Type: EventTypeCaseStepTaken, Action: ActionInformLinkGroups,
		Group: "groups/riverside", Facts: Facts{FactCase: "groups/riverside/cases/k1"}}
	if _, err := p.Plan(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	out := logged.String()
	for _, want := range []string{"groups/riverside/linkGroups/moorside", "groups/riverside/linkGroups/fenland", "groups/riverside/linkGroups/gone", ev.ID} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, forbidden := range []string{"convenor", "not an address", "@", "lakeland", "linkGroups/hillside"} {
		if strings.Contains(out, forbidden) {
			t.Errorf("log carries %q:\n%s", forbidden, out)
		}
	}
}

func TestLinkGroupAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		dir     fakeDirectory
		link    LinkGroup
		want    string
		wantErr bool
	}{
		{name: "external", dir: testDirectory, link: LinkGroup{Email: " links@lakeland.example.net "}, want: "links@lakeland.example.net"},
		{name: "external, malformed", dir: testDirectory, link: LinkGroup{Email: "not an address"}},
		{name: "external without an address", dir: testDirectory, link: LinkGroup{}},
		{name: "local: the group's public contact", dir: testDirectory, link: LinkGroup{LocalGroup: "groups/hillside"}, want: "contact@hillside.example.org"},
		{name: "local with an address of its own", dir: testDirectory, link: LinkGroup{LocalGroup: "groups/hillside", Email: "own@hillside.example.org"}, want: "own@hillside.example.org"},
		{name: "local whose public contact is no address", dir: testDirectory, link: LinkGroup{LocalGroup: "groups/moorside"}},
		{name: "local group gone", dir: testDirectory, link: LinkGroup{LocalGroup: "groups/gone"}},
		{name: "directory down", dir: fakeDirectory{err: errors.New("unavailable")}, link: LinkGroup{LocalGroup: "groups/hillside"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := LinkGroupAddress(context.Background(), tt.dir, tt.link)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("LinkGroupAddress = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRecipientKindNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		want   RecipientKind
		wantOK bool
	}{
		{"member", MemberRecipient, true},
		{"link_group", LinkGroupRecipient, true},
		{"unspecified", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRecipientKind(tt.name)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRecipientKind(%q) = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
		if ok && got.String() != tt.name {
			t.Errorf("%v.String() = %q; want %q", got, got.String(), tt.name)
		}
	}
}

// fakeMailer records what it is given and fails with err when set.
type fakeMailer struct {
	sent []Mail
	err  error
}

func (f *fakeMailer) Send(_ context.Context, m Mail) error {
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

func TestAttempt(t *testing.T) {
	t.Parallel()
	templates, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	delivery := func(recipient string) Delivery {
		return Delivery{ID: "0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11", Group: "groups/riverside", Template: message.ConcernRegistered,
			Recipient: recipient, RecipientKind: MemberRecipient, State: Pending, NextAttemptAt: now,
			Facts: Facts{FactGroupName: "Riverside Practitioners", FactConcern: "groups/riverside/concerns/c1"}}
	}
	toLinkGroup := func(recipient string) Delivery {
		return Delivery{ID: "5d1c2b3a-4f5e-4a6b-8c7d-9e0f1a2b3c4d", Group: "groups/riverside", Template: message.ProgressReported,
			Recipient: recipient, RecipientKind: LinkGroupRecipient, State: Pending, NextAttemptAt: now,
			Facts: Facts{FactGroupName: "Riverside Practitioners", FactCase: "groups/riverside/cases/k1"}}
	}
	// link is the website's page the mail leads to: the case's for a
	// member, the group's for a link group.
	type wantMail struct{ toName, toAddress, subject, reference, link string }
	memberMail := &wantMail{"Ann", "ann@example.org", "New concern registered with Riverside Practitioners", "groups/riverside/cases/c1", "https://disputes.example.org/riverside/cases/c1"}
	withFailures := func(d Delivery, n int) Delivery { d.Failures = n; return d }
	unreachableDirectory := fakeDirectory{err: Unreachable(errors.New("directory: get member: unavailable"))}
	// The policy allows 5 counted failures; jitter 0.5 makes the Unknown
	// wait after the first failure 1s and the Transient wait 2.25s.
	const (
		countedWait   = time.Second
		transientWait = 2250 * time.Millisecond
	)
	tests := []struct {
		name         string
		dir          fakeDirectory
		mailErr      error
		delivery     Delivery
		wantState    State
		wantReason   string
		wantFailures int
		// wantCut: the sender pauses, something was unreachable.
		wantCut  bool
		wantWait time.Duration
		wantMail *wantMail
	}{
		{name: "sent", dir: testDirectory, delivery: delivery("groups/riverside/members/ann"), wantState: Sent, wantMail: memberMail},
		{name: "sent after counted failures", dir: testDirectory, delivery: withFailures(delivery("groups/riverside/members/ann"), 4), wantState: Sent,
			wantFailures: 4, wantMail: memberMail},
		{name: "sent to an external link group", dir: testDirectory, delivery: toLinkGroup("groups/riverside/linkGroups/lakeland"), wantState: Sent,
			wantMail: &wantMail{"Lakeland IPN", "links@lakeland.example.net", "Progress report on a concern raised with Riverside Practitioners", "groups/riverside/cases/k1", "https://disputes.example.org/riverside/"}},
		{name: "sent to a local link group's public contact", dir: testDirectory, delivery: toLinkGroup("groups/riverside/linkGroups/hillside"), wantState: Sent,
			wantMail: &wantMail{"Hillside", "contact@hillside.example.org", "Progress report on a concern raised with Riverside Practitioners", "groups/riverside/cases/k1", "https://disputes.example.org/riverside/"}},

		// Permanent: dead at once, whatever the count.
		{name: "link removed since", dir: testDirectory, delivery: toLinkGroup("groups/riverside/linkGroups/zed"), wantState: Dead,
			wantReason: "the recipient is no longer a link group of the group"},
		{name: "link group without an address", dir: testDirectory, delivery: toLinkGroup("groups/riverside/linkGroups/moorside"), wantState: Dead,
			wantReason: "the link group has no e-mail address"},
		{name: "link group's address refused for good; the address is blanked out", dir: testDirectory,
			mailErr: Refused(errors.New("550 links@lakeland.example.net unknown")), delivery: toLinkGroup("groups/riverside/linkGroups/lakeland"),
			wantState: Dead, wantReason: "550 <recipient> unknown"},
		{name: "recipient of no known kind", dir: testDirectory, delivery: func() Delivery { d := delivery("groups/riverside/members/ann"); d.RecipientKind = 0; return d }(),
			wantState: Dead, wantReason: "the recipient is of kind unspecified"},
		{name: "member gone", dir: testDirectory, delivery: delivery("groups/riverside/members/zed"), wantState: Dead, wantReason: "the recipient is not in the directory"},
		{name: "member left", dir: testDirectory, delivery: delivery("groups/riverside/members/cy"), wantState: Dead, wantReason: "the recipient is no longer an active member"},
		{name: "no address", dir: testDirectory, delivery: delivery("groups/riverside/members/dot"), wantState: Dead, wantReason: "the recipient has no e-mail address"},
		{name: "unknown template", dir: testDirectory, delivery: func() Delivery { d := delivery("groups/riverside/members/ann"); d.Template = "nope"; return d }(),
			wantState: Dead, wantReason: "the message template nope could not be rendered"},

		// Transient: pending again shortly, nothing counted, the sender
		// pauses; even at the last counted failure's edge.
		{name: "directory unreachable", dir: unreachableDirectory, delivery: delivery("groups/riverside/members/ann"),
			wantState: Pending, wantReason: "directory: get member: unavailable", wantCut: true, wantWait: transientWait},
		{name: "directory unreachable after four counted failures", dir: unreachableDirectory, delivery: withFailures(delivery("groups/riverside/members/ann"), 4),
			wantState: Pending, wantReason: "directory: get member: unavailable", wantFailures: 4, wantCut: true, wantWait: transientWait},
		{name: "directory unreachable for a link group", dir: fakeDirectory{err: Unreachable(errors.New("directory: list link groups: unavailable"))},
			delivery: toLinkGroup("groups/riverside/linkGroups/lakeland"), wantState: Pending, wantReason: "directory: list link groups: unavailable",
			wantCut: true, wantWait: transientWait},
		{name: "the attempt's deadline", dir: fakeDirectory{err: context.DeadlineExceeded}, delivery: delivery("groups/riverside/members/ann"),
			wantState: Pending, wantReason: "context deadline exceeded", wantCut: true, wantWait: transientWait},
		{name: "mail server unreachable", dir: testDirectory, mailErr: Unreachable(errors.New("dial failed: connection refused")),
			delivery: withFailures(delivery("groups/riverside/members/ann"), 4), wantState: Pending, wantReason: "dial failed: connection refused",
			wantFailures: 4, wantCut: true, wantWait: transientWait},
		{name: "mail server says try later; the address is blanked out", dir: testDirectory,
			mailErr:  Unreachable(errors.New("451 mailbox ann@example.org busy")),
			delivery: delivery("groups/riverside/members/ann"), wantState: Pending, wantReason: "451 mailbox <recipient> busy", wantCut: true, wantWait: transientWait},

		// Unknown: counted, pending again after the backoff, dead when the
		// count is used up.
		{name: "directory fails otherwise", dir: fakeDirectory{err: errors.New("directory: get member: internal")}, delivery: delivery("groups/riverside/members/ann"),
			wantState: Pending, wantReason: "directory: get member: internal", wantFailures: 1, wantWait: countedWait},
		{name: "mail fails otherwise; the address is blanked out", dir: testDirectory, mailErr: errors.New("553 sender refused for ann@example.org"),
			delivery: delivery("groups/riverside/members/ann"), wantState: Pending, wantReason: "553 sender refused for <recipient>", wantFailures: 1, wantWait: countedWait},
		{name: "the fifth counted failure kills", dir: testDirectory, mailErr: errors.New("553 sender refused"),
			delivery: withFailures(delivery("groups/riverside/members/ann"), 4), wantState: Dead, wantReason: "553 sender refused", wantFailures: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mailer := &fakeMailer{err: tt.mailErr}
			s := &Sender{Directory: tt.dir, Mailer: mailer, Templates: templates, PublicURL: "https://disputes.example.org/",
				Retry: Retry{MaxAttempts: 5}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Now: func() time.Time { return now }, Jitter: func() float64 { return 0.5 }}
			claimed := tt.delivery.Claimed(now, time.Minute)
			got, cut := s.attempt(context.Background(), claimed)
			if got.State != tt.wantState || got.LastError != tt.wantReason || got.Attempts != 1 || got.Failures != tt.wantFailures || cut != tt.wantCut {
				t.Fatalf("got %v %q after %d attempts, %d failures, cut %v; want %v %q after 1, %d, %v",
					got.State, got.LastError, got.Attempts, got.Failures, cut, tt.wantState, tt.wantReason, tt.wantFailures, tt.wantCut)
			}
			if tt.wantState == Pending && !got.NextAttemptAt.Equal(now.Add(tt.wantWait)) {
				t.Errorf("next attempt in %v; want %v", got.NextAttemptAt.Sub(now), tt.wantWait)
			}
			if tt.wantState != Sent {
				return
			}
			if len(mailer.sent) != 1 {
				t.Fatalf("sent %d mails", len(mailer.sent))
			}
			m, want := mailer.sent[0], tt.wantMail
			if m.MessageID != tt.delivery.ID+"@disputes.ipn" || m.ToAddress != want.toAddress || m.ToName != want.toName ||
				m.Subject != want.subject ||
				!strings.Contains(m.Text, want.link+"\n") || !strings.Contains(m.Text, want.reference) {
				t.Errorf("mail %+v", m)
			}
			if !got.SendTime.Equal(now) {
				t.Errorf("send time %v", got.SendTime)
			}
		})
	}
}

// fakeLog holds deliveries newest first.
type fakeLog []Delivery

func (f fakeLog) ListDeliveries(_ context.Context, _ string, _ Filter, after *Cursor, limit int) ([]Delivery, error) {
	start := 0
	if after != nil {
		start = slices.IndexFunc(f, func(d Delivery) bool { return d.ID == after.ID }) + 1
	}
	return f[start:min(start+limit, len(f))], nil
}

func TestLogList(t *testing.T) {
	t.Parallel()
	log := &Log{Store: fakeLog{{ID: "c"}, {ID: "b"}, {ID: "a"}}}
	const group = "groups/riverside"
	tests := []struct {
		name       string
		caller     auth.Principal
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "group admin", caller: auth.Principal{Kind: auth.Member, Member: group + "/members/ann", Group: group, GroupAdmin: true}},
		{name: "operator", caller: auth.Principal{Kind: auth.Operator}},
		{name: "plain member", caller: auth.Principal{Kind: auth.Member, Member: group + "/members/ben", Group: group},
			wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
		{name: "admin of another group", caller: auth.Principal{Kind: auth.Member, Member: "groups/hillside/members/hal", Group: "groups/hillside", GroupAdmin: true},
			wantKind: fault.NotFound, wantReason: "GROUP_NOT_FOUND"},
		{name: "a service", caller: auth.Principal{Kind: auth.Service, Service: "casework"},
			wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
		{name: "anonymous", caller: auth.Principal{}, wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := auth.WithPrincipal(context.Background(), tt.caller)
			got, next, err := log.List(ctx, group, Filter{}, Page{Size: 2})
			if tt.wantReason != "" {
				fe, ok := fault.As(err)
				if !ok || fe.Kind != tt.wantKind || fe.Reason != tt.wantReason {
					t.Fatalf("List error = %v; want %v %s", err, tt.wantKind, tt.wantReason)
				}
				return
			}
			if err != nil || len(got) != 2 || next == nil || next.ID != "b" {
				t.Fatalf("first page = %v, %v, %v", got, next, err)
			}
			got, next, err = log.List(ctx, group, Filter{}, Page{Size: 2, After: next})
			if err != nil || len(got) != 1 || got[0].ID != "a" || next != nil {
				t.Fatalf("last page = %v, %v, %v", got, next, err)
			}
		})
	}
}

// GetDelivery finds a delivery by id.
func (f fakeLog) GetDelivery(_ context.Context, _, id string) (Delivery, error) {
	for _, d := range f {
		if d.ID == id {
			return d, nil
		}
	}
	return Delivery{}, ErrNotFound
}

// TestLogGet: whoever may list the group's deliveries reads one; to anyone
// else it does not exist, as an unknown one does not.
func TestLogGet(t *testing.T) {
	t.Parallel()
	const group = "groups/riverside"
	id := "0b9e5f5c-4d1e-4a8e-9c7b-3f2a1d0e9c8b"
	log := &Log{Store: fakeLog{{ID: id, Recipient: group + "/members/ann"}}}
	admin := auth.Principal{Kind: auth.Member, Member: group + "/members/ann", Group: group, GroupAdmin: true}
	tests := []struct {
		name   string
		caller auth.Principal
		id     string
		found  bool
	}{
		{name: "group admin", caller: admin, id: id, found: true},
		{name: "operator", caller: auth.Principal{Kind: auth.Operator}, id: id, found: true},
		{name: "plain member", caller: auth.Principal{Kind: auth.Member, Member: group + "/members/ben", Group: group}, id: id},
		{name: "admin of another group", caller: auth.Principal{Kind: auth.Member, Member: "groups/hillside/members/hal", Group: "groups/hillside", GroupAdmin: true}, id: id},
		{name: "a service", caller: auth.Principal{Kind: auth.Service, Service: "casework"}, id: id},
		{name: "anonymous", caller: auth.Principal{}, id: id},
		{name: "unknown delivery", caller: admin, id: "5d1e0b9e-4d1e-4a8e-9c7b-3f2a1d0e9c8b"},
		{name: "not an id", caller: admin, id: "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := log.Get(auth.WithPrincipal(context.Background(), tt.caller), group, tt.id)
			if tt.found {
				if err != nil || d.ID != id {
					t.Fatalf("Get = %v, %v", d, err)
				}
				return
			}
			if fe, ok := fault.As(err); !ok || fe.Kind != fault.NotFound || fe.Reason != "DELIVERY_NOT_FOUND" {
				t.Fatalf("Get error = %v; want NotFound DELIVERY_NOT_FOUND", err)
			}
		})
	}
}

// RetryDead counts the dead deliveries about caseName (all when empty) and
// checks that revived is what Retried makes of a dead delivery.
func (f fakeLog) RetryDead(_ context.Context, _, caseName string, revived Delivery) (int, error) {
	if revived.State != Pending || revived.Failures != 0 {
		return 0, errors.New("revived is not a retried delivery")
	}
	n := 0
	for _, d := range f {
		if d.State == Dead && (caseName == "" || d.Facts[FactCase] == caseName) {
			n++
		}
	}
	return n, nil
}

func TestLogRetryDead(t *testing.T) {
	t.Parallel()
	const group = "groups/riverside"
	caseA := group + "/cases/AAAA-1111"
	log := &Log{Store: fakeLog{
		{ID: "a1", State: Dead, Facts: Facts{FactCase: caseA}},
		{ID: "a2", State: Dead, Facts: Facts{FactCase: caseA}},
		{ID: "b", State: Dead, Facts: Facts{FactCase: group + "/cases/BBBB-2222"}},
		{ID: "p", State: Pending, Facts: Facts{FactCase: caseA}},
		{ID: "s", State: Sent},
	}}
	admin := auth.Principal{Kind: auth.Member, Member: group + "/members/ann", Group: group, GroupAdmin: true}
	tests := []struct {
		name       string
		caller     auth.Principal
		caseName   string
		want       int
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "group admin", caller: admin, want: 3},
		{name: "group admin, one case", caller: admin, caseName: caseA, want: 2},
		{name: "operator", caller: auth.Principal{Kind: auth.Operator}, wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
		{name: "plain member", caller: auth.Principal{Kind: auth.Member, Member: group + "/members/ben", Group: group},
			wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
		{name: "admin of another group", caller: auth.Principal{Kind: auth.Member, Member: "groups/hillside/members/hal", Group: "groups/hillside", GroupAdmin: true},
			wantKind: fault.NotFound, wantReason: "GROUP_NOT_FOUND"},
		{name: "a service", caller: auth.Principal{Kind: auth.Service, Service: "casework"}, wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := log.RetryDead(auth.WithPrincipal(context.Background(), tt.caller), group, tt.caseName)
			if tt.wantReason != "" {
				fe, ok := fault.As(err)
				if !ok || fe.Kind != tt.wantKind || fe.Reason != tt.wantReason {
					t.Fatalf("RetryDead error = %v; want %v %s", err, tt.wantKind, tt.wantReason)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("RetryDead = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}
