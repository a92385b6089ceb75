package app

import (
	"cmp"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
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
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/names"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/smtptest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	notificationSecret = "notification-secret"
	caseworkSecret     = "casework-secret"
	directorySecret    = "directory-secret"
	intakeSecret       = "intake-secret"
	group              = "groups/riverside"
	groupDisplayName   = "Riverside Practitioners"
	publicURL          = "https://disputes.example.org"
	practitioner       = "groups/riverside/members/alex-moss"
	caseReference      = "K7QX-2M9D"
)

// fakeMember is a member of the fake directory.
type fakeMember struct {
	id, displayName string
	active, admin   bool
}

var riverside = []fakeMember{
	{"alex-moss", "Alex Moss", true, false},
	{"bea-lund", "Bea Lund", true, true},
	{"cal-nash", "Cal Nash", true, false},
	{"dee-okoro", "Dee Okoro", true, false},
	{"eli-park", "Eli Park", true, false},
	{"fay-quinn", "Fay Quinn", true, false},
	{"gus-reed", "Gus Reed", false, false},
}

func memberName(id string) string { return group + "/members/" + id }
func emailOf(id string) string    { return id + "@example.org" }

// activeEmails are the addresses every ConcernRegistered must reach.
func activeEmails() []string {
	var out []string
	for _, m := range riverside {
		if m.active {
			out = append(out, emailOf(m.id))
		}
	}
	slices.Sort(out)
	return out
}

// fakeLink is a link group of riverside in the fake directory.
type fakeLink struct {
	id, displayName string
	// localGroup is set for a group in this deployment, email for one
	// elsewhere.
	localGroup, email string
}

// riversideLinks: an external group, a local group whose public contact is
// an e-mail address, and a local group whose public contact is not, which
// cannot be told.
var riversideLinks = []fakeLink{
	{id: "hillside", displayName: "Hillside Group", localGroup: "groups/hillside"},
	{id: "lakeland", displayName: "Lakeland IPN", email: "links@lakeland.example.net"},
	{id: "moorside", displayName: "Moorside Circle", localGroup: "groups/moorside"},
}

// otherGroups are the local link groups as GetGroup shows them.
var otherGroups = map[string]*directoryv1.Group{
	"groups/hillside": {Name: "groups/hillside", DisplayName: "Hillside Group", PublicContact: "contact@hillside.example.org"},
	"groups/moorside": {Name: "groups/moorside", DisplayName: "Moorside Circle", PublicContact: "ask at the library desk"},
}

// linkEmails are the addresses every link group notice must reach.
var linkEmails = []string{"contact@hillside.example.org", "links@lakeland.example.net"}

func linkName(id string) string { return group + "/linkGroups/" + id }

// Member secrets the fake directory's Authenticate accepts.
const (
	adminToken      = "token-riverside-admin"
	memberToken     = "token-riverside-member"
	otherGroupToken = "token-hillside-admin"
	operatorToken   = "token-operator"
)

// asToken is the secret of a plain member of riverside.
func asToken(id string) string { return "token-as-" + id }

// fakeDirectory stands in for the directory service: one group with six
// active members and one who has left, and a second group for outsiders.
// It pages members four at a time so the client must follow page tokens.
type fakeDirectory struct {
	directoryv1.UnimplementedDirectoryServiceServer
}

// checkCaller insists on notification's own service credential.
func checkCaller(ctx context.Context) error {
	if secret, _ := auth.BearerFromMetadata(ctx); secret != auth.ServiceToken("notification", notificationSecret) {
		return status.Error(codes.Unauthenticated, "not notification")
	}
	return nil
}

func (fakeDirectory) GetGroup(ctx context.Context, req *directoryv1.GetGroupRequest) (*directoryv1.Group, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if g, ok := otherGroups[req.GetName()]; ok {
		return g, nil
	}
	if req.GetName() != group {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	return &directoryv1.Group{Name: group, DisplayName: groupDisplayName}, nil
}

// ListLinkGroups pages two at a time, so the client must follow page tokens.
func (fakeDirectory) ListLinkGroups(ctx context.Context, req *directoryv1.ListLinkGroupsRequest) (*directoryv1.ListLinkGroupsResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetParent() != group {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	var all []*directoryv1.LinkGroup
	for _, l := range riversideLinks {
		lg := &directoryv1.LinkGroup{Name: linkName(l.id), DisplayName: l.displayName}
		if l.localGroup != "" {
			lg.Target = &directoryv1.LinkGroup_LocalGroup{LocalGroup: l.localGroup}
		} else {
			lg.Target = &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: l.email}}
		}
		all = append(all, lg)
	}
	start, _ := strconv.Atoi(req.GetPageToken())
	end := min(start+2, len(all))
	resp := &directoryv1.ListLinkGroupsResponse{LinkGroups: all[start:end]}
	if end < len(all) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

func memberProto(m fakeMember) *directoryv1.Member {
	state := directoryv1.Member_STATE_ACTIVE
	if !m.active {
		state = directoryv1.Member_STATE_INACTIVE
	}
	return &directoryv1.Member{
		Name: memberName(m.id), DisplayName: m.displayName, State: state, GroupAdmin: m.admin,
		Contact: &directoryv1.ContactDetails{Email: emailOf(m.id), Phone: "+44 20 7946 0000"},
	}
}

func (fakeDirectory) ListMembers(ctx context.Context, req *directoryv1.ListMembersRequest) (*directoryv1.ListMembersResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetParent() != group {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	var all []*directoryv1.Member
	for _, m := range riverside {
		if m.active || !req.GetActiveOnly() {
			all = append(all, memberProto(m))
		}
	}
	start, _ := strconv.Atoi(req.GetPageToken())
	end := min(start+4, len(all))
	resp := &directoryv1.ListMembersResponse{Members: all[start:end]}
	if end < len(all) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

func (fakeDirectory) GetMember(ctx context.Context, req *directoryv1.GetMemberRequest) (*directoryv1.Member, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	for _, m := range riverside {
		if memberName(m.id) == req.GetName() {
			return memberProto(m), nil
		}
	}
	return nil, status.Error(codes.NotFound, "no such member")
}

func (fakeDirectory) Authenticate(ctx context.Context, req *directoryv1.AuthenticateRequest) (*directoryv1.AuthenticateResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	ttl := durationpb.New(time.Second)
	switch req.GetSecret() {
	case adminToken:
		return &directoryv1.AuthenticateResponse{Member: memberName("bea-lund"), Group: group, GroupAdmin: true, CacheTtl: ttl}, nil
	case memberToken:
		return &directoryv1.AuthenticateResponse{Member: memberName("cal-nash"), Group: group, CacheTtl: ttl}, nil
	case otherGroupToken:
		return &directoryv1.AuthenticateResponse{Member: "groups/hillside/members/hal-ives", Group: "groups/hillside", GroupAdmin: true, CacheTtl: ttl}, nil
	case asToken("alex-moss"), asToken("eli-park"):
		return &directoryv1.AuthenticateResponse{Member: memberName(strings.TrimPrefix(req.GetSecret(), "token-as-")), Group: group, CacheTtl: ttl}, nil
	case operatorToken:
		return &directoryv1.AuthenticateResponse{Operator: true, CacheTtl: ttl}, nil
	}
	return nil, status.Error(codes.Unauthenticated, "unknown secret")
}

// options are what a test changes in the service's settings.
type options struct {
	smtpAddr string
	// directoryAddr is where the directory is served, a fake directory of
	// the test's own when empty; a test that takes the directory away
	// serves it there itself (serveDirectoryAt).
	directoryAddr string
	maxAttempts   int
	retryBase     time.Duration
	retryMax      time.Duration
	// dbURL and ns are a fresh database and namespace when empty; a test
	// that restarts the service passes the first run's.
	dbURL string
	ns    events.Namespace
	// now is the clock, time.Now when nil; digestPassed is told of every
	// digest pass.
	now          func() time.Time
	digestPassed func()
	// deadLetterInterval is how often the dead-letter job looks for deaths:
	// an hour when zero, so that it tells of none in tests about other
	// things; deadLetterPassed is told of every pass.
	deadLetterInterval time.Duration
	deadLetterPassed   func()
}

type running struct {
	addr string
	db   *pgx.Conn
	ns   events.Namespace
	js   jetstream.JetStream
}

// startNotification runs the service in-process against real PostgreSQL and
// NATS and waits until it reports SERVING.
func startNotification(t *testing.T, o options) running {
	t.Helper()
	if o.maxAttempts == 0 {
		o.maxAttempts = 8
	}
	dbURL := o.dbURL
	if dbURL == "" {
		dbURL = testenv.Database(t)
	}
	r := running{addr: testenv.FreeAddr(t), ns: o.ns}
	if o.directoryAddr == "" {
		o.directoryAddr = testenv.ServeGRPC(t, func(s *grpc.Server) { directoryv1.RegisterDirectoryServiceServer(s, fakeDirectory{}) })
	}
	if r.ns == "" {
		r.ns = testenv.Namespace(t)
	}
	cfg := Config{
		Service: config.Service{
			GRPCAddr:        r.addr,
			DatabaseURL:     dbURL,
			DatabaseSchema:  "notification",
			NATSURL:         testenv.NATS(t),
			EventNamespace:  string(r.ns),
			LogLevel:        "warn",
			ShutdownTimeout: 5 * time.Second,
			ServiceSecret:   notificationSecret,
			TrustedServices: "casework=" + caseworkSecret + ",directory=" + directorySecret + ",intake=" + intakeSecret,
		},
		DirectoryAddr:  o.directoryAddr,
		CaseworkAddr:   testenv.ServeGRPC(t, func(s *grpc.Server) { caseworkv1.RegisterCaseworkServiceServer(s, fakeCasework{}) }),
		SMTPAddr:       o.smtpAddr,
		MailFrom:       "IPN disputes <disputes@localhost>",
		SendRate:       200,
		SendWorkers:    4,
		MaxAttempts:    o.maxAttempts,
		PublicURL:      publicURL,
		RetryBase:      o.retryBase,
		RetryMax:       o.retryMax,
		PollInterval:   50 * time.Millisecond,
		Now:            o.now,
		DigestHour:     7,
		DigestInterval: 20 * time.Millisecond,
		DigestPassed:   o.digestPassed,

		DeadLetterInterval: cmp.Or(o.deadLetterInterval, time.Hour),
		DeadLetterPassed:   o.deadLetterPassed,
	}
	testenv.RunService(t, Name, r.addr, func(ctx context.Context) error { return Run(ctx, cfg) })

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
	return r
}

// concernEvent returns a ConcernRegistered for a new concern of the group.
func concernEvent() *eventsv1.ConcernRegistered {
	return &eventsv1.ConcernRegistered{
		Metadata: &eventsv1.EventMetadata{
			EventId:   uuid.NewString(),
			OccurTime: timestamppb.Now(),
			Group:     group,
			Producer:  "intake",
		},
		Concern:      group + "/concerns/" + uuid.NewString(),
		Practitioner: practitioner,
		Reference:    caseReference,
	}
}

// publish puts ev on the stream as the outbox relay would, with msgID as its
// Nats-Msg-Id.
func (r running) publish(t *testing.T, ev *eventsv1.ConcernRegistered, msgID string) {
	t.Helper()
	r.publishOn(t, r.ns.Subject(group, "concern", "registered"), ev, msgID)
}

// stepEvent returns a CaseStepTaken for a step of the group's case, as
// casework publishes it.
func stepEvent(caseName, step string, action procedurev1.Action) *eventsv1.CaseStepTaken {
	return &eventsv1.CaseStepTaken{
		Metadata: &eventsv1.EventMetadata{
			EventId:   uuid.NewString(),
			OccurTime: timestamppb.Now(),
			Group:     group,
			Producer:  "casework",
		},
		Case:        caseName,
		Step:        step,
		Action:      action.String(),
		ActorRole:   procedurev1.Role_ROLE_LP.String(),
		Phase:       procedurev1.Phase_PHASE_SUPPORT_APPOINTED.String(),
		CaseVersion: 4,
	}
}

// publishStep puts ev on the subject of its step, as casework's relay would.
func (r running) publishStep(t *testing.T, ev *eventsv1.CaseStepTaken, msgID string) {
	t.Helper()
	r.publishOn(t, r.ns.Subject(group, "case", ev.GetStep()), ev, msgID)
}

func (r running) publishOn(t *testing.T, subject string, ev proto.Message, msgID string) {
	t.Helper()
	data, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(events.TypeHeader, string(ev.ProtoReflect().Descriptor().FullName()))
	if _, err := r.js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(msgID)); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// stateCounts counts deliveries by state.
func (r running) stateCounts(t *testing.T) map[string]int {
	t.Helper()
	rows, err := r.db.Query(context.Background(), `SELECT state, count(*) FROM notification.deliveries GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// client returns a NotificationService client presenting secret ("" for
// none).
func (r running) client(t *testing.T, secret string) notificationv1.NotificationServiceClient {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if secret != "" {
		opts = append(opts, grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secret), method, req, reply, cc, opts...)
		}))
	}
	conn, err := grpc.NewClient(r.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return notificationv1.NewNotificationServiceClient(conn)
}

// oncePerRecipient reads each of msgs, finds the concern of concerns it
// names, and fails the test for a message that names none and for a
// recipient who got two about the same concern. It returns the set of
// "address concern" pairs seen.
func oncePerRecipient(t *testing.T, m *testenv.Mailpit, msgs []testenv.Message, concerns []string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, msg := range msgs {
		body, err := m.Body(context.Background(), msg.ID)
		if err != nil {
			t.Fatal(err)
		}
		// A message about a concern names the case it becomes.
		i := slices.IndexFunc(concerns, func(c string) bool {
			caseName, _ := names.CaseOfConcern(c)
			return strings.Contains(body.Text, caseName)
		})
		if i < 0 {
			t.Fatalf("message %s names none of the concerns", msg.ID)
		}
		key := msg.To[0].Address + " " + concerns[i]
		if seen[key] {
			t.Errorf("%s received twice", key)
		}
		seen[key] = true
	}
	return seen
}

// received lists what mailpit holds, failing the test on error.
func received(t *testing.T, m *testenv.Mailpit) []testenv.Message {
	t.Helper()
	msgs, err := m.Messages(context.Background())
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	return msgs
}

func TestConcernRegisteredMailsEveryActiveMember(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	r := startNotification(t, options{smtpAddr: mailpit.SMTPAddr})
	ctx := context.Background()

	ev := concernEvent()
	r.publish(t, ev, ev.GetMetadata().GetEventId())
	testenv.Eventually(t, time.Minute, "six messages arrive", func() bool { return len(received(t, mailpit)) >= 6 })

	msgs := received(t, mailpit)
	var to []string
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Fatalf("message %s has recipients %v; want one", m.ID, m.To)
		}
		to = append(to, m.To[0].Address)
		if want := "New concern registered with " + groupDisplayName; m.Subject != want {
			t.Errorf("subject %q; want %q", m.Subject, want)
		}
		if m.From.Address != "disputes@localhost" {
			t.Errorf("from %v", m.From)
		}
		if !strings.HasSuffix(m.MessageID, "@disputes.ipn") {
			t.Errorf("Message-ID %q is not derived from the delivery", m.MessageID)
		}
		body, err := mailpit.Body(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		member := riverside[slices.IndexFunc(riverside, func(f fakeMember) bool { return emailOf(f.id) == m.To[0].Address })]
		for _, part := range []string{body.Text, body.HTML} {
			caseName, _ := names.CaseOfConcern(ev.GetConcern())
			caseID := caseName[strings.LastIndex(caseName, "/")+1:]
			for _, want := range []string{"Dear " + member.displayName, publicURL + "/riverside/cases/" + caseID, caseName, groupDisplayName} {
				if !strings.Contains(part, want) {
					t.Errorf("message to %s lacks %q:\n%s", member.id, want, part)
				}
			}
			for _, forbidden := range []string{caseReference, practitioner, "+44 20", emailOf(member.id)} {
				if strings.Contains(part, forbidden) {
					t.Errorf("message to %s carries %q", member.id, forbidden)
				}
			}
		}
	}
	slices.Sort(to)
	if !slices.Equal(to, activeEmails()) {
		t.Fatalf("mail went to %v; want each active member once: %v", to, activeEmails())
	}

	// The Message-ID names the delivery row, so a copy sent again is the
	// same message to the mailbox.
	var ids []string
	rows, err := r.db.Query(ctx, `SELECT id::text || '@disputes.ipn' FROM notification.deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if !slices.Contains(ids, m.MessageID) {
			t.Errorf("Message-ID %q matches no delivery", m.MessageID)
		}
	}

	// The same event again: once under its own Nats-Msg-Id (JetStream drops
	// it) and once under another, which gets past JetStream and the
	// consumer's record of applied events to the deliveries' unique key.
	r.publish(t, ev, ev.GetMetadata().GetEventId())
	r.publish(t, ev, uuid.NewString())
	// A later event marks the point by which the repeats were handled: the
	// consumer takes events in order.
	later := concernEvent()
	r.publish(t, later, later.GetMetadata().GetEventId())
	testenv.Eventually(t, time.Minute, "the later event's messages arrive", func() bool {
		return r.stateCounts(t)["sent"] >= 12 && len(received(t, mailpit)) >= 12
	})
	if counts := r.stateCounts(t); counts["sent"] != 12 || len(counts) != 1 {
		t.Errorf("deliveries by state %v; want 12 sent", counts)
	}
	perRecipient := map[string]int{}
	for _, m := range received(t, mailpit) {
		perRecipient[m.To[0].Address]++
	}
	for _, addr := range activeEmails() {
		if perRecipient[addr] != 2 {
			t.Errorf("%s got %d messages; want 2 (one per event)", addr, perRecipient[addr])
		}
	}
	if len(perRecipient) != 6 {
		t.Errorf("mail went to %v", perRecipient)
	}

	resp, err := r.client(t, adminToken).ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	if len(resp.GetDeliveries()) != 12 {
		t.Fatalf("ListDeliveries gave %d; want 12", len(resp.GetDeliveries()))
	}
	for _, d := range resp.GetDeliveries() {
		if d.GetState() != notificationv1.Delivery_STATE_SENT || d.GetAttempts() != 1 || d.GetSendTime() == nil ||
			d.GetEventType() != "ipn.disputes.events.v1.ConcernRegistered" || !strings.HasPrefix(d.GetName(), group+"/deliveries/") {
			t.Errorf("delivery %v", d)
		}
	}
}

// startMailpitAt runs mailpit with its SMTP server on smtpAddr, for a test
// that needs mail to come up where the service already looks for it.
func startMailpitAt(t *testing.T, smtpAddr string) *testenv.Mailpit {
	t.Helper()
	bin, err := testenv.MailpitBinary()
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := testenv.FreeAddr(t)
	cmd := exec.Command(bin, testenv.MailpitArgs(smtpAddr, httpAddr, filepath.Join(t.TempDir(), "mail.db"))...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	m := &testenv.Mailpit{SMTPAddr: smtpAddr, APIURL: "http://" + httpAddr}
	testenv.Eventually(t, 30*time.Second, "mailpit to start", func() bool {
		_, err := m.Messages(context.Background())
		return err == nil
	})
	return m
}

// TestMailServerOutage: while nothing listens where the mail server should
// be, deliveries wait (attempted, nothing counted, none dead), and once it
// is back every message is sent exactly once, within 10 s.
func TestMailServerOutage(t *testing.T) {
	t.Parallel()
	smtpAddr := testenv.FreeAddr(t) // nothing listens here until mailpit starts
	// One counted failure would kill: a connection refused must not count.
	r := startNotification(t, options{smtpAddr: smtpAddr, maxAttempts: 1, retryBase: 20 * time.Millisecond, retryMax: 200 * time.Millisecond})
	ctx := context.Background()

	var concerns []string
	for range 5 {
		ev := concernEvent()
		concerns = append(concerns, ev.GetConcern())
		r.publish(t, ev, ev.GetMetadata().GetEventId())
	}
	testenv.Eventually(t, time.Minute, "30 deliveries, three failed attempts", func() bool {
		var planned, attempts int
		err := r.db.QueryRow(ctx, `SELECT count(*), coalesce(sum(attempts), 0) FROM notification.deliveries`).Scan(&planned, &attempts)
		return err == nil && planned == 30 && attempts >= 3
	})
	var dead, counted, leaks int
	if err := r.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'dead'), coalesce(sum(failures), 0),
		count(*) FILTER (WHERE last_error LIKE '%@example.org%') FROM notification.deliveries`).Scan(&dead, &counted, &leaks); err != nil {
		t.Fatal(err)
	}
	if dead != 0 || counted != 0 || leaks != 0 {
		t.Errorf("while mail is down: %d dead, %d failures counted, %d reasons with an address; want none", dead, counted, leaks)
	}

	mailpit := startMailpitAt(t, smtpAddr)
	back := time.Now()
	testenv.Eventually(t, time.Minute, "every delivery is sent once mail is back", func() bool {
		return r.stateCounts(t)["sent"] == 30
	})
	took := time.Since(back)
	if took > 10*time.Second {
		t.Errorf("sending took %v after the mail server's return; want at most 10s", took)
	}
	t.Logf("all 30 sent %v after the mail server's return", took.Round(time.Millisecond))
	msgs := received(t, mailpit)
	if len(msgs) != 30 {
		t.Fatalf("mailpit holds %d messages; want 30", len(msgs))
	}
	oncePerRecipient(t, mailpit, msgs, concerns)
}

// TestDeadLetter: failures of no known class (here the mail server refuses
// our sender, which is a setting to fix, not this message's fault) count,
// and MAX_ATTEMPTS of them kill the delivery.
func TestDeadLetter(t *testing.T) {
	t.Parallel()
	refusing := smtptest.Start(t, "127.0.0.1:0", smtptest.Replies{Mail: "553 5.7.1 sender not allowed"})
	r := startNotification(t, options{smtpAddr: refusing.Addr, maxAttempts: 3, retryBase: 10 * time.Millisecond, retryMax: 20 * time.Millisecond})
	ev := concernEvent()
	r.publish(t, ev, ev.GetMetadata().GetEventId())
	testenv.Eventually(t, time.Minute, "every delivery is dead", func() bool { return r.stateCounts(t)["dead"] == 6 })

	resp, err := r.client(t, operatorToken).ListDeliveries(context.Background(), &notificationv1.ListDeliveriesRequest{Parent: group})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetDeliveries()) != 6 {
		t.Fatalf("got %d deliveries; want 6", len(resp.GetDeliveries()))
	}
	for _, d := range resp.GetDeliveries() {
		if d.GetState() != notificationv1.Delivery_STATE_DEAD || d.GetAttempts() != 3 || d.GetSendTime() != nil || !strings.Contains(d.GetLastError(), "553") {
			t.Errorf("delivery %v; want dead after 3 attempts with the server's reply", d)
		}
		// The Message-ID (delivery-id@disputes.ipn) is no address.
		if strings.Contains(d.GetLastError(), "@example.org") {
			t.Errorf("last_error %q carries an address", d.GetLastError())
		}
	}
}

// TestPermanentRefusalKillsAtOnce: a 5xx for the address is final; the
// delivery is dead at its first attempt, however many MAX_ATTEMPTS allows,
// while a 4xx for the address waits.
func TestPermanentRefusalKillsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rcpt      string
		wantState string
	}{
		{"550 for the address", "550 5.1.1 no such mailbox", "dead"},
		{"451 for the address", "451 4.2.0 greylisted, try later", "pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server := smtptest.Start(t, "127.0.0.1:0", smtptest.Replies{Rcpt: tt.rcpt})
			r := startNotification(t, options{smtpAddr: server.Addr, maxAttempts: 1000, retryBase: time.Minute, retryMax: time.Minute})
			ev := concernEvent()
			r.publish(t, ev, ev.GetMetadata().GetEventId())
			ctx := context.Background()
			testenv.Eventually(t, time.Minute, "every delivery is attempted", func() bool {
				var attempted int
				err := r.db.QueryRow(ctx, `SELECT count(*) FROM notification.deliveries WHERE attempts > 0 AND last_error <> ''`).Scan(&attempted)
				return err == nil && attempted == 6
			})
			rows, err := r.db.Query(ctx, `SELECT state, attempts, failures, last_error FROM notification.deliveries`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var state, lastError string
				var attempts, failures int
				if err := rows.Scan(&state, &attempts, &failures, &lastError); err != nil {
					t.Fatal(err)
				}
				if state != tt.wantState || failures != 0 || !strings.Contains(lastError, tt.rcpt[:3]) {
					t.Errorf("delivery %s after %d attempts, %d counted failures (%q); want %s, none counted", state, attempts, failures, lastError, tt.wantState)
				}
				if tt.wantState == "dead" && attempts != 1 {
					t.Errorf("dead after %d attempts; want 1", attempts)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestListDeliveries(t *testing.T) {
	t.Parallel()
	// Mail stays down: the deliveries wait, which is all this test needs.
	r := startNotification(t, options{smtpAddr: testenv.FreeAddr(t), maxAttempts: 1000, retryBase: time.Minute, retryMax: time.Minute})
	ctx := context.Background()
	for range 3 {
		ev := concernEvent()
		r.publish(t, ev, ev.GetMetadata().GetEventId())
	}
	testenv.Eventually(t, time.Minute, "18 deliveries are planned", func() bool {
		c := r.stateCounts(t)
		return c["pending"]+c["dead"]+c["sent"] == 18
	})

	t.Run("who may list", func(t *testing.T) {
		tests := []struct {
			name       string
			secret     string
			parent     string
			wantCode   codes.Code
			wantReason string
		}{
			{"group admin", adminToken, group, codes.OK, ""},
			{"operator", operatorToken, group, codes.OK, ""},
			{"plain member", memberToken, group, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
			{"admin of another group", otherGroupToken, group, codes.NotFound, "GROUP_NOT_FOUND"},
			{"another service", auth.ServiceToken("casework", caseworkSecret), group, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
			{"no credentials", "", group, codes.Unauthenticated, "UNAUTHENTICATED"},
			{"unknown token", "token-nobody", group, codes.Unauthenticated, "UNAUTHENTICATED"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				resp, err := r.client(t, tt.secret).ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: tt.parent})
				if tt.wantCode == codes.OK {
					if err != nil {
						t.Fatalf("ListDeliveries: %v", err)
					}
					if len(resp.GetDeliveries()) != 18 {
						t.Errorf("got %d deliveries; want 18", len(resp.GetDeliveries()))
					}
					return
				}
				testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
			})
		}
	})

	t.Run("each reads back through GetDelivery", func(t *testing.T) {
		list, err := r.client(t, adminToken).ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group, PageSize: 50})
		if err != nil || len(list.GetDeliveries()) != 18 {
			t.Fatalf("ListDeliveries: %d, %v", len(list.GetDeliveries()), err)
		}
		// What the sender changes as it tries (mail is down) may move
		// between the list and the read; the rest is the same.
		moving := func(d *notificationv1.Delivery) *notificationv1.Delivery {
			d = proto.CloneOf(d)
			d.State, d.Attempts, d.LastError, d.Channel, d.SendTime = 0, 0, "", 0, nil
			return d
		}
		for _, secret := range []string{adminToken, operatorToken} {
			for _, listed := range list.GetDeliveries() {
				got, err := r.client(t, secret).GetDelivery(ctx, &notificationv1.GetDeliveryRequest{Name: listed.GetName()})
				if err != nil || !proto.Equal(moving(got), moving(listed)) {
					t.Errorf("GetDelivery(%s) = %v, %v; the list shows %v", listed.GetName(), got, err, listed)
				}
			}
		}
		name := list.GetDeliveries()[0].GetName()
		id := strings.TrimPrefix(name, group+"/deliveries/")
		tests := []struct {
			name, secret, delivery string
			wantCode               codes.Code
			wantReason             string
		}{
			{"plain member", memberToken, name, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
			{"admin of another group", otherGroupToken, name, codes.NotFound, "DELIVERY_NOT_FOUND"},
			{"another service", auth.ServiceToken("casework", caseworkSecret), name, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
			{"no credentials", "", name, codes.Unauthenticated, "UNAUTHENTICATED"},
			{"unknown delivery", adminToken, group + "/deliveries/" + uuid.NewString(), codes.NotFound, "DELIVERY_NOT_FOUND"},
			{"not a delivery id", adminToken, group + "/deliveries/x", codes.NotFound, "DELIVERY_NOT_FOUND"},
			{"under another group", operatorToken, "groups/hillside/deliveries/" + id, codes.NotFound, "DELIVERY_NOT_FOUND"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := r.client(t, tt.secret).GetDelivery(ctx, &notificationv1.GetDeliveryRequest{Name: tt.delivery})
				testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
			})
		}
	})

	t.Run("pages newest first", func(t *testing.T) {
		client := r.client(t, adminToken)
		var all []*notificationv1.Delivery
		token := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			resp, err := client.ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group, PageSize: 5, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			if token = resp.GetNextPageToken(); token != "" && len(resp.GetDeliveries()) != 5 {
				t.Errorf("a middle page has %d deliveries; want 5", len(resp.GetDeliveries()))
			}
			all = append(all, resp.GetDeliveries()...)
			if token == "" {
				break
			}
		}
		if len(all) != 18 {
			t.Fatalf("pages hold %d deliveries; want 18", len(all))
		}
		names := map[string]bool{}
		for i, d := range all {
			names[d.GetName()] = true
			if i > 0 && d.GetCreateTime().AsTime().After(all[i-1].GetCreateTime().AsTime()) {
				t.Errorf("delivery %d is newer than the one before it", i)
			}
		}
		if len(names) != 18 {
			t.Errorf("pages repeat deliveries: %d distinct of 18", len(names))
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		client := r.client(t, adminToken)
		tests := []struct {
			name  string
			req   *notificationv1.ListDeliveriesRequest
			field string
		}{
			{"bad token", &notificationv1.ListDeliveriesRequest{Parent: group, PageToken: "!!not-a-token"}, "page_token"},
			{"token of another shape", &notificationv1.ListDeliveriesRequest{Parent: group, PageToken: "aGVsbG8"}, "page_token"},
			{"negative size", &notificationv1.ListDeliveriesRequest{Parent: group, PageSize: -1}, "page_size"},
			{"missing parent", &notificationv1.ListDeliveriesRequest{}, "parent"},
			{"parent not a group", &notificationv1.ListDeliveriesRequest{Parent: "riverside"}, "parent"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := client.ListDeliveries(ctx, tt.req)
				st := testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS")
				var fields []string
				for _, d := range st.Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						for _, fv := range br.GetFieldViolations() {
							fields = append(fields, fv.GetField())
						}
					}
				}
				if !slices.Equal(fields, []string{tt.field}) {
					t.Errorf("violations on %v; want %s", fields, tt.field)
				}
			})
		}
	})
}

// linkNotice is one link group notice as a mailbox sees it.
type linkNotice struct {
	to, subject, caseName string
}

// linkNotices reads every message in mailpit as a link group notice,
// checking on the way that it says only what it may.
func linkNotices(t *testing.T, m *testenv.Mailpit, cases []string) []linkNotice {
	t.Helper()
	ctx := context.Background()
	var out []linkNotice
	for _, msg := range received(t, m) {
		if len(msg.To) != 1 {
			t.Fatalf("message %s has recipients %v; want one", msg.ID, msg.To)
		}
		body, err := m.Body(ctx, msg.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := linkNotice{to: msg.To[0].Address, subject: msg.Subject}
		for _, c := range cases {
			if strings.Contains(body.Text, "Case: "+c) {
				n.caseName = c
			}
		}
		if n.caseName == "" {
			t.Errorf("message %s names none of the cases:\n%s", msg.ID, body.Text)
		}
		if body.HTML != "" {
			t.Errorf("message %s has an HTML part; link group notices are plain text", msg.ID)
		}
		if !strings.Contains(body.Text, groupDisplayName) {
			t.Errorf("message %s does not name the group:\n%s", msg.ID, body.Text)
		}
		if msg.Subject == "Progress report on a concern raised with "+groupDisplayName && !strings.Contains(body.Text, publicURL+"/") {
			t.Errorf("progress report notice %s does not say where to sign in:\n%s", msg.ID, body.Text)
		}
		// The event carries nothing confidential, and no look-up may add
		// any: not the therapist, not a member's contact details, not the
		// client's reference, not another link group's address.
		forbidden := []string{"Alex Moss", practitioner, "/members/", caseReference, "+44 20", "library desk", "@example.org"}
		for _, addr := range linkEmails {
			if addr != n.to {
				forbidden = append(forbidden, addr)
			}
		}
		for _, f := range forbidden {
			if strings.Contains(body.Text+msg.Subject, f) {
				t.Errorf("message %s to %s carries %q", msg.ID, n.to, f)
			}
		}
		out = append(out, n)
	}
	return out
}

func TestCaseStepsTellLinkGroups(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	// Shared by two runs of the service, to show a restart sends nothing
	// twice.
	o := options{smtpAddr: mailpit.SMTPAddr, dbURL: testenv.Database(t), ns: testenv.Namespace(t)}
	ctx := context.Background()

	caseA, caseB := group+"/cases/"+uuid.NewString(), group+"/cases/"+uuid.NewString()
	cases := []string{caseA, caseB}
	informed := stepEvent(caseA, "inform_link_groups", procedurev1.Action_ACTION_INFORM_LINK_GROUPS)
	// A procedure may call its steps as it likes: the action decides.
	reported := stepEvent(caseA, "lp_progress_report", procedurev1.Action_ACTION_REPORT_PROGRESS)
	nominated := stepEvent(caseA, "nominate_spt", procedurev1.Action_ACTION_NOMINATE_SPT)
	misnamed := stepEvent(caseA, "inform_link_groups", procedurev1.Action_ACTION_APPOINT_SUPPORT)
	later := stepEvent(caseB, "inform_link_groups", procedurev1.Action_ACTION_INFORM_LINK_GROUPS)

	const (
		informedSubject = "A client has raised a concern with " + groupDisplayName
		reportedSubject = "Progress report on a concern raised with " + groupDisplayName
	)
	// Each link group with an address once per event; Moorside has none.
	want := func(events ...linkNotice) []linkNotice {
		var out []linkNotice
		for _, ev := range events {
			for _, addr := range linkEmails {
				out = append(out, linkNotice{to: addr, subject: ev.subject, caseName: ev.caseName})
			}
		}
		slices.SortFunc(out, compareNotices)
		return out
	}
	firstRun := want(linkNotice{subject: informedSubject, caseName: caseA}, linkNotice{subject: reportedSubject, caseName: caseA})
	secondRun := want(linkNotice{subject: informedSubject, caseName: caseA}, linkNotice{subject: reportedSubject, caseName: caseA},
		linkNotice{subject: informedSubject, caseName: caseB})

	t.Run("first run", func(t *testing.T) {
		r := startNotification(t, o)
		// Steps of other actions go first: the consumer takes events in
		// order, so once the notices are out these were handled too.
		r.publishStep(t, nominated, nominated.GetMetadata().GetEventId())
		r.publishStep(t, misnamed, misnamed.GetMetadata().GetEventId())
		r.publishStep(t, informed, informed.GetMetadata().GetEventId())
		r.publishStep(t, reported, reported.GetMetadata().GetEventId())
		testenv.Eventually(t, time.Minute, "four notices are sent", func() bool {
			return r.stateCounts(t)["sent"] >= 4 && len(received(t, mailpit)) >= 4
		})
		got := linkNotices(t, mailpit, cases)
		slices.SortFunc(got, compareNotices)
		if !slices.Equal(got, firstRun) {
			t.Fatalf("notices %v; want %v", got, firstRun)
		}
		var others int
		if err := r.db.QueryRow(ctx, `SELECT count(*) FROM notification.deliveries WHERE event_id = ANY($1::uuid[])`,
			[]string{nominated.GetMetadata().GetEventId(), misnamed.GetMetadata().GetEventId()}).Scan(&others); err != nil || others != 0 {
			t.Errorf("%d deliveries for steps of other actions (%v); want none", others, err)
		}
	})

	t.Run("after a restart", func(t *testing.T) {
		r := startNotification(t, o)
		// The same events again: under their own Nats-Msg-Id (JetStream
		// drops them) and under others, which get past JetStream and the
		// consumer's record of applied events to the deliveries' unique key.
		for _, ev := range []*eventsv1.CaseStepTaken{informed, reported, nominated} {
			r.publishStep(t, ev, ev.GetMetadata().GetEventId())
			r.publishStep(t, ev, uuid.NewString())
		}
		r.publishStep(t, later, later.GetMetadata().GetEventId())
		testenv.Eventually(t, time.Minute, "the later event's notices are sent", func() bool {
			return r.stateCounts(t)["sent"] >= 6 && len(received(t, mailpit)) >= 6
		})
		got := linkNotices(t, mailpit, cases)
		slices.SortFunc(got, compareNotices)
		if !slices.Equal(got, secondRun) {
			t.Fatalf("notices %v; want %v", got, secondRun)
		}
		if counts := r.stateCounts(t); counts["sent"] != 6 || len(counts) != 1 {
			t.Errorf("deliveries by state %v; want 6 sent", counts)
		}

		// The group's admins see these deliveries in their log, addressed to
		// the link groups.
		resp, err := r.client(t, adminToken).ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group})
		if err != nil {
			t.Fatalf("ListDeliveries: %v", err)
		}
		var recipients []string
		for _, d := range resp.GetDeliveries() {
			recipients = append(recipients, d.GetRecipient())
			if d.GetState() != notificationv1.Delivery_STATE_SENT || d.GetAttempts() != 1 ||
				d.GetEventType() != "ipn.disputes.events.v1.CaseStepTaken" || !strings.HasPrefix(d.GetName(), group+"/deliveries/") {
				t.Errorf("delivery %v", d)
			}
		}
		slices.Sort(recipients)
		wantRecipients := []string{
			linkName("hillside"), linkName("hillside"), linkName("hillside"),
			linkName("lakeland"), linkName("lakeland"), linkName("lakeland"),
		}
		if !slices.Equal(recipients, wantRecipients) {
			t.Errorf("ListDeliveries recipients %v; want %v", recipients, wantRecipients)
		}
	})
}

func compareNotices(a, b linkNotice) int {
	return strings.Compare(a.to+"\x00"+a.subject+"\x00"+a.caseName, b.to+"\x00"+b.subject+"\x00"+b.caseName)
}
