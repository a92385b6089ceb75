package dispatch

import (
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

var testDirectory = fakeDirectory{
	groups: map[string]Group{"groups/riverside": {Name: "groups/riverside", DisplayName: "Riverside Practitioners"}},
	members: []Member{
		{Name: "groups/riverside/members/ann", DisplayName: "Ann", Active: true, Email: "ann@example.org"},
		{Name: "groups/riverside/members/ben", DisplayName: "Ben", Active: true, Email: "ben@example.org"},
		{Name: "groups/riverside/members/cy", DisplayName: "Cy", Active: false, Email: "cy@example.org"},
		{Name: "groups/riverside/members/dot", DisplayName: "Dot", Active: true},
	},
}

func TestEveryRouteHasATemplate(t *testing.T) {
	t.Parallel()
	c, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for typ, route := range Routes {
		if !slices.Contains(c.Keys(), route.Template) {
			t.Errorf("route for %s names template %q, which does not exist", typ, route.Template)
		}
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	concern := Event{ID: "0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11", Type: EventTypeConcernRegistered, Group: "groups/riverside",
		Facts: Facts{FactConcern: "groups/riverside/concerns/c1"}}
	tests := []struct {
		name           string
		dir            fakeDirectory
		event          Event
		wantRecipients []string
		wantErr        bool
	}{
		{name: "every active member once", dir: testDirectory, event: concern, wantRecipients: []string{
			"groups/riverside/members/ann", "groups/riverside/members/ben", "groups/riverside/members/dot"}},
		{name: "unknown group", dir: testDirectory, event: Event{ID: "x", Type: EventTypeConcernRegistered, Group: "groups/nowhere"}},
		{name: "event without a route", dir: testDirectory, event: Event{ID: "x", Type: "ipn.disputes.events.v1.CaseOpened", Group: "groups/riverside"}},
		{name: "directory down", dir: fakeDirectory{err: errors.New("unavailable")}, event: concern, wantErr: true},
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
					d.EventID != tt.event.ID || d.Template != message.ConcernRegistered || d.Group != "groups/riverside" {
					t.Errorf("delivery %+v", d)
				}
				if d.Facts[FactGroupName] != "Riverside Practitioners" || d.Facts[FactConcern] != "groups/riverside/concerns/c1" {
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
			Recipient: recipient, State: Pending, NextAttemptAt: now,
			Facts: Facts{FactGroupName: "Riverside Practitioners", FactConcern: "groups/riverside/concerns/c1"}}
	}
	tests := []struct {
		name       string
		dir        fakeDirectory
		mailErr    error
		delivery   Delivery
		wantState  State
		wantReason string
	}{
		{name: "sent", dir: testDirectory, delivery: delivery("groups/riverside/members/ann"), wantState: Sent},
		{name: "server refuses; the address is blanked out", dir: testDirectory,
			mailErr:  errors.New("550 mailbox ann@example.org unavailable"),
			delivery: delivery("groups/riverside/members/ann"), wantState: Pending, wantReason: "550 mailbox <recipient> unavailable"},
		{name: "member gone", dir: testDirectory, delivery: delivery("groups/riverside/members/zed"), wantState: Dead, wantReason: "the recipient is not in the directory"},
		{name: "member left", dir: testDirectory, delivery: delivery("groups/riverside/members/cy"), wantState: Dead, wantReason: "the recipient is no longer an active member"},
		{name: "no address", dir: testDirectory, delivery: delivery("groups/riverside/members/dot"), wantState: Dead, wantReason: "the recipient has no e-mail address"},
		{name: "directory down", dir: fakeDirectory{err: errors.New("directory: get member: unavailable")}, delivery: delivery("groups/riverside/members/ann"),
			wantState: Pending, wantReason: "directory: get member: unavailable"},
		{name: "unknown template", dir: testDirectory, delivery: func() Delivery { d := delivery("groups/riverside/members/ann"); d.Template = "nope"; return d }(),
			wantState: Dead, wantReason: "the message template nope could not be rendered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mailer := &fakeMailer{err: tt.mailErr}
			s := &Sender{Directory: tt.dir, Mailer: mailer, Templates: templates, PublicURL: "https://disputes.example.org/",
				Retry: Retry{MaxAttempts: 5}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Now: func() time.Time { return now }, Jitter: func() float64 { return 0.5 }}
			got := s.attempt(context.Background(), tt.delivery)
			if got.State != tt.wantState || got.LastError != tt.wantReason || got.Attempts != 1 {
				t.Fatalf("got %v %q after %d attempts; want %v %q after 1", got.State, got.LastError, got.Attempts, tt.wantState, tt.wantReason)
			}
			if tt.wantState != Sent {
				return
			}
			if len(mailer.sent) != 1 {
				t.Fatalf("sent %d mails", len(mailer.sent))
			}
			m := mailer.sent[0]
			if m.MessageID != tt.delivery.ID+"@disputes.ipn" || m.ToAddress != "ann@example.org" || m.ToName != "Ann" ||
				m.Subject != "New concern registered with Riverside Practitioners" ||
				!strings.Contains(m.Text, "https://disputes.example.org/\n") || !strings.Contains(m.Text, "groups/riverside/concerns/c1") {
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

func (f fakeLog) ListDeliveries(_ context.Context, _ string, after *Cursor, limit int) ([]Delivery, error) {
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
			got, next, err := log.List(ctx, group, Page{Size: 2})
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
			got, next, err = log.List(ctx, group, Page{Size: 2, After: next})
			if err != nil || len(got) != 1 || got[0].ID != "a" || next != nil {
				t.Fatalf("last page = %v, %v, %v", got, next, err)
			}
		})
	}
}
