package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	intakeSecret       = "intake-secret"
	caseworkSecret     = "casework-secret"
	notificationSecret = "notification-secret"
)

// fakeDirectory is a stand-in for the directory service with canned groups:
// riverside is linked to two groups, lonely to one.
type fakeDirectory struct {
	directoryv1.UnimplementedDirectoryServiceServer
}

var (
	fakeLinkGroups = map[string]int{"groups/riverside": 2, "groups/lonely": 1}
	fakeMembers    = map[string]directoryv1.Member_State{
		"groups/riverside/members/alex-moss": directoryv1.Member_STATE_ACTIVE,
		"groups/riverside/members/jo-park":   directoryv1.Member_STATE_INACTIVE,
		"groups/lonely/members/kim-lee":      directoryv1.Member_STATE_ACTIVE,
	}
)

// checkCaller insists on intake's own service credential, so the test also
// proves that intake dials the directory with it.
func checkCaller(ctx context.Context) error {
	if secret, _ := auth.BearerFromMetadata(ctx); secret != auth.ServiceToken("intake", intakeSecret) {
		return status.Error(codes.Unauthenticated, "not intake")
	}
	return nil
}

func (fakeDirectory) GetGroup(ctx context.Context, req *directoryv1.GetGroupRequest) (*directoryv1.Group, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if _, ok := fakeLinkGroups[req.GetName()]; !ok {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	return &directoryv1.Group{Name: req.GetName(), DisplayName: "A group"}, nil
}

func (fakeDirectory) ListLinkGroups(ctx context.Context, req *directoryv1.ListLinkGroupsRequest) (*directoryv1.ListLinkGroupsResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	n, ok := fakeLinkGroups[req.GetParent()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	resp := &directoryv1.ListLinkGroupsResponse{}
	for i := range n {
		resp.LinkGroups = append(resp.LinkGroups, &directoryv1.LinkGroup{
			Name:        req.GetParent() + "/linkGroups/link-" + string(rune('a'+i)),
			DisplayName: "Linked group",
		})
	}
	return resp, nil
}

func (fakeDirectory) GetMember(ctx context.Context, req *directoryv1.GetMemberRequest) (*directoryv1.Member, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	state, ok := fakeMembers[req.GetName()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such member")
	}
	return &directoryv1.Member{Name: req.GetName(), DisplayName: "A member", State: state}, nil
}

type running struct {
	addr   string
	dbURL  string
	ns     events.Namespace
	natsJS jetstream.JetStream
	// codeKeys are the service's ACCESS_CODE_KEYS.
	codeKeys *accesscode.Keys
}

// startIntake runs the service in-process against real PostgreSQL and NATS
// and waits until it reports SERVING.
func startIntake(t testing.TB) running {
	t.Helper()
	r := running{addr: testenv.FreeAddr(t), dbURL: testenv.Database(t), ns: testenv.Namespace(t)}
	codeKeys, err := sealed.NewKeySetting("test")
	if err != nil {
		t.Fatal(err)
	}
	if r.codeKeys, err = accesscode.ParseKeys(codeKeys, ""); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Service: config.Service{
			GRPCAddr:        r.addr,
			DatabaseURL:     r.dbURL,
			DatabaseSchema:  "intake",
			NATSURL:         testenv.NATS(t),
			EventNamespace:  string(r.ns),
			LogLevel:        "warn",
			ShutdownTimeout: 5 * time.Second,
			ServiceSecret:   intakeSecret,
			TrustedServices: "casework=" + caseworkSecret + ",notification=" + notificationSecret,
		},
		DirectoryAddr:    testenv.ServeGRPC(t, func(s *grpc.Server) { directoryv1.RegisterDirectoryServiceServer(s, fakeDirectory{}) }),
		ClientSessionTTL: time.Hour,
		Keys:             testenv.EncryptionKeys(t),
		AccessCodeKeys:   codeKeys,
	}
	testenv.RunService(t, Name, r.addr, func(ctx context.Context) error { return Run(ctx, cfg) })

	nc, err := nats.Connect(cfg.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if r.natsJS, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	return r
}

// dial connects as the named service, or anonymously when service is "".
func dial(t testing.TB, addr, service string) *grpc.ClientConn {
	t.Helper()
	var conn *grpc.ClientConn
	var err error
	switch service {
	case "":
		conn, err = grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	case "casework":
		conn, err = grpcserver.Dial(addr, service, caseworkSecret)
	case "notification":
		conn, err = grpcserver.Dial(addr, service, notificationSecret)
	default:
		t.Fatalf("no secret for %s", service)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func validRequest() *intakev1.CreateConcernRequest {
	return &intakev1.CreateConcernRequest{
		Parent: "groups/riverside",
		Concern: &intakev1.Concern{
			Practitioner:   "groups/riverside/members/alex-moss",
			Description:    "My sessions were moved at short notice three weeks running.",
			DesiredOutcome: "Fixed times,\nor a month's notice of any change.",
			ClientName:     "Sam Carter",
			ClientContact:  &intakev1.ClientContact{Email: "sam.carter@example.org", Phone: "+44 20 7946 0123"},
		},
	}
}

func TestIntake(t *testing.T) {
	t.Parallel()
	r := startIntake(t)
	public := intakev1.NewIntakeServiceClient(dial(t, r.addr, ""))
	casework := intakev1.NewIntakeServiceClient(dial(t, r.addr, "casework"))
	notification := intakev1.NewIntakeServiceClient(dial(t, r.addr, "notification"))
	ctx := context.Background()

	// Subscribe before creating so the event cannot be missed.
	eventsIn, err := r.natsJS.OrderedConsumer(ctx, r.ns.Stream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{r.ns.Filter("concern", "registered")},
	})
	if err != nil {
		t.Fatal(err)
	}

	req := validRequest()
	created, err := public.CreateConcern(ctx, req)
	if err != nil {
		t.Fatalf("CreateConcern: %v", err)
	}

	t.Run("response carries reference and access code", func(t *testing.T) {
		if !strings.HasPrefix(created.GetName(), "groups/riverside/concerns/") {
			t.Errorf("name = %q", created.GetName())
		}
		if _, err := accesscode.ParseReference(created.GetReference()); err != nil || len(created.GetReference()) != 9 {
			t.Errorf("reference %q is not XXXX-XXXX", created.GetReference())
		}
		if _, err := accesscode.ParseAccessCode(created.GetAccessCode()); err != nil || strings.Count(created.GetAccessCode(), "-") != 6 {
			t.Errorf("access code %q is not 26 characters in groups of four", created.GetAccessCode())
		}
		if created.GetCreateTime() == nil || time.Since(created.GetCreateTime().AsTime()) > time.Minute {
			t.Errorf("create_time = %v", created.GetCreateTime())
		}
	})

	t.Run("only a keyed hash of the access code is stored", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, r.dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var hash, reference string
		id := created.GetName()[strings.LastIndex(created.GetName(), "/")+1:]
		if err := conn.QueryRow(ctx, `SELECT access_code_hash, reference FROM intake.concerns WHERE id = $1`, id).Scan(&hash, &reference); err != nil {
			t.Fatal(err)
		}
		if reference != created.GetReference() {
			t.Errorf("stored reference %q; returned %q", reference, created.GetReference())
		}
		if ok, current, err := r.codeKeys.Verify(created.GetAccessCode(), hash); err != nil || !ok || !current || !accesscode.IsKeyed(hash) {
			t.Errorf("stored hash %q does not verify the returned code under the current key: %v, %v, %v", hash, ok, current, err)
		}
		plain := strings.ReplaceAll(created.GetAccessCode(), "-", "")
		if strings.Contains(hash, created.GetAccessCode()) || strings.Contains(hash, plain) {
			t.Error("the access code is stored in the clear")
		}
	})

	t.Run("ConcernRegistered is published without confidential text", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			msg, err := eventsIn.Next(jetstream.FetchMaxWait(5 * time.Second))
			if errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, nats.ErrTimeout) {
				continue
			}
			if err != nil {
				t.Fatalf("next event: %v", err)
			}
			var ev eventsv1.ConcernRegistered
			if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.GetConcern() != created.GetName() {
				continue
			}
			if got := msg.Headers().Get("Nats-Msg-Id"); got == "" || got != ev.GetMetadata().GetEventId() {
				t.Errorf("Nats-Msg-Id = %q; want the event id %q", got, ev.GetMetadata().GetEventId())
			}
			if got := msg.Headers().Get(events.TypeHeader); got != "ipn.disputes.events.v1.ConcernRegistered" {
				t.Errorf("type header = %q", got)
			}
			if want := r.ns.Subject("groups/riverside", "concern", "registered"); msg.Subject() != want {
				t.Errorf("subject = %q; want %q", msg.Subject(), want)
			}
			if ev.GetPractitioner() != req.GetConcern().GetPractitioner() ||
				ev.GetMetadata().GetGroup() != "groups/riverside" || ev.GetMetadata().GetProducer() != "intake" {
				t.Errorf("event = %v", &ev)
			}
			for _, secret := range []string{
				req.GetConcern().GetDescription(), req.GetConcern().GetDesiredOutcome(), req.GetConcern().GetClientName(),
				req.GetConcern().GetClientContact().GetEmail(), req.GetConcern().GetClientContact().GetPhone(),
				created.GetAccessCode(), strings.ReplaceAll(created.GetAccessCode(), "-", ""),
				created.GetReference(), // half of the client's sign-in
			} {
				if strings.Contains(string(msg.Data()), secret) {
					t.Errorf("event payload carries confidential text %q", secret)
				}
			}
			return
		}
		t.Fatal("no ConcernRegistered event for the new concern arrived")
	})

	t.Run("GetConcern", func(t *testing.T) {
		unknown := "groups/riverside/concerns/2f1d7d0e-9a61-4b8e-8f4c-3c2a5d7b9e10"
		tests := []struct {
			name       string
			client     intakev1.IntakeServiceClient
			concern    string
			wantCode   codes.Code
			wantReason string
		}{
			{name: "without credentials", client: public, concern: created.GetName(), wantCode: codes.Unauthenticated, wantReason: "UNAUTHENTICATED"},
			{name: "as notification", client: notification, concern: created.GetName(), wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
			{name: "as casework, unknown concern", client: casework, concern: unknown, wantCode: codes.NotFound, wantReason: "CONCERN_NOT_FOUND"},
			{name: "as casework", client: casework, concern: created.GetName(), wantCode: codes.OK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := tt.client.GetConcern(ctx, &intakev1.GetConcernRequest{Name: tt.concern})
				if tt.wantCode != codes.OK {
					st := testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
					if strings.Contains(st.Message(), "sam.carter") {
						t.Errorf("error message %q carries contact details", st.Message())
					}
					return
				}
				if err != nil {
					t.Fatalf("GetConcern: %v", err)
				}
				want := proto.Clone(req.GetConcern()).(*intakev1.Concern)
				want.Name, want.Reference, want.CreateTime, want.Case = created.GetName(), created.GetReference(), created.GetCreateTime(), created.GetCase()
				if !proto.Equal(got, want) {
					t.Errorf("GetConcern = %v\nwant %v", got, want)
				}
				if got.GetAccessCode() != "" {
					t.Error("GetConcern returned an access code")
				}
			})
		}
	})

	t.Run("CreateConcern errors", func(t *testing.T) {
		tests := []struct {
			name       string
			edit       func(*intakev1.CreateConcernRequest)
			wantCode   codes.Code
			wantReason string
			wantFields []string
		}{
			{name: "unknown group", wantCode: codes.NotFound, wantReason: "GROUP_NOT_FOUND", edit: func(r *intakev1.CreateConcernRequest) {
				r.Parent, r.Concern.Practitioner = "groups/nowhere", "groups/nowhere/members/alex-moss"
			}},
			{name: "group with one link group", wantCode: codes.FailedPrecondition, wantReason: "GROUP_NOT_ACCEPTING_CONCERNS", edit: func(r *intakev1.CreateConcernRequest) {
				r.Parent, r.Concern.Practitioner = "groups/lonely", "groups/lonely/members/kim-lee"
			}},
			{name: "inactive practitioner", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.practitioner"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.Practitioner = "groups/riverside/members/jo-park"
			}},
			{name: "unknown practitioner", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.practitioner"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.Practitioner = "groups/riverside/members/nobody"
			}},
			{name: "practitioner of another group", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.practitioner"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.Practitioner = "groups/lonely/members/kim-lee"
			}},
			{name: "bad e-mail", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.client_contact.email"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.ClientContact.Email = "sam.carter at example.org"
			}},
			{name: "e-mail with display name", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.client_contact.email"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.ClientContact.Email = "Sam <sam.carter@example.org>"
			}},
			{name: "bad phone", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.client_contact.phone"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.ClientContact.Phone = "call me maybe"
			}},
			{name: "no way to reach the client", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.client_contact"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.ClientContact = &intakev1.ClientContact{}
			}},
			{name: "missing description", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.description"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.Description = ""
			}},
			{name: "name too long", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.client_name"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.ClientName = strings.Repeat("n", 201)
			}},
			{name: "description of 20,001 characters", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.description"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.Description = strings.Repeat("😀", 20001)
			}},
			{name: "desired outcome of 5,001 characters", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.desired_outcome"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.DesiredOutcome = strings.Repeat("😀", 5001)
			}},
			{name: "desired outcome with a control character", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern.desired_outcome"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern.DesiredOutcome = "An apology\x00"
			}},
			{name: "missing concern", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"concern"}, edit: func(r *intakev1.CreateConcernRequest) {
				r.Concern = nil
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				req := validRequest()
				tt.edit(req)
				_, err := public.CreateConcern(ctx, req)
				st := testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
				for _, secret := range []string{"sam.carter", "7946", "call me", "short notice"} {
					if strings.Contains(st.Message(), secret) {
						t.Errorf("error message %q carries what the client wrote", st.Message())
					}
				}
				var fields []string
				for _, d := range st.Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						for _, fv := range br.GetFieldViolations() {
							fields = append(fields, fv.GetField())
						}
					}
				}
				if strings.Join(fields, ",") != strings.Join(tt.wantFields, ",") {
					t.Errorf("field violations on %v; want %v", fields, tt.wantFields)
				}
				if tt.wantReason == "GROUP_NOT_ACCEPTING_CONCERNS" && !strings.Contains(st.Message(), "not yet ready to receive concerns") {
					t.Errorf("message %q does not say the group is not yet ready", st.Message())
				}
			})
		}
	})

	// The limits are the contract's max_length, in characters: a
	// description of 20,000 four-byte characters (80,000 bytes), a desired
	// outcome of 5,000 over several lines and a name of 200 are accepted and
	// kept whole.
	t.Run("CreateConcern at the longest", func(t *testing.T) {
		req := validRequest()
		req.Concern.Description = strings.Repeat("😀", 20000)
		req.Concern.DesiredOutcome = strings.Repeat("😀😀😀😀\n", 1000)
		req.Concern.ClientName = strings.Repeat("名", 200)
		long, err := public.CreateConcern(ctx, req)
		if err != nil {
			t.Fatalf("CreateConcern: %v", err)
		}
		got, err := casework.GetConcern(ctx, &intakev1.GetConcernRequest{Name: long.GetName()})
		if err != nil || got.GetDescription() != req.GetConcern().GetDescription() || got.GetClientName() != req.GetConcern().GetClientName() ||
			got.GetDesiredOutcome() != strings.TrimSpace(req.GetConcern().GetDesiredOutcome()) {
			t.Errorf("GetConcern: description of %d characters, desired outcome of %d, name of %d, %v",
				len([]rune(got.GetDescription())), len([]rune(got.GetDesiredOutcome())), len([]rune(got.GetClientName())), err)
		}
	})
	// The desired outcome is optional: a concern without one is taken over
	// without one.
	t.Run("CreateConcern without a desired outcome", func(t *testing.T) {
		req := validRequest()
		req.Concern.DesiredOutcome = ""
		created, err := public.CreateConcern(ctx, req)
		if err != nil {
			t.Fatalf("CreateConcern: %v", err)
		}
		got, err := casework.GetConcern(ctx, &intakev1.GetConcernRequest{Name: created.GetName()})
		if err != nil || got.GetDesiredOutcome() != "" || got.GetDescription() != req.GetConcern().GetDescription() {
			t.Errorf("GetConcern: %v, %v", got, err)
		}
	})
}
