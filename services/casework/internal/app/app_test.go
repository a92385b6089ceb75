package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/outbox"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	eightWeeks     = 56 * 24 * time.Hour
	hillsideTarget = 14 * 24 * time.Hour
)

// env is one casework service running in-process against real PostgreSQL
// and NATS, with fake intake and directory services.
type env struct {
	addr   string
	ns     events.Namespace
	js     jetstream.JetStream
	db     *pgxpool.Pool
	intake *fakeIntake
	// keys are the service's ENCRYPTION_KEYS and ENCRYPTION_KEY_ID.
	keys config.Keys
	// dbURL is the test's database.
	dbURL string
}

// startCasework starts casework for t; each of configure may change its
// settings first.
func startCasework(t *testing.T, configure ...func(*Config)) *env {
	t.Helper()
	e := &env{ns: testenv.Namespace(t), intake: &fakeIntake{concerns: map[string]*intakev1.Concern{}}, keys: testenv.EncryptionKeys(t)}
	e.addr = testenv.FreeAddr(t)
	dbURL := testenv.Database(t)
	e.dbURL = dbURL
	cfg := Config{
		Service: config.Service{
			GRPCAddr:        e.addr,
			DatabaseURL:     dbURL,
			DatabaseSchema:  "casework",
			NATSURL:         testenv.NATS(t),
			EventNamespace:  string(e.ns),
			LogLevel:        "warn",
			ShutdownTimeout: 5 * time.Second,
			ServiceSecret:   caseworkSecret,
			TrustedServices: "notification=" + notificationSecret,
		},
		Keys:          e.keys,
		DirectoryAddr: testenv.ServeGRPC(t, func(s *grpc.Server) { directoryv1.RegisterDirectoryServiceServer(s, fakeDirectory{}) }),
		IntakeAddr:    testenv.ServeGRPC(t, func(s *grpc.Server) { intakev1.RegisterIntakeServiceServer(s, e.intake) }),
	}
	for _, c := range configure {
		c(&cfg)
	}
	testenv.RunService(t, Name, e.addr, func(ctx context.Context) error { return Run(ctx, cfg) })

	nc, err := nats.Connect(cfg.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if e.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	// The service's schema, as the service sees it.
	poolCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	poolCfg.ConnConfig.RuntimeParams["search_path"] = "casework"
	if e.db, err = pgxpool.NewWithConfig(context.Background(), poolCfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.db.Close)
	return e
}

// dial connects with the given bearer secret, or anonymously when it is "".
func (e *env) dial(t *testing.T, secret string) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if secret != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(secret)))
	}
	conn, err := grpc.NewClient(e.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func (e *env) client(t *testing.T, secret string) caseworkv1.CaseworkServiceClient {
	return caseworkv1.NewCaseworkServiceClient(e.dial(t, secret))
}

// newConcern is a concern in group registered at registered, with
// confidential text that carries marker so leaks can be searched for.
func newConcern(group, marker string, registered time.Time) *intakev1.Concern {
	return &intakev1.Concern{
		Name:           group + "/concerns/" + uuid.NewString(),
		Practitioner:   group + "/members/alex-moss",
		Description:    "Sessions were cancelled at short notice " + marker,
		DesiredOutcome: "Notice of changes,\nand an apology " + marker,
		ClientName:     "Sam Carter " + marker,
		ClientContact:  &intakev1.ClientContact{Email: "sam." + strings.ToLower(marker) + "@example.org", Phone: "+44 20 7946 0123"},
		Reference:      strings.ToUpper(marker[:4]) + "-" + strings.ToUpper(marker[len(marker)-4:]),
		CreateTime:     timestamppb.New(registered.UTC().Truncate(time.Microsecond)),
	}
}

// confidential lists the concern's texts that must never leave casework.
func confidential(c *intakev1.Concern) []string {
	return []string{c.GetDescription(), c.GetClientName(), c.GetClientContact().GetEmail(), c.GetClientContact().GetPhone(), c.GetDesiredOutcome()}
}

// publish puts a ConcernRegistered for concern on the stream, as intake's
// relay would, and returns JetStream's acknowledgement.
func (e *env) publish(t *testing.T, group, concern, eventID string) *jetstream.PubAck {
	t.Helper()
	meta := events.NewMetadata(group, "intake", time.Now())
	meta.EventId = eventID
	ev, err := e.ns.Encode(meta, "concern", "registered", &eventsv1.ConcernRegistered{
		Metadata: meta, Concern: concern, Practitioner: group + "/members/alex-moss", Reference: "ABCD-EFGH",
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: ev.Subject, Data: ev.Payload, Header: nats.Header{}}
	msg.Header.Set("Nats-Msg-Id", ev.ID)
	msg.Header.Set(events.TypeHeader, ev.Type)
	ack, err := e.js.PublishMsg(context.Background(), msg)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return ack
}

// register hands c to the fake intake and publishes its event.
func (e *env) register(t *testing.T, c *intakev1.Concern) {
	t.Helper()
	e.intake.put(c)
	group := c.GetName()[:strings.Index(c.GetName(), "/concerns/")]
	e.publish(t, group, c.GetName(), uuid.NewString())
}

func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitApplied waits until the consumer has applied n events.
func (e *env) waitApplied(t *testing.T, n int) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("%d events applied", n), func() bool {
		return e.count(t, `SELECT count(*) FROM applied_events WHERE consumer = 'casework'`) >= n
	})
}

// caseID returns the id of the case opened for concern, waiting for it.
func (e *env) caseID(t *testing.T, concern string) string {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "a case for "+concern, func() bool {
		return e.count(t, `SELECT count(*) FROM cases WHERE concern = $1`, concern) == 1
	})
	var id string
	if err := e.db.QueryRow(context.Background(), `SELECT id::text FROM cases WHERE concern = $1`, concern).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// caseOpenedEvents waits until the outbox is empty and returns every
// CaseOpened on the stream.
func (e *env) caseOpenedEvents(t *testing.T) []jetstream.Msg {
	t.Helper()
	e.waitRelayed(t)
	return e.streamMessages(t, e.ns.Filter("case", "opened"))
}

// waitRelayed waits until the outbox is empty.
func (e *env) waitRelayed(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "the outbox to be relayed", func() bool {
		n, err := outbox.Pending(context.Background(), e.db)
		return err == nil && n == 0
	})
}

// streamMessages returns every message on the stream under filter.
func (e *env) streamMessages(t *testing.T, filter string) []jetstream.Msg {
	t.Helper()
	ctx := context.Background()
	stream, err := e.js.Stream(ctx, e.ns.Stream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, n := range info.State.Subjects {
		total += n
	}
	cons, err := e.js.OrderedConsumer(ctx, e.ns.Stream(), jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for uint64(len(msgs)) < total {
		m, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			t.Fatalf("read message %d of %d under %s: %v", len(msgs)+1, total, filter, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// reasonOf is the ErrorInfo reason of err's status, if any.
func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func TestConcernRegisteredOpensOneCase(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	riverside := newConcern("groups/riverside", "CANARYRIVER01", time.Now().Add(-72*time.Hour))
	hillside := newConcern("groups/hillside", "CANARYHILL02", time.Now().Add(-time.Hour))

	tests := []struct {
		name       string
		concern    *intakev1.Concern
		wantTarget time.Duration
	}{
		{"group without a target of its own", riverside, eightWeeks},
		{"group with a 14-day target", hillside, hillsideTarget},
	}
	for _, tt := range tests {
		e.register(t, tt.concern)
	}
	// Twice the same event (JetStream keeps it once) and a second event for
	// the same concern: still one case and one CaseOpened.
	first := uuid.NewString()
	e.intake.put(riverside)
	if ack := e.publish(t, "groups/riverside", riverside.GetName(), first); ack.Duplicate {
		t.Fatal("a fresh event was taken for a duplicate")
	}
	if ack := e.publish(t, "groups/riverside", riverside.GetName(), first); !ack.Duplicate {
		t.Error("the stream stored the same event id twice")
	}
	e.publish(t, "groups/riverside", riverside.GetName(), uuid.NewString())
	// Events that can never open a case are parked; one published after
	// them proves they were seen, because the consumer takes events in order.
	e.publish(t, "groups/riverside", "groups/hillside/concerns/"+uuid.NewString(), uuid.NewString())
	e.publish(t, "groups/riverside", "groups/riverside/concerns/"+uuid.NewString(), uuid.NewString())
	last := newConcern("groups/riverside", "CANARYLAST03", time.Now())
	e.register(t, last)
	e.caseID(t, last.GetName())
	// The two registrations and the last. The events that repeat
	// riverside's concern need nothing (its case exists), and an event
	// that needs nothing is not recorded as applied.
	e.waitApplied(t, 3)

	if n := e.count(t, `SELECT count(*) FROM cases`); n != 3 {
		t.Errorf("%d cases; want 3 (riverside, hillside, last)", n)
	}
	opened := e.caseOpenedEvents(t)
	if len(opened) != 3 {
		t.Errorf("%d CaseOpened events; want 3", len(opened))
	}
	byConcern := map[string][]*eventsv1.CaseOpened{}
	for _, m := range opened {
		var ev eventsv1.CaseOpened
		if err := proto.Unmarshal(m.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		byConcern[ev.GetConcern()] = append(byConcern[ev.GetConcern()], &ev)
		if got := m.Headers().Get("Nats-Msg-Id"); got == "" || got != ev.GetMetadata().GetEventId() {
			t.Errorf("Nats-Msg-Id %q; want the event id %q", got, ev.GetMetadata().GetEventId())
		}
		if got := m.Headers().Get(events.TypeHeader); got != "ipn.disputes.events.v1.CaseOpened" {
			t.Errorf("type header %q", got)
		}
		for _, c := range []*intakev1.Concern{riverside, hillside, last} {
			for _, secret := range confidential(c) {
				if strings.Contains(string(m.Data()), secret) {
					t.Errorf("CaseOpened carries confidential text %q", secret)
				}
			}
		}
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.concern
			group := c.GetName()[:strings.Index(c.GetName(), "/concerns/")]
			id := e.caseID(t, c.GetName())
			registered := c.GetCreateTime().AsTime()
			var (
				groupID, reference, therapist, phase, text, clientName, email, phone, outcome string
				registerTime, deadline, createTime                                            time.Time
				version                                                                       int
			)
			err := e.db.QueryRow(ctx, `SELECT group_id, reference, therapist, phase, register_time, deadline,
				concern_text, client_name, client_email, client_phone, desired_outcome, version, create_time FROM cases WHERE id = $1`, id,
			).Scan(&groupID, &reference, &therapist, &phase, &registerTime, &deadline, &text, &clientName, &email, &phone, &outcome, &version, &createTime)
			if err != nil {
				t.Fatal(err)
			}
			if "groups/"+groupID != group || reference != c.GetReference() || therapist != c.GetPractitioner() || phase != "REGISTERED" || version != 1 {
				t.Errorf("case row: group %q reference %q therapist %q phase %q version %d", groupID, reference, therapist, phase, version)
			}
			if !registerTime.Equal(registered) || !deadline.Equal(registered.Add(tt.wantTarget)) {
				t.Errorf("register_time %v, deadline %v; want %v and %v", registerTime, deadline, registered, registered.Add(tt.wantTarget))
			}
			if time.Since(createTime) > time.Minute {
				t.Errorf("create_time %v", createTime)
			}
			// Casework is now the owner of what the client confided, and
			// keeps it only as ciphertext.
			for i, v := range []string{text, clientName, email, phone, outcome} {
				if !sealed.IsSealed(v) || strings.Contains(v, confidential(c)[i]) {
					t.Errorf("confidential column %d is stored as %q; want a ciphertext", i, v)
				}
			}
			keys, err := sealed.FromConfig(e.keys)
			if err != nil {
				t.Fatal(err)
			}
			got, err := (&store.Store{Pool: e.db, Keys: keys}).Confidential(ctx, id)
			if err != nil || got.Description != c.GetDescription() || got.DesiredOutcome != c.GetDesiredOutcome() || got.ClientName != c.GetClientName() ||
				got.ClientEmail != c.GetClientContact().GetEmail() || got.ClientPhone != c.GetClientContact().GetPhone() {
				t.Errorf("the concern's text or the client's contact details were not taken over (%v)", err)
			}

			evs := byConcern[c.GetName()]
			if len(evs) != 1 {
				t.Fatalf("%d CaseOpened for %s; want 1", len(evs), c.GetName())
			}
			ev := evs[0]
			if ev.GetCase() != group+"/cases/"+id || !ev.GetDeadline().AsTime().Equal(deadline) ||
				ev.GetMetadata().GetGroup() != group || ev.GetMetadata().GetProducer() != "casework" {
				t.Errorf("CaseOpened = %v", ev)
			}
			if _, err := uuid.Parse(ev.GetMetadata().GetEventId()); err != nil {
				t.Errorf("event id %q is not a UUID", ev.GetMetadata().GetEventId())
			}
		})
	}
}

func TestGetCase(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	current := newConcern("groups/riverside", "CANARYGETONE1", time.Now().Add(-10*24*time.Hour))
	overdue := newConcern("groups/riverside", "CANARYGETTWO2", time.Now().Add(-60*24*time.Hour))
	e.register(t, current)
	e.register(t, overdue)
	currentName := "groups/riverside/cases/" + e.caseID(t, current.GetName())
	overdueName := "groups/riverside/cases/" + e.caseID(t, overdue.GetName())

	member := e.client(t, riversideToken)
	tests := []struct {
		name       string
		client     caseworkv1.CaseworkServiceClient
		caseName   string
		concern    *intakev1.Concern
		wantCode   codes.Code
		wantReason string
	}{
		{name: "member of the group", client: member, caseName: currentName, concern: current},
		{name: "member of the group, overdue case", client: member, caseName: overdueName, concern: overdue},
		{name: "operator", client: e.client(t, operatorToken), caseName: currentName, concern: current},
		{name: "member of another group", client: e.client(t, hillsideToken), caseName: currentName, wantCode: codes.NotFound, wantReason: "CASE_NOT_FOUND"},
		{name: "member of another group, case named under it", client: e.client(t, hillsideToken),
			caseName: strings.Replace(currentName, "riverside", "hillside", 1), wantCode: codes.NotFound, wantReason: "CASE_NOT_FOUND"},
		{name: "unknown case", client: member, caseName: "groups/riverside/cases/" + uuid.NewString(), wantCode: codes.NotFound, wantReason: "CASE_NOT_FOUND"},
		{name: "id that is not a UUID", client: member, caseName: "groups/riverside/cases/abc", wantCode: codes.NotFound, wantReason: "CASE_NOT_FOUND"},
		{name: "no credentials", client: e.client(t, ""), caseName: currentName, wantCode: codes.Unauthenticated, wantReason: "UNAUTHENTICATED"},
		{name: "unknown token", client: e.client(t, "nobody-knows-this"), caseName: currentName, wantCode: codes.Unauthenticated, wantReason: "UNAUTHENTICATED"},
		{name: "the notification service", client: caseworkv1.NewCaseworkServiceClient(dialService(t, e.addr)), caseName: currentName, concern: current},
		{name: "malformed name", client: member, caseName: "cases/x", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := time.Now()
			got, err := tt.client.GetCase(ctx, &caseworkv1.GetCaseRequest{Name: tt.caseName})
			after := time.Now()
			if tt.wantCode != codes.OK {
				st := testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
				if tt.wantCode == codes.NotFound && st.Message() != "there is no case "+tt.caseName {
					// Another group's case must look exactly like a missing one.
					t.Errorf("message %q", st.Message())
				}
				return
			}
			if err != nil {
				t.Fatalf("GetCase: %v", err)
			}
			c := tt.concern
			registered := c.GetCreateTime().AsTime()
			deadline := registered.Add(eightWeeks)
			if got.GetName() != tt.caseName || got.GetConcern() != c.GetName() || got.GetReference() != c.GetReference() ||
				got.GetTherapist() != c.GetPractitioner() || got.GetPhase() != procedurev1.Phase_PHASE_REGISTERED ||
				!got.GetRegisterTime().AsTime().Equal(registered) || got.GetCreateTime() == nil || got.GetEtag() == "" {
				t.Errorf("GetCase = %v", got)
			}
			if strings.HasPrefix(tt.caseName, "groups/riverside/") && got.GetEthicalStatement() != riversideStatement {
				t.Errorf("ethical statement = %q, want the one in force at registration, %q", got.GetEthicalStatement(), riversideStatement)
			}
			clock := got.GetClock()
			if !clock.GetDeadline().AsTime().Equal(deadline) {
				t.Errorf("deadline %v; want %v", clock.GetDeadline().AsTime(), deadline)
			}
			if el := clock.GetElapsed().AsDuration(); el < before.Sub(registered) || el > after.Sub(registered) {
				t.Errorf("elapsed %v; want between %v and %v", el, before.Sub(registered), after.Sub(registered))
			}
			if rem := clock.GetRemaining().AsDuration(); rem > deadline.Sub(before) || rem < deadline.Sub(after) {
				t.Errorf("remaining %v; want between %v and %v", rem, deadline.Sub(after), deadline.Sub(before))
			}
			if wantOverdue := c == overdue; clock.GetOverdue() != wantOverdue || (clock.GetRemaining().AsDuration() < 0) != wantOverdue {
				t.Errorf("overdue %v, remaining %v; want overdue %v", clock.GetOverdue(), clock.GetRemaining().AsDuration(), wantOverdue)
			}
			wire, _ := proto.Marshal(got)
			for _, secret := range confidential(c) {
				if strings.Contains(string(wire), secret) {
					t.Errorf("GetCase returned confidential text %q", secret)
				}
			}
		})
	}
}

func TestListCases(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	base := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Microsecond)
	// Five riverside concerns, two registered at the same instant, and one
	// of hillside that riverside's list must not show.
	offsets := []time.Duration{0, time.Hour, 2 * time.Hour, 2 * time.Hour, 3 * time.Hour}
	var concerns []*intakev1.Concern
	for i, off := range offsets {
		c := newConcern("groups/riverside", fmt.Sprintf("CANARYLIST%03d", i), base.Add(off))
		concerns = append(concerns, c)
		e.register(t, c)
	}
	other := newConcern("groups/hillside", "CANARYLISTHILL", base.Add(4*time.Hour))
	e.register(t, other)
	type entry struct {
		name       string
		registered time.Time
	}
	var want []entry
	for _, c := range concerns {
		want = append(want, entry{"groups/riverside/cases/" + e.caseID(t, c.GetName()), c.GetCreateTime().AsTime()})
	}
	e.caseID(t, other.GetName())
	// Newest registration first; for the same instant, the greater id first.
	sort.Slice(want, func(i, j int) bool {
		if !want[i].registered.Equal(want[j].registered) {
			return want[i].registered.After(want[j].registered)
		}
		return want[i].name > want[j].name
	})

	member := e.client(t, riversideToken)
	t.Run("three pages of two", func(t *testing.T) {
		t.Parallel()
		var got []string
		var sizes []int
		token := ""
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatal("pagination does not end")
			}
			resp, err := member.ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: "groups/riverside", PageSize: 2, PageToken: token})
			if err != nil {
				t.Fatalf("ListCases page %d: %v", page, err)
			}
			sizes = append(sizes, len(resp.GetCases()))
			for _, c := range resp.GetCases() {
				got = append(got, c.GetName())
				if c.GetClock().GetDeadline() == nil || c.GetClock().GetElapsed() == nil {
					t.Errorf("%s has no clock", c.GetName())
				}
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if fmt.Sprint(sizes) != "[2 2 1]" {
			t.Errorf("page sizes %v; want [2 2 1]", sizes)
		}
		var wantNames []string
		for _, w := range want {
			wantNames = append(wantNames, w.name)
		}
		if strings.Join(got, "\n") != strings.Join(wantNames, "\n") {
			t.Errorf("cases in order\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantNames, "\n"))
		}
	})

	t.Run("page sizes", func(t *testing.T) {
		t.Parallel()
		for _, size := range []int32{0, 1000} {
			resp, err := e.client(t, operatorToken).ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: "groups/riverside", PageSize: size})
			if err != nil {
				t.Fatalf("page_size %d: %v", size, err)
			}
			if len(resp.GetCases()) != len(want) || resp.GetNextPageToken() != "" {
				t.Errorf("page_size %d: %d cases, next %q; want all %d on one page", size, len(resp.GetCases()), resp.GetNextPageToken(), len(want))
			}
		}
	})

	errorTests := []struct {
		name       string
		client     caseworkv1.CaseworkServiceClient
		req        *caseworkv1.ListCasesRequest
		wantCode   codes.Code
		wantReason string
		wantField  string
	}{
		{"token that is not base64", member, &caseworkv1.ListCasesRequest{Parent: "groups/riverside", PageToken: "!!"}, codes.InvalidArgument, "INVALID_FIELDS", "page_token"},
		{"token of no cursor", member, &caseworkv1.ListCasesRequest{Parent: "groups/riverside", PageToken: "bm90IGEgY3Vyc29y"}, codes.InvalidArgument, "INVALID_FIELDS", "page_token"},
		{"negative page size", member, &caseworkv1.ListCasesRequest{Parent: "groups/riverside", PageSize: -1}, codes.InvalidArgument, "INVALID_FIELDS", "page_size"},
		{"member of another group", e.client(t, hillsideToken), &caseworkv1.ListCasesRequest{Parent: "groups/riverside"}, codes.NotFound, "GROUP_NOT_FOUND", ""},
		{"no credentials", e.client(t, ""), &caseworkv1.ListCasesRequest{Parent: "groups/riverside"}, codes.Unauthenticated, "UNAUTHENTICATED", ""},
	}
	for _, tt := range errorTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.client.ListCases(ctx, tt.req)
			st := testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
			if tt.wantField == "" {
				return
			}
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, fv := range br.GetFieldViolations() {
						fields = append(fields, fv.GetField())
					}
				}
			}
			if strings.Join(fields, ",") != tt.wantField {
				t.Errorf("field violations on %v; want %s", fields, tt.wantField)
			}
		})
	}
}

// dialService connects as the notification service, which casework trusts.
func dialService(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpcserver.Dial(addr, "notification", notificationSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
