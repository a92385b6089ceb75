package dispatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

func (f fakeLog) Retry(_ context.Context, _, id string, revive func(Delivery) Delivery) (Delivery, error) {
	for _, d := range f {
		if d.ID == id {
			if d.State != Dead {
				return d, ErrNotDead
			}
			return revive(d), nil
		}
	}
	return Delivery{}, ErrNotFound
}

func TestLogRetry(t *testing.T) {
	t.Parallel()
	const (
		group = "groups/riverside"
		dead  = "0f2b8a0e-1111-4c1e-8a39-0f6b2d9e7c55"
		sent  = "0f2b8a0e-2222-4c1e-8a39-0f6b2d9e7c55"
	)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	log := &Log{Now: func() time.Time { return now }, Store: fakeLog{
		{ID: dead, State: Dead, Attempts: 11, Failures: 8, LastError: "connection refused"},
		{ID: sent, State: Sent, Attempts: 1},
	}}
	admin := auth.Principal{Kind: auth.Member, Member: group + "/members/ann", Group: group, GroupAdmin: true}
	tests := []struct {
		name       string
		caller     auth.Principal
		id         string
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "group admin", caller: admin, id: dead},
		{name: "not dead", caller: admin, id: sent, wantKind: fault.FailedPrecondition, wantReason: "DELIVERY_NOT_DEAD"},
		{name: "unknown", caller: admin, id: "0f2b8a0e-3333-4c1e-8a39-0f6b2d9e7c55", wantKind: fault.NotFound, wantReason: "DELIVERY_NOT_FOUND"},
		{name: "not a uuid", caller: admin, id: "nope", wantKind: fault.NotFound, wantReason: "DELIVERY_NOT_FOUND"},
		{name: "operator", caller: auth.Principal{Kind: auth.Operator}, id: dead, wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
		{name: "plain member", caller: auth.Principal{Kind: auth.Member, Member: group + "/members/ben", Group: group}, id: dead,
			wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
		{name: "admin of another group", caller: auth.Principal{Kind: auth.Member, Member: "groups/hillside/members/hal", Group: "groups/hillside", GroupAdmin: true},
			id: dead, wantKind: fault.NotFound, wantReason: "GROUP_NOT_FOUND"},
		{name: "a service", caller: auth.Principal{Kind: auth.Service, Service: "casework"}, id: dead, wantKind: fault.PermissionDenied, wantReason: "GROUP_ADMIN_ONLY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := log.Retry(auth.WithPrincipal(context.Background(), tt.caller), group, tt.id)
			if tt.wantReason != "" {
				fe, ok := fault.As(err)
				if !ok || fe.Kind != tt.wantKind || fe.Reason != tt.wantReason {
					t.Fatalf("Retry error = %v; want %v %s", err, tt.wantKind, tt.wantReason)
				}
				return
			}
			if err != nil || got.State != Pending || got.Failures != 0 || got.Attempts != 11 || !got.NextAttemptAt.Equal(now) {
				t.Fatalf("Retry = %+v, %v; want pending now with no failures counted and the 11 attempts still on record", got, err)
			}
		})
	}
}

// fakeFederation reaches one endpoint and answers with err.
type fakeFederation struct {
	endpoint string
	err      error
	got      *[]Notice
}

func (f fakeFederation) Reaches(endpoint string) bool { return endpoint == f.endpoint }

func (f fakeFederation) Deliver(_ context.Context, _ string, n Notice) error {
	*f.got = append(*f.got, n)
	return f.err
}

// failingMailer fails every message, so a test sees whether e-mail was
// tried.
type failingMailer struct{ calls *int }

func (m failingMailer) Send(context.Context, Mail) error { *m.calls++; return errors.New("smtp down") }

func TestSenderChoosesChannel(t *testing.T) {
	t.Parallel()
	const group = "groups/riverside"
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	dir := fakeDirectory{
		groups: map[string]Group{group: {Name: group, DisplayName: "Riverside"}},
		links: []LinkGroup{
			{Name: group + "/linkGroups/peer", DisplayName: "Peer Group", Email: "peer@example.net", Endpoint: "peer.example.net:7104"},
			{Name: group + "/linkGroups/stranger", DisplayName: "Stranger Group", Email: "s@example.net", Endpoint: "stranger.example.net:7104"},
			{Name: group + "/linkGroups/mail", DisplayName: "Mail Group", Email: "m@example.net"},
		},
	}
	delivery := func(link, template string) Delivery {
		return Delivery{ID: "0f2b8a0e-4444-4c1e-8a39-0f6b2d9e7c55", Group: group, Template: template, Recipient: group + "/linkGroups/" + link,
			RecipientKind: LinkGroupRecipient, State: Pending, Facts: Facts{FactGroupName: "Riverside", FactCase: group + "/cases/c1"}}
	}
	tests := []struct {
		name        string
		d           Delivery
		peerErr     error
		wantChannel Channel
		wantState   State
		wantNotices int
		wantMails   int
	}{
		{"peer endpoint goes over gRPC", delivery("peer", message.LinkGroupsInformed), nil, GRPC, Sent, 1, 0},
		{"progress reports too", delivery("peer", message.ProgressReported), nil, GRPC, Sent, 1, 0},
		{"a peer that is down is tried again", delivery("peer", message.LinkGroupsInformed), Unreachable(errors.New("peer: Unavailable")), GRPC, Pending, 1, 0},
		{"a peer failing otherwise is tried again, counted", delivery("peer", message.LinkGroupsInformed), errors.New("peer: Internal"), GRPC, Pending, 1, 0},
		{"a peer that refuses kills it", delivery("peer", message.LinkGroupsInformed), ErrNoticeRefused, GRPC, Dead, 1, 0},
		{"an endpoint that is no peer gets e-mail", delivery("stranger", message.LinkGroupsInformed), nil, Email, Pending, 0, 1},
		{"no endpoint gets e-mail", delivery("mail", message.LinkGroupsInformed), nil, Email, Pending, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var notices []Notice
			var mails int
			s := &Sender{
				Directory: dir, Mailer: failingMailer{&mails}, Templates: mustCatalog(t),
				Federation: fakeFederation{endpoint: "peer.example.net:7104", err: tt.peerErr, got: &notices},
				Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
				Now:        func() time.Time { return now }, Jitter: func() float64 { return 0.5 },
			}
			got, _ := s.attemptOnChannel(context.Background(), tt.d.Claimed(now, time.Minute))
			if got.Channel != tt.wantChannel || got.State != tt.wantState || len(notices) != tt.wantNotices || mails != tt.wantMails {
				t.Fatalf("channel %q, state %v, %d notices, %d mails; want %q, %v, %d, %d",
					got.Channel, got.State, len(notices), mails, tt.wantChannel, tt.wantState, tt.wantNotices, tt.wantMails)
			}
			// A peer that is down waits as long as one that failed
			// otherwise (the usual backoff, not the sender's short
			// Transient wait: it is another deployment), but only the
			// latter counts.
			if tt.wantState == Pending && tt.wantNotices == 1 && !got.NextAttemptAt.Equal(now.Add(time.Second)) {
				t.Errorf("next attempt %v; want the injected jitter's half of the first 2s ceiling", got.NextAttemptAt)
			}
			if wantFailures := map[bool]int{true: 1}[tt.peerErr != nil && Classify(tt.peerErr) == Unknown]; tt.wantNotices == 1 && got.Failures != wantFailures {
				t.Errorf("failures %d; want %d", got.Failures, wantFailures)
			}
			for _, n := range notices {
				if n.ID != tt.d.ID || n.Group != group || n.GroupName != "Riverside" || n.Case != group+"/cases/c1" {
					t.Errorf("notice %+v", n)
				}
			}
		})
	}
}

func mustCatalog(t *testing.T) Templates {
	t.Helper()
	c, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
