package app

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	federationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/federation"
	"github.com/ipnmediation/disputes/services/notification/internal/smtptest"
)

func TestMailServerDownWhileTwentyEventsArrive(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	r := startNotification(t, options{smtpAddr: mailpit.SMTPAddr, maxAttempts: 1000, retryBase: 20 * time.Millisecond, retryMax: 200 * time.Millisecond})
	ctx := context.Background()
	mailpit.Stop()

	const events = 20
	want := events * len(activeEmails())
	var concerns []string
	for range events {
		ev := concernEvent()
		concerns = append(concerns, ev.GetConcern())
		r.publish(t, ev, ev.GetMetadata().GetEventId())
	}
	testenv.Eventually(t, time.Minute, "every delivery is planned, and attempts fail", func() bool {
		var planned, failed int
		err := r.db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'pending' AND attempts > 0 AND last_error <> '')
			FROM notification.deliveries`).Scan(&planned, &failed)
		return err == nil && planned == want && failed >= 2
	})

	// Back on the same port, with an empty mailbox.
	back := startMailpitAt(t, mailpit.SMTPAddr)
	testenv.Eventually(t, time.Minute, "every delivery is sent", func() bool { return r.stateCounts(t)["sent"] == want })

	// The delivery log says so, message by message.
	client := r.client(t, adminToken)
	sent, token := 0, ""
	for {
		resp, err := client.ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group, PageSize: 200, PageToken: token,
			State: notificationv1.Delivery_STATE_SENT})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.GetDeliveries() {
			sent++
			if d.GetAttempts() < 1 || d.GetChannel() != notificationv1.Delivery_CHANNEL_EMAIL || d.GetLastError() != "" {
				t.Errorf("delivery %v; want sent by e-mail", d)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if sent != want {
		t.Errorf("the log lists %d sent deliveries; want %d", sent, want)
	}
	// The failed attempts are on record, and none counted.
	var retried, counted int
	if err := r.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE attempts > 1), coalesce(sum(failures), 0) FROM notification.deliveries`).
		Scan(&retried, &counted); err != nil || retried < 2 || counted != 0 {
		t.Errorf("%d deliveries sent at a later attempt, %d failures counted (%v); want at least 2, and none", retried, counted, err)
	}

	// And the mailbox holds each (recipient, concern) exactly once.
	testenv.Eventually(t, time.Minute, "the mailbox holds every message", func() bool { return len(received(t, back)) >= want })
	msgs := received(t, back)
	if len(msgs) != want {
		t.Fatalf("mailbox holds %d messages; want %d", len(msgs), want)
	}
	oncePerRecipient(t, back, msgs, concerns)
}

func TestRetryDeadDelivery(t *testing.T) {
	t.Parallel()
	refusing := smtptest.Start(t, "127.0.0.1:0", smtptest.Replies{Rcpt: "550 5.1.1 mailbox unavailable"})
	smtpAddr := refusing.Addr // mailpit takes over here later
	r := startNotification(t, options{smtpAddr: smtpAddr, maxAttempts: 2, retryBase: 10 * time.Millisecond, retryMax: 20 * time.Millisecond})
	ctx := context.Background()
	ev := concernEvent()
	r.publish(t, ev, ev.GetMetadata().GetEventId())
	testenv.Eventually(t, time.Minute, "every delivery is dead", func() bool { return r.stateCounts(t)["dead"] == 6 })

	admin := r.client(t, adminToken)
	dead, err := admin.ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group, State: notificationv1.Delivery_STATE_DEAD,
		Recipient: memberName("bea-lund")})
	if err != nil || len(dead.GetDeliveries()) != 1 {
		t.Fatalf("dead deliveries to bea-lund: %v, %v; want one", dead, err)
	}
	target := dead.GetDeliveries()[0]
	refusing.Close()
	mailpit := startMailpitAt(t, smtpAddr)

	tests := []struct {
		name       string
		secret     string
		delivery   string
		wantCode   codes.Code
		wantReason string
	}{
		{"plain member", memberToken, target.GetName(), codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"operator", operatorToken, target.GetName(), codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"admin of another group", otherGroupToken, target.GetName(), codes.NotFound, "GROUP_NOT_FOUND"},
		{"another service", auth.ServiceToken("casework", caseworkSecret), target.GetName(), codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"unknown delivery", adminToken, group + "/deliveries/" + uuid.NewString(), codes.NotFound, "DELIVERY_NOT_FOUND"},
		{"group admin", adminToken, target.GetName(), codes.OK, ""},
	}
	for _, tt := range tests { // in order: the admin's retry comes last
		_, err := r.client(t, tt.secret).RetryDelivery(ctx, &notificationv1.RetryDeliveryRequest{Name: tt.delivery})
		if tt.wantCode == codes.OK {
			if err != nil {
				t.Fatalf("%s: RetryDelivery: %v", tt.name, err)
			}
			continue
		}
		testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
	}

	testenv.Eventually(t, time.Minute, "the retried delivery is sent", func() bool {
		c := r.stateCounts(t)
		return c["sent"] == 1 && c["dead"] == 5 && len(received(t, mailpit)) == 1
	})
	if got := received(t, mailpit)[0].To[0].Address; got != emailOf("bea-lund") {
		t.Errorf("the retried message went to %s", got)
	}
	_, err = admin.RetryDelivery(ctx, &notificationv1.RetryDeliveryRequest{Name: target.GetName()})
	testenv.WantStatus(t, err, codes.FailedPrecondition, "DELIVERY_NOT_DEAD")
}

// TestDeadDeliveriesToldToAdmins: messages die while the mail server
// refuses them; once it takes mail again, the dead-letter job tells the
// group's admin once, by e-mail, where to look, and no later pass tells
// them again.
func TestDeadDeliveriesToldToAdmins(t *testing.T) {
	t.Parallel()
	refusing := smtptest.Start(t, "127.0.0.1:0", smtptest.Replies{Rcpt: "550 5.1.1 mailbox unavailable"})
	smtpAddr := refusing.Addr // mailpit takes over here later
	o := options{smtpAddr: smtpAddr, maxAttempts: 1, dbURL: testenv.Database(t), ns: testenv.Namespace(t)}
	t.Run("the messages die", func(t *testing.T) {
		r := startNotification(t, o)
		ev := concernEvent()
		r.publish(t, ev, ev.GetMetadata().GetEventId())
		testenv.Eventually(t, time.Minute, "every delivery is dead", func() bool { return r.stateCounts(t)["dead"] == 6 })
	})
	refusing.Close()
	mailpit := startMailpitAt(t, smtpAddr)
	t.Run("the admin is told", func(t *testing.T) {
		var passes atomic.Int64
		o := o
		o.deadLetterInterval, o.deadLetterPassed = 20*time.Millisecond, func() { passes.Add(1) }
		r := startNotification(t, o)
		testenv.Eventually(t, time.Minute, "the admin's message", func() bool { return len(received(t, mailpit)) > 0 })
		// Later passes must not tell again.
		seen := passes.Load()
		testenv.Eventually(t, time.Minute, "five more passes", func() bool { return passes.Load() >= seen+5 })
		msgs := received(t, mailpit)
		if len(msgs) != 1 || msgs[0].To[0].Address != emailOf("bea-lund") || msgs[0].Subject != "Messages could not be delivered - "+groupDisplayName {
			t.Fatalf("mail %+v; want one message to the admin", msgs)
		}
		body, err := mailpit.Body(context.Background(), msgs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body.Text, "Delivery log: "+group+"/deliveries") || !strings.Contains(body.Text, publicURL) {
			t.Errorf("the admin's message does not say where to look:\n%s", body.Text)
		}
		if counts := r.stateCounts(t); counts["dead"] != 6 || counts["sent"] != 1 {
			t.Errorf("deliveries %v; want the 6 dead and the admin's message sent", counts)
		}
	})
}

func TestDeliveryLogFilters(t *testing.T) {
	t.Parallel()
	r := startNotification(t, options{smtpAddr: testenv.FreeAddr(t), maxAttempts: 1000, retryBase: time.Minute, retryMax: time.Minute})
	ctx := context.Background()
	caseA, caseB := group+"/cases/"+uuid.NewString(), group+"/cases/"+uuid.NewString()
	concern := concernEvent()
	r.publish(t, concern, concern.GetMetadata().GetEventId())
	for _, ev := range []struct {
		c, step string
		a       procedurev1.Action
	}{
		{caseA, "inform_link_groups", procedurev1.Action_ACTION_INFORM_LINK_GROUPS},
		{caseA, "lp_progress_report", procedurev1.Action_ACTION_REPORT_PROGRESS},
		{caseB, "inform_link_groups", procedurev1.Action_ACTION_INFORM_LINK_GROUPS},
	} {
		e := stepEvent(ev.c, ev.step, ev.a)
		r.publishStep(t, e, e.GetMetadata().GetEventId())
	}
	// 6 members, then two link groups with an address for each of 3 steps.
	testenv.Eventually(t, time.Minute, "12 deliveries are planned", func() bool { return r.stateCounts(t)["pending"] == 12 })

	tests := []struct {
		name string
		req  *notificationv1.ListDeliveriesRequest
		want int
	}{
		{"everything", &notificationv1.ListDeliveriesRequest{Parent: group}, 12},
		{"one case", &notificationv1.ListDeliveriesRequest{Parent: group, Case: caseA}, 4},
		{"another case", &notificationv1.ListDeliveriesRequest{Parent: group, Case: caseB}, 2},
		{"one link group", &notificationv1.ListDeliveriesRequest{Parent: group, Recipient: linkName("lakeland")}, 3},
		{"one link group in one case", &notificationv1.ListDeliveriesRequest{Parent: group, Recipient: linkName("lakeland"), Case: caseA}, 2},
		{"one member", &notificationv1.ListDeliveriesRequest{Parent: group, Recipient: memberName("cal-nash")}, 1},
		{"pending", &notificationv1.ListDeliveriesRequest{Parent: group, State: notificationv1.Delivery_STATE_PENDING}, 12},
		{"dead", &notificationv1.ListDeliveriesRequest{Parent: group, State: notificationv1.Delivery_STATE_DEAD}, 0},
	}
	client := r.client(t, adminToken)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := client.ListDeliveries(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.GetDeliveries()) != tt.want {
				t.Errorf("got %d deliveries; want %d", len(resp.GetDeliveries()), tt.want)
			}
			for _, d := range resp.GetDeliveries() {
				if tt.req.GetCase() != "" && d.GetCase() != tt.req.GetCase() {
					t.Errorf("delivery %v is about another case", d)
				}
			}
		})
	}
	t.Run("bad filters", func(t *testing.T) {
		t.Parallel()
		_, err := client.ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group, Case: "groups/hillside/cases/x"})
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "case")
		_, err = client.ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group, Recipient: "groups/hillside/members/x"})
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "recipient")
	})
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := Config{SendRate: 1, MaxAttempts: 1, PublicURL: "https://example.org", SMTPStartTLS: "required", SMTPAuth: "plain"}
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{"good", func(*Config) {}, ""},
		{"starttls opportunistic", func(c *Config) { c.SMTPStartTLS = "opportunistic" }, ""},
		{"starttls as the old boolean", func(c *Config) { c.SMTPStartTLS = "true" }, ""},
		{"login", func(c *Config) { c.SMTPAuth = "LOGIN"; c.SMTPUsername = "u"; c.SMTPPassword = "p" }, ""},
		{"unknown starttls", func(c *Config) { c.SMTPStartTLS = "sometimes" }, "starttls"},
		{"unknown auth", func(c *Config) { c.SMTPAuth = "cram-md5" }, "smtp auth"},
		{"password without user", func(c *Config) { c.SMTPPassword = "p" }, "without a user name"},
		{"peers", func(c *Config) {
			c.FederationPeers = "hill=0123456789abcdef@hill.example.net:7104,dale=fedcba9876543210"
		}, ""},
		{"peer without secret", func(c *Config) { c.FederationPeers = "hill=@hill.example.net:7104" }, "no secret"},
		{"peer secret too short", func(c *Config) { c.FederationPeers = "hill=short" }, "at least 16"},
		{"peer endpoint without port", func(c *Config) { c.FederationPeers = "hill=0123456789abcdef@hill.example.net" }, "endpoint"},
		{"peers sharing a secret", func(c *Config) { c.FederationPeers = "hill=0123456789abcdef,dale=0123456789abcdef" }, "shares its secret"},
		{"peer twice", func(c *Config) { c.FederationPeers = "hill=0123456789abcdef,hill=fedcba9876543210" }, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.change(&c)
			err := c.check()
			if tt.wantErr == "" && err != nil {
				t.Fatalf("check: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("check = %v; want an error about %q", err, tt.wantErr)
			}
		})
	}
}

// peerDirectory is one deployment's directory for the federation test: one
// group with one admin and one external link group.
type peerDirectory struct {
	directoryv1.UnimplementedDirectoryServiceServer
	group, displayName, adminToken string
	link                           *directoryv1.LinkGroup
}

func (d peerDirectory) GetGroup(ctx context.Context, req *directoryv1.GetGroupRequest) (*directoryv1.Group, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetName() != d.group {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	return &directoryv1.Group{Name: d.group, DisplayName: d.displayName}, nil
}

func (d peerDirectory) ListGroups(ctx context.Context, _ *directoryv1.ListGroupsRequest) (*directoryv1.ListGroupsResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	return &directoryv1.ListGroupsResponse{Groups: []*directoryv1.Group{{Name: d.group, DisplayName: d.displayName}}}, nil
}

func (d peerDirectory) ListLinkGroups(ctx context.Context, req *directoryv1.ListLinkGroupsRequest) (*directoryv1.ListLinkGroupsResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetParent() != d.group {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	return &directoryv1.ListLinkGroupsResponse{LinkGroups: []*directoryv1.LinkGroup{d.link}}, nil
}

// admin is the group's one member, its admin, who is told of incoming
// notices.
func (d peerDirectory) admin() *directoryv1.Member {
	return &directoryv1.Member{Name: d.group + "/members/admin", DisplayName: "The Admin", State: directoryv1.Member_STATE_ACTIVE, GroupAdmin: true,
		Contact: &directoryv1.ContactDetails{Email: "admin@" + strings.TrimPrefix(d.group, "groups/") + ".example.org"}}
}

func (d peerDirectory) ListMembers(ctx context.Context, req *directoryv1.ListMembersRequest) (*directoryv1.ListMembersResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetParent() != d.group {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	return &directoryv1.ListMembersResponse{Members: []*directoryv1.Member{d.admin()}}, nil
}

func (d peerDirectory) GetMember(ctx context.Context, req *directoryv1.GetMemberRequest) (*directoryv1.Member, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetName() != d.admin().GetName() {
		return nil, status.Error(codes.NotFound, "no such member")
	}
	return d.admin(), nil
}

func (d peerDirectory) Authenticate(ctx context.Context, req *directoryv1.AuthenticateRequest) (*directoryv1.AuthenticateResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetSecret() != d.adminToken {
		return nil, status.Error(codes.Unauthenticated, "unknown secret")
	}
	return &directoryv1.AuthenticateResponse{Member: d.group + "/members/admin", Group: d.group, GroupAdmin: true, CacheTtl: durationpb.New(time.Second)}, nil
}

// deployment is one notification service of the federation test, on its
// own database and event namespace.
type deployment struct {
	running
	mailpit *testenv.Mailpit
}

func startDeployment(t *testing.T, addr string, dir peerDirectory, peers string) deployment {
	t.Helper()
	dbURL := testenv.Database(t)
	mailpit := testenv.StartMailpit(t)
	r := running{addr: addr, ns: testenv.Namespace(t)}
	cfg := Config{
		Service: config.Service{
			GRPCAddr: addr, DatabaseURL: dbURL, DatabaseSchema: "notification", NATSURL: testenv.NATS(t),
			EventNamespace: string(r.ns), LogLevel: "warn", ShutdownTimeout: 5 * time.Second, ServiceSecret: notificationSecret,
		},
		DirectoryAddr:       testenv.ServeGRPC(t, func(s *grpc.Server) { directoryv1.RegisterDirectoryServiceServer(s, dir) }),
		SMTPAddr:            mailpit.SMTPAddr,
		SMTPStartTLS:        "off",
		SMTPAuth:            "plain",
		MailFrom:            "IPN disputes <disputes@localhost>",
		SendRate:            200,
		MaxAttempts:         1000,
		PublicURL:           publicURL,
		RetryBase:           20 * time.Millisecond,
		RetryMax:            200 * time.Millisecond,
		PollInterval:        50 * time.Millisecond,
		FederationPeers:     peers,
		FederationPlaintext: true,
	}
	testenv.RunService(t, Name, addr, func(ctx context.Context) error { return Run(ctx, cfg) })
	nc, err := nats.Connect(cfg.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if r.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	if r.db, err = pgx.Connect(context.Background(), dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Close(context.Background()) })
	return deployment{running: r, mailpit: mailpit}
}

// federationClient calls a deployment's FederationService with secret.
func federationClient(t *testing.T, addr, secret string) federationv1.FederationServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secret), method, req, reply, cc, opts...)
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return federationv1.NewFederationServiceClient(conn)
}

// TestTwoDeploymentsSideBySide runs two notification services in this
// process (two databases, two event namespaces, two directories): A's
// group riverside has hillside, which runs on B, as a link group with B's
// address; B's hillside has riverside with A's.
func TestTwoDeploymentsSideBySide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const secret = "a-and-b-share-this-long-secret"
	addrA, addrB := testenv.FreeAddr(t), testenv.FreeAddr(t)
	a := startDeployment(t, addrA, peerDirectory{group: group, displayName: groupDisplayName, adminToken: adminToken,
		link: &directoryv1.LinkGroup{Name: linkName("hillside"), DisplayName: "Hillside Group", Target: &directoryv1.LinkGroup_ExternalGroup{
			ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: "links@hillside.example.net", GrpcEndpoint: addrB}}}},
		"b="+secret+"@"+addrB)
	const hillside = "groups/hillside"
	hillsideAdmin := "token-hillside-admin-on-b"
	b := startDeployment(t, addrB, peerDirectory{group: hillside, displayName: "Hillside Group", adminToken: hillsideAdmin,
		link: &directoryv1.LinkGroup{Name: hillside + "/linkGroups/riverside", DisplayName: groupDisplayName, Target: &directoryv1.LinkGroup_ExternalGroup{
			ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: "links@riverside.example.org", GrpcEndpoint: addrA}}}},
		"a="+secret+"@"+addrA)

	caseName := group + "/cases/" + uuid.NewString()
	informed := stepEvent(caseName, "inform_link_groups", procedurev1.Action_ACTION_INFORM_LINK_GROUPS)
	a.publishStep(t, informed, informed.GetMetadata().GetEventId())
	// The same event under another message id gets past JetStream and must
	// still make one notice.
	a.publishStep(t, informed, uuid.NewString())

	listB := func() []*federationv1.IncomingNotice {
		resp, err := federationClient(t, addrB, hillsideAdmin).ListIncomingNotices(ctx, &federationv1.ListIncomingNoticesRequest{Parent: hillside})
		if err != nil {
			t.Fatalf("ListIncomingNotices: %v", err)
		}
		return resp.GetIncomingNotices()
	}
	testenv.Eventually(t, time.Minute, "the notice reaches B", func() bool { return len(listB()) == 1 })
	n := listB()[0]
	if got := n.GetNotice(); got.GetKind() != federationv1.Notice_KIND_LINK_GROUPS_INFORMED || got.GetCase() != caseName ||
		got.GetFromGroup().GetName() != group || got.GetFromGroup().GetDisplayName() != groupDisplayName || n.GetPeer() != "a" ||
		!strings.HasPrefix(n.GetName(), hillside+"/incomingNotices/") {
		t.Errorf("incoming notice %v", n)
	}
	// It reads back by its name, as listed, to whoever may list; to anyone
	// else, and under another group's name, it does not exist.
	if got, err := federationClient(t, addrB, hillsideAdmin).GetIncomingNotice(ctx, &federationv1.GetIncomingNoticeRequest{Name: n.GetName()}); err != nil || !proto.Equal(got, n) {
		t.Errorf("GetIncomingNotice = %v, %v; the list shows %v", got, err, n)
	}
	id := strings.TrimPrefix(n.GetName(), hillside+"/incomingNotices/")
	for _, tt := range []struct {
		name, secret, notice string
		wantCode             codes.Code
		wantReason           string
	}{
		{"a peer", federation.Token(secret), n.GetName(), codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"no credentials", "", n.GetName(), codes.Unauthenticated, "UNAUTHENTICATED"},
		{"another group's admin", hillsideAdmin, group + "/incomingNotices/" + id, codes.NotFound, "INCOMING_NOTICE_NOT_FOUND"},
		{"an unknown notice", hillsideAdmin, hillside + "/incomingNotices/" + uuid.NewString(), codes.NotFound, "INCOMING_NOTICE_NOT_FOUND"},
		{"not a notice id", hillsideAdmin, hillside + "/incomingNotices/x", codes.NotFound, "INCOMING_NOTICE_NOT_FOUND"},
	} {
		_, err := federationClient(t, addrB, tt.secret).GetIncomingNotice(ctx, &federationv1.GetIncomingNoticeRequest{Name: tt.notice})
		if st := status.Convert(err); st.Code() != tt.wantCode || reasonOf(err) != tt.wantReason {
			t.Errorf("GetIncomingNotice as %s: %v; want %v %s", tt.name, err, tt.wantCode, tt.wantReason)
		}
	}

	// A's log shows the delivery went over gRPC; no e-mail went. B lists
	// the notice as soon as it is recorded, a moment before A hears back.
	var resp *notificationv1.ListDeliveriesResponse
	testenv.Eventually(t, time.Minute, "A's delivery to be sent", func() bool {
		var err error
		if resp, err = a.client(t, adminToken).ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group}); err != nil {
			t.Fatal(err)
		}
		return len(resp.GetDeliveries()) != 1 || resp.GetDeliveries()[0].GetState() != notificationv1.Delivery_STATE_PENDING
	})
	if len(resp.GetDeliveries()) != 1 {
		t.Fatalf("A has %d deliveries; want 1", len(resp.GetDeliveries()))
	}
	d := resp.GetDeliveries()[0]
	if d.GetChannel() != notificationv1.Delivery_CHANNEL_GRPC || d.GetState() != notificationv1.Delivery_STATE_SENT || d.GetCase() != caseName {
		t.Errorf("A's delivery %v; want sent over gRPC", d)
	}
	if msgs := received(t, a.mailpit); len(msgs) != 0 {
		t.Errorf("A sent %d e-mails; want none", len(msgs))
	}
	// B tells hillside's admin, once, by e-mail.
	testenv.Eventually(t, time.Minute, "B's admin to be told", func() bool { return len(received(t, b.mailpit)) > 0 })
	if msgs := received(t, b.mailpit); len(msgs) != 1 || msgs[0].To[0].Address != "admin@hillside.example.org" ||
		msgs[0].Subject != groupDisplayName+" has told Hillside Group of a concern raised with it" {
		t.Errorf("B's e-mails: %+v; want one to hillside's admin", msgs)
	}

	// A retry of the same notice (the answer was lost, say) records nothing
	// new, and strangers may neither deliver nor read.
	peerA := federationClient(t, addrB, federation.Token(secret))
	again, err := peerA.DeliverNotice(ctx, &federationv1.DeliverNoticeRequest{Notice: &federationv1.Notice{
		Id: n.GetNotice().GetId(), FromGroup: n.GetNotice().GetFromGroup(), Kind: n.GetNotice().GetKind(), Case: caseName,
		SentTime: timestamppb.Now(),
	}})
	if err != nil || again.GetName() != n.GetName() {
		t.Fatalf("DeliverNotice again = %v, %v; want the recorded notice %s", again, err, n.GetName())
	}
	if got := listB(); len(got) != 1 {
		t.Errorf("B lists %d notices after a retry; want 1", len(got))
	}
	if log, err := b.client(t, hillsideAdmin).ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: hillside}); err != nil || len(log.GetDeliveries()) != 1 {
		t.Errorf("B's delivery log after a retry: %v, %v; want the one delivery to its admin", log.GetDeliveries(), err)
	}
	tests := []struct {
		name       string
		call       func() error
		wantCode   codes.Code
		wantReason string
	}{
		{"wrong secret", func() error {
			_, err := federationClient(t, addrB, federation.Token("not-the-secret-at-all")).DeliverNotice(ctx,
				&federationv1.DeliverNoticeRequest{Notice: &federationv1.Notice{Id: "x", FromGroup: n.GetNotice().GetFromGroup(), Kind: 1, Case: caseName}})
			return err
		}, codes.Unauthenticated, "UNAUTHENTICATED"},
		{"a member may not deliver", func() error {
			_, err := federationClient(t, addrB, hillsideAdmin).DeliverNotice(ctx,
				&federationv1.DeliverNoticeRequest{Notice: &federationv1.Notice{Id: "x", FromGroup: n.GetNotice().GetFromGroup(), Kind: 1, Case: caseName}})
			return err
		}, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"a peer may not read", func() error {
			_, err := peerA.ListIncomingNotices(ctx, &federationv1.ListIncomingNoticesRequest{Parent: hillside})
			return err
		}, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"a notice for a group that does not link to the peer", func() error {
			_, err := peerA.DeliverNotice(ctx, &federationv1.DeliverNoticeRequest{Notice: &federationv1.Notice{Id: "y",
				FromGroup: n.GetNotice().GetFromGroup(), ToLinkGroup: "groups/elsewhere", Kind: 1, Case: caseName}})
			return err
		}, codes.NotFound, "GROUP_NOT_FOUND"},
		{"a malformed notice", func() error {
			_, err := peerA.DeliverNotice(ctx, &federationv1.DeliverNoticeRequest{Notice: &federationv1.Notice{Id: "z",
				FromGroup: n.GetNotice().GetFromGroup(), Kind: 1, Case: "groups/other/cases/" + strconv.Itoa(1)}})
			return err
		}, codes.InvalidArgument, "INVALID_FIELDS"},
	}
	for _, tt := range tests {
		testenv.WantStatus(t, tt.call(), tt.wantCode, tt.wantReason)
	}
	if got := listB(); len(got) != 1 {
		t.Errorf("B lists %d notices; want 1", len(got))
	}
}
