package app_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/app"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// standInNotification records the sign-in links the directory has it send.
type standInNotification struct {
	notificationv1.UnimplementedNotificationServiceServer
	mu   sync.Mutex
	sent []*notificationv1.SendSignInLinkRequest
	// delay is how long a mail server takes to take a mail.
	delay time.Duration
}

func (n *standInNotification) SendSignInLink(_ context.Context, req *notificationv1.SendSignInLinkRequest) (*emptypb.Empty, error) {
	n.mu.Lock()
	delay := n.delay
	n.mu.Unlock()
	<-time.After(delay)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, req)
	return &emptypb.Empty{}, nil
}

// link waits for the n-th link sent (counting from 1) and returns its secret.
func (n *standInNotification) link(t *testing.T, count int) (*notificationv1.SendSignInLinkRequest, string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n.mu.Lock()
		if len(n.sent) >= count {
			req := n.sent[count-1]
			n.mu.Unlock()
			return req, req.GetLinkUrl()[strings.LastIndex(req.GetLinkUrl(), "/")+1:]
		}
		n.mu.Unlock()
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	t.Fatalf("no sign-in link number %d was sent", count)
	return nil, ""
}

func (n *standInNotification) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.sent)
}

// clock is a clock a test moves.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// startSignIn runs a directory with a stand-in notification and a clock the
// test moves.
func startSignIn(t *testing.T, change func(*app.Config)) (*env, *standInNotification, *clock) {
	t.Helper()
	n := &standInNotification{}
	c := &clock{}
	addr := testenv.ServeGRPC(t, func(s *grpc.Server) { notificationv1.RegisterNotificationServiceServer(s, n) })
	e := startWith(t, func(cfg *app.Config) {
		cfg.NotificationAddr = addr
		cfg.PublicURL = "https://disputes.example.org"
		cfg.Now = c.now
		cfg.SignInMinAnswer = 20 * time.Millisecond
		cfg.TrustedGateways = "127.0.0.0/8"
		change(cfg)
	})
	return e, n, c
}

func from(addr string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), grpcserver.ClientAddressKey, addr)
}

func TestSignInLink(t *testing.T) {
	t.Parallel()
	e, n, clk := startSignIn(t, func(*app.Config) {})
	e.seed(t, "riverside")
	ctx := from("203.0.113.7")

	if _, err := e.client.RequestSignInLink(ctx, &directoryv1.RequestSignInLinkRequest{Group: "groups/riverside", Email: "Ben@Riverside.example.org"}); err != nil {
		t.Fatalf("request link: %v", err)
	}
	mail, secret := n.link(t, 1)
	if got, want := mail.GetLinkUrl(), "https://disputes.example.org/riverside/sign-in/"+secret; got != want || len(secret) != 52 {
		t.Errorf("link = %q, want %q with a 256-bit secret", got, want)
	}
	if mail.GetMember() != "groups/riverside/members/ben" || mail.GetEmail() != "ben@riverside.example.org" ||
		mail.GetRequestedFrom() != "a network whose addresses start 203.0.113" || mail.GetGroupDisplayName() != "Group riverside" {
		t.Errorf("mail = %v", mail)
	}
	if got := mail.GetExpireTime().AsTime().Sub(mail.GetRequestTime().AsTime()); got != 15*time.Minute {
		t.Errorf("link lasts %v, want 15m", got)
	}

	session, err := e.client.CreateMemberSession(ctx, &directoryv1.CreateMemberSessionRequest{Secret: secret})
	if err != nil {
		t.Fatalf("use link: %v", err)
	}
	if !strings.HasPrefix(session.GetToken(), "ipnms_") || !strings.HasPrefix(session.GetName(), "groups/riverside/members/ben/sessions/") {
		t.Errorf("session = %v", session)
	}
	if got := session.GetExpireTime().AsTime().Sub(session.GetCreateTime().AsTime()); got != 12*time.Hour {
		t.Errorf("session lasts %v, want the default 12h", got)
	}
	who, err := e.client.Authenticate(asService(), &directoryv1.AuthenticateRequest{Secret: session.GetToken()})
	if err != nil || who.GetMember() != "groups/riverside/members/ben" || who.GetGroup() != "groups/riverside" {
		t.Fatalf("authenticate session = %v, %v; want ben", who, err)
	}

	t.Run("single use", func(t *testing.T) {
		_, err := e.client.CreateMemberSession(ctx, &directoryv1.CreateMemberSessionRequest{Secret: secret})
		expectFault(t, err, codes.FailedPrecondition, "SIGN_IN_LINK_USED")
	})
	t.Run("unknown secret", func(t *testing.T) {
		_, err := e.client.CreateMemberSession(ctx, &directoryv1.CreateMemberSessionRequest{Secret: strings.Repeat("a", 52)})
		expectFault(t, err, codes.FailedPrecondition, "SIGN_IN_LINK_EXPIRED")
	})
	t.Run("expires after 15 minutes", func(t *testing.T) {
		if _, err := e.client.RequestSignInLink(ctx, &directoryv1.RequestSignInLinkRequest{Group: "groups/riverside", Email: "cai@riverside.example.org"}); err != nil {
			t.Fatal(err)
		}
		_, fresh := n.link(t, 2)
		clk.advance(15 * time.Minute)
		_, err := e.client.CreateMemberSession(ctx, &directoryv1.CreateMemberSessionRequest{Secret: fresh})
		expectFault(t, err, codes.FailedPrecondition, "SIGN_IN_LINK_EXPIRED")
		clk.advance(-15 * time.Minute)
		_, err = e.client.CreateMemberSession(ctx, &directoryv1.CreateMemberSessionRequest{Secret: fresh})
		if err != nil {
			t.Errorf("just under 15 minutes: %v", err)
		}
	})
	t.Run("sessions listed and ended", func(t *testing.T) {
		ben := as(session.GetToken())
		list, err := e.client.ListMemberSessions(ben, &directoryv1.ListMemberSessionsRequest{Parent: "groups/riverside/members/ben"})
		if err != nil || len(list.GetMemberSessions()) != 1 || list.GetMemberSessions()[0].GetName() != session.GetName() || list.GetMemberSessions()[0].GetToken() != "" {
			t.Fatalf("list = %v, %v", list, err)
		}
		_, err = e.client.ListMemberSessions(ben, &directoryv1.ListMemberSessionsRequest{Parent: "groups/riverside/members/cai"})
		expectFault(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
		got, err := e.client.GetMemberSession(ben, &directoryv1.GetMemberSessionRequest{Name: session.GetName()})
		if err != nil || got.GetName() != session.GetName() || got.GetToken() != "" {
			t.Errorf("the member reads their session: %v, %v; want it, without its token", got, err)
		}
		_, err = e.client.GetMemberSession(as(e.issue(t, "riverside", "cai")), &directoryv1.GetMemberSessionRequest{Name: session.GetName()})
		expectFault(t, err, codes.NotFound, "SESSION_NOT_FOUND")
		if _, err := e.client.RevokeMemberSession(ben, &directoryv1.RevokeMemberSessionRequest{Name: session.GetName()}); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		_, err = e.client.Authenticate(asService(), &directoryv1.AuthenticateRequest{Secret: session.GetToken()})
		expectFault(t, err, codes.Unauthenticated, "")
	})
	t.Run("an admin ends a member's session", func(t *testing.T) {
		if _, err := e.client.RequestSignInLink(ctx, &directoryv1.RequestSignInLinkRequest{Group: "groups/riverside", Email: "ben@riverside.example.org"}); err != nil {
			t.Fatal(err)
		}
		_, s := n.link(t, 3)
		again, err := e.client.CreateMemberSession(ctx, &directoryv1.CreateMemberSessionRequest{Secret: s})
		if err != nil {
			t.Fatal(err)
		}
		admin := e.issue(t, "riverside", "ada")
		if _, err := e.client.RevokeMemberSession(as(admin), &directoryv1.RevokeMemberSessionRequest{Name: again.GetName()}); err != nil {
			t.Fatalf("admin revokes: %v", err)
		}
		_, err = e.client.RevokeMemberSession(as(admin), &directoryv1.RevokeMemberSessionRequest{Name: again.GetName()})
		expectFault(t, err, codes.FailedPrecondition, "SESSION_REVOKED")
		_, err = e.client.Authenticate(asService(), &directoryv1.AuthenticateRequest{Secret: again.GetToken()})
		expectFault(t, err, codes.Unauthenticated, "")
	})
}

// TestSignInLinkSameAnswer shows that an address no member has gets the
// same answer as a member's, in about the same time, and no mail.
func TestSignInLinkSameAnswer(t *testing.T) {
	t.Parallel()
	e, n, _ := startSignIn(t, func(cfg *app.Config) {
		cfg.SignInLinksPerEmail, cfg.SignInLinksPerAddress = 0, 0
		cfg.SignInMinAnswer = 30 * time.Millisecond
	})
	n.mu.Lock()
	n.delay = 40 * time.Millisecond // a slow mail server must not show in the answer
	n.mu.Unlock()
	e.seed(t, "riverside")
	timings := map[string][]time.Duration{}
	for i := range 40 {
		email := "ben@riverside.example.org"
		if i%2 == 1 {
			email = "nobody@riverside.example.org"
		}
		begin := time.Now()
		resp, err := e.client.RequestSignInLink(context.Background(), &directoryv1.RequestSignInLinkRequest{Group: "groups/riverside", Email: email})
		timings[email] = append(timings[email], time.Since(begin))
		if err != nil || resp == nil {
			t.Fatalf("%s: %v, %v", email, resp, err)
		}
	}
	median := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	known, unknown := median(timings["ben@riverside.example.org"]), median(timings["nobody@riverside.example.org"])
	if diff := (known - unknown).Abs(); diff > 5*time.Millisecond {
		t.Errorf("median answer: known address %v, unknown %v; differ by %v, more than 5ms", known, unknown, diff)
	}
	t.Logf("median answer: known address %v, unknown %v", known, unknown)
	n.link(t, 20)
	if got := n.count(); got != 20 {
		t.Errorf("%d mails sent, want 20 (the known address's only)", got)
	}
}

func TestSignInLinkLimits(t *testing.T) {
	t.Parallel()
	e, _, _ := startSignIn(t, func(cfg *app.Config) {
		cfg.SignInLinksPerEmail, cfg.SignInLinksPerAddress, cfg.SignInLinkWindow = 2, 4, time.Hour
	})
	e.seed(t, "riverside")
	ask := func(ctx context.Context, email string) error {
		_, err := e.client.RequestSignInLink(ctx, &directoryv1.RequestSignInLinkRequest{Group: "groups/riverside", Email: email})
		return err
	}
	tests := []struct {
		name, from, email string
		reason            string
	}{
		{"known 1", "198.51.100.1", "ben@riverside.example.org", ""},
		{"known 2", "198.51.100.2", "BEN@riverside.example.org", ""},
		{"known 3, per address", "198.51.100.3", "ben@riverside.example.org", "TOO_MANY_SIGN_IN_LINKS"},
		{"unknown 1", "198.51.100.4", "nobody@riverside.example.org", ""},
		{"unknown 2", "198.51.100.4", "nobody@riverside.example.org", ""},
		{"unknown 3, limited alike", "198.51.100.5", "nobody@riverside.example.org", "TOO_MANY_SIGN_IN_LINKS"},
		{"network 3", "198.51.100.4", "cai@riverside.example.org", ""},
		{"network 4", "198.51.100.4", "ada@riverside.example.org", ""},
		{"network 5", "198.51.100.4", "x@riverside.example.org", "TOO_MANY_SIGN_IN_LINKS"},
	}
	for _, tc := range tests { // in order: each counts
		err := ask(from(tc.from), tc.email)
		if tc.reason == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		t.Run(tc.name, func(t *testing.T) { expectFault(t, err, codes.ResourceExhausted, tc.reason) })
	}
}

// expectFault fails unless err has the code and, when reason is given, the
// ErrorInfo reason.
func expectFault(t *testing.T, err error, code codes.Code, reason string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("err = %v, want %v", err, code)
	}
	if reason == "" {
		return
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == reason {
			return
		}
	}
	t.Fatalf("err = %v, want reason %s", err, reason)
}
