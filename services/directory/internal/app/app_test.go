package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/app"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const operatorToken = "operator-secret-for-tests-0123456789"

// env is one directory running in-process on its own database and event
// namespace.
type env struct {
	client      directoryv1.DirectoryServiceClient
	natsURL     string
	ns          events.Namespace
	databaseURL string
}

func start(t *testing.T) *env {
	t.Helper()
	return startWith(t, func(*app.Config) {})
}

// startWith runs a directory like start's, with change made to its
// configuration first (another casework, say).
func startWith(t *testing.T, change func(*app.Config)) *env {
	t.Helper()
	cfg := app.Config{OperatorToken: operatorToken, TokenTTL: time.Hour}
	cfg.GRPCAddr = testenv.FreeAddr(t)
	cfg.DatabaseURL = testenv.Database(t)
	cfg.DatabaseSchema = "directory"
	cfg.NATSURL = testenv.NATS(t)
	cfg.EventNamespace = string(testenv.Namespace(t))
	cfg.LogLevel = "error"
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.TrustedServices = "notification=notification-secret"
	cfg.ServiceSecret = directorySecret
	cfg.CaseworkAddr = serveCasework(t, knownProcedures...)
	change(&cfg)
	testenv.RunService(t, app.Name, cfg.GRPCAddr, func(ctx context.Context) error { return app.Run(ctx, cfg) })

	conn, err := grpc.NewClient(cfg.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &env{client: directoryv1.NewDirectoryServiceClient(conn), natsURL: cfg.NATSURL, ns: events.Namespace(cfg.EventNamespace), databaseURL: cfg.DatabaseURL}
}

func as(secret string) context.Context {
	ctx := context.Background()
	if secret == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+secret)
}

// asService calls as a service the harness trusts: only services may call
// Authenticate.
func asService() context.Context {
	return as(auth.ServiceToken("notification", "notification-secret"))
}

// seed creates a group with members and returns the admin's and a plain
// member's token secrets.
func (e *env) seed(t *testing.T, groupID string) (admin, member string) {
	t.Helper()
	op := as(operatorToken)
	if _, err := e.client.CreateGroup(op, &directoryv1.CreateGroupRequest{GroupId: groupID, Group: &directoryv1.Group{
		DisplayName: "Group " + groupID, IpnStatus: directoryv1.Group_IPN_STATUS_MEMBER_GROUP,
	}}); err != nil {
		t.Fatalf("create group: %v", err)
	}
	for _, m := range []struct {
		id    string
		admin bool
	}{{"ada", true}, {"ben", false}, {"cai", false}} {
		if _, err := e.client.CreateMember(op, &directoryv1.CreateMemberRequest{
			Parent: "groups/" + groupID, MemberId: m.id,
			Member: &directoryv1.Member{
				DisplayName: "Member " + m.id, GroupAdmin: m.admin,
				Contact:       &directoryv1.ContactDetails{Email: m.id + "@" + groupID + ".example.org", Phone: "+44 1234 567890"},
				PublicProfile: &directoryv1.PublicProfile{Training: "Person-centred counselling"},
			},
		}); err != nil {
			t.Fatalf("create member %s: %v", m.id, err)
		}
	}
	return e.issue(t, groupID, "ada"), e.issue(t, groupID, "ben")
}

// issue gives a member a new access token and returns its secret.
func (e *env) issue(t *testing.T, groupID, memberID string) string {
	t.Helper()
	tok, err := e.client.CreateAccessToken(as(operatorToken), &directoryv1.CreateAccessTokenRequest{
		Parent: "groups/" + groupID + "/members/" + memberID, AccessToken: &directoryv1.AccessToken{DisplayName: "test"},
	})
	if err != nil {
		t.Fatalf("issue token: %v", err)
	}
	return tok.GetSecret()
}

func TestDirectoryRPCs(t *testing.T) {
	e := start(t)
	admin, member := e.seed(t, "riverside")
	otherAdmin, otherMember := e.seed(t, "hillside")
	op := as(operatorToken)

	t.Run("CreateGroup", func(t *testing.T) {
		tests := []struct {
			name   string
			ctx    context.Context
			req    *directoryv1.CreateGroupRequest
			code   codes.Code
			reason string
			field  string
		}{
			{"operator creates", op, &directoryv1.CreateGroupRequest{GroupId: "moorland", Group: &directoryv1.Group{DisplayName: "Moorland"}}, codes.OK, "", ""},
			{"duplicate", op, &directoryv1.CreateGroupRequest{GroupId: "riverside", Group: &directoryv1.Group{DisplayName: "Again"}}, codes.AlreadyExists, "ALREADY_EXISTS", ""},
			{"bad id", op, &directoryv1.CreateGroupRequest{GroupId: "Bad_ID", Group: &directoryv1.Group{DisplayName: "X"}}, codes.InvalidArgument, "INVALID_FIELDS", "group_id"},
			{"missing display name", op, &directoryv1.CreateGroupRequest{GroupId: "nameless", Group: &directoryv1.Group{}}, codes.InvalidArgument, "INVALID_FIELDS", "group.display_name"},
			{"missing group", op, &directoryv1.CreateGroupRequest{GroupId: "empty"}, codes.InvalidArgument, "INVALID_FIELDS", "group"},
			{"target too long", op, &directoryv1.CreateGroupRequest{GroupId: "slow", Group: &directoryv1.Group{DisplayName: "Slow", ProcedureSettings: &directoryv1.ProcedureSettings{OverallTarget: durationpb.New(400 * 24 * time.Hour)}}}, codes.InvalidArgument, "INVALID_FIELDS", "group.procedure_settings.overall_target"},
			{"group admin may not", as(admin), &directoryv1.CreateGroupRequest{GroupId: "adminmade", Group: &directoryv1.Group{DisplayName: "X"}}, codes.PermissionDenied, "CALLER_NOT_ALLOWED", ""},
			{"anonymous", as(""), &directoryv1.CreateGroupRequest{GroupId: "anon", Group: &directoryv1.Group{DisplayName: "X"}}, codes.Unauthenticated, "UNAUTHENTICATED", ""},
			{"bad token", as("ipnpat_nope_nope"), &directoryv1.CreateGroupRequest{GroupId: "anon", Group: &directoryv1.Group{DisplayName: "X"}}, codes.Unauthenticated, "UNAUTHENTICATED", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				g, err := e.client.CreateGroup(tc.ctx, tc.req)
				if tc.code == codes.OK {
					if err != nil {
						t.Fatal(err)
					}
					if g.GetName() != "groups/"+tc.req.GetGroupId() || g.GetProcedureSettings().GetOverallTarget().AsDuration() != 56*24*time.Hour {
						t.Errorf("created %v", g)
					}
					return
				}
				testenv.WantStatus(t, err, tc.code, tc.reason, fieldsOf(tc.field)...)
			})
		}
	})

	t.Run("GetGroup and ListGroups are public", func(t *testing.T) {
		g, err := e.client.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: "groups/riverside"})
		if err != nil || g.GetDisplayName() != "Group riverside" {
			t.Fatalf("GetGroup = %v, %v", g, err)
		}
		_, err = e.client.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: "groups/nowhere"})
		testenv.WantStatus(t, err, codes.NotFound, "GROUP_NOT_FOUND")
		_, err = e.client.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: "riverside"})
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "name")

		var names []string
		token := ""
		for {
			resp, err := e.client.ListGroups(as(""), &directoryv1.ListGroupsRequest{PageSize: 1, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range resp.GetGroups() {
				names = append(names, g.GetName())
			}
			if token = resp.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(names) < 2 || names[0] > names[1] {
			t.Errorf("ListGroups pages = %v", names)
		}
		_, err = e.client.ListGroups(as(""), &directoryv1.ListGroupsRequest{PageToken: "!!"})
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "page_token")
	})

	t.Run("UpdateGroup", func(t *testing.T) {
		g, err := e.client.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: "groups/riverside"})
		if err != nil {
			t.Fatal(err)
		}
		upd := &directoryv1.UpdateGroupRequest{
			Group:      &directoryv1.Group{Name: "groups/riverside", MeetingFrequency: "Eight times a year", DisplayName: "ignored", Etag: g.GetEtag()},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"meeting_frequency"}},
		}
		got, err := e.client.UpdateGroup(as(admin), upd)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetMeetingFrequency() != "Eight times a year" || got.GetDisplayName() != "Group riverside" || got.GetEtag() == g.GetEtag() {
			t.Errorf("updated group = %v", got)
		}
		_, err = e.client.UpdateGroup(as(admin), upd) // same etag again: stale
		testenv.WantStatus(t, err, codes.Aborted, "ETAG_MISMATCH")
		upd.Group.Etag = ""
		_, err = e.client.UpdateGroup(as(member), upd)
		testenv.WantStatus(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
		_, err = e.client.UpdateGroup(as(otherAdmin), upd)
		testenv.WantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
		upd.UpdateMask.Paths = []string{"nickname"}
		_, err = e.client.UpdateGroup(as(admin), upd)
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "update_mask")
		// The etag and output-only fields in a mask are left out (AIP-161):
		// nothing is left to change, and nothing does.
		upd.UpdateMask.Paths = []string{"etag", "updateTime"}
		same, err := e.client.UpdateGroup(as(admin), upd)
		if err != nil || same.GetEtag() != got.GetEtag() || same.GetMeetingFrequency() != "Eight times a year" {
			t.Errorf("an update of nothing: %v, %v; want the group as it was", same, err)
		}
	})

	t.Run("CreateMember", func(t *testing.T) {
		good := func() *directoryv1.Member {
			return &directoryv1.Member{DisplayName: "Dee", Contact: &directoryv1.ContactDetails{Email: "dee@riverside.example.org"}}
		}
		badEmail := good()
		badEmail.Contact.Email = "Dee <dee@example.org>"
		badPhone := good()
		badPhone.Contact.Phone = "call me"
		tests := []struct {
			name   string
			ctx    context.Context
			parent string
			id     string
			m      *directoryv1.Member
			code   codes.Code
			reason string
			field  string
		}{
			{"admin adds", as(admin), "groups/riverside", "dee", good(), codes.OK, "", ""},
			{"duplicate", as(admin), "groups/riverside", "dee", good(), codes.AlreadyExists, "ALREADY_EXISTS", ""},
			{"bad e-mail", as(admin), "groups/riverside", "eve", badEmail, codes.InvalidArgument, "INVALID_FIELDS", "member.contact.email"},
			{"bad phone", as(admin), "groups/riverside", "eve", badPhone, codes.InvalidArgument, "INVALID_FIELDS", "member.contact.phone"},
			{"bad id", as(admin), "groups/riverside", "e", good(), codes.InvalidArgument, "INVALID_FIELDS", "member_id"},
			{"plain member may not", as(member), "groups/riverside", "fay", good(), codes.PermissionDenied, "CALLER_NOT_ALLOWED", ""},
			{"other group's admin may not", as(otherAdmin), "groups/riverside", "fay", good(), codes.PermissionDenied, "PERMISSION_DENIED", ""},
			{"unknown group", op, "groups/nowhere", "fay", good(), codes.NotFound, "GROUP_NOT_FOUND", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.client.CreateMember(tc.ctx, &directoryv1.CreateMemberRequest{Parent: tc.parent, MemberId: tc.id, Member: tc.m})
				if tc.code == codes.OK {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				testenv.WantStatus(t, err, tc.code, tc.reason, fieldsOf(tc.field)...)
			})
		}
	})

	t.Run("contact details only for the group and services", func(t *testing.T) {
		tests := []struct {
			name        string
			ctx         context.Context
			wantContact bool
		}{
			{"anonymous", as(""), false},
			{"member of the group", as(member), true},
			{"member of another group", as(otherMember), false},
			{"operator", op, true},
			{"trusted service", as(auth.ServiceToken("notification", "notification-secret")), true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				m, err := e.client.GetMember(tc.ctx, &directoryv1.GetMemberRequest{Name: "groups/riverside/members/ben"})
				if err != nil {
					t.Fatal(err)
				}
				if got := m.GetContact().GetEmail() != ""; got != tc.wantContact {
					t.Errorf("contact shown = %v, want %v", got, tc.wantContact)
				}
				if m.GetPublicProfile().GetTraining() == "" {
					t.Error("public profile missing")
				}
				list, err := e.client.ListMembers(tc.ctx, &directoryv1.ListMembersRequest{Parent: "groups/riverside"})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range list.GetMembers() {
					if got := m.GetContact() != nil; got != tc.wantContact {
						t.Errorf("%s: contact shown = %v, want %v", m.GetName(), got, tc.wantContact)
					}
				}
			})
		}
		_, err := e.client.GetMember(as(""), &directoryv1.GetMemberRequest{Name: "groups/riverside/members/nobody"})
		testenv.WantStatus(t, err, codes.NotFound, "MEMBER_NOT_FOUND")
	})

	t.Run("link groups", func(t *testing.T) {
		ext := func(id string) *directoryv1.CreateLinkGroupRequest {
			return &directoryv1.CreateLinkGroupRequest{Parent: "groups/riverside", LinkGroupId: id, LinkGroup: &directoryv1.LinkGroup{
				DisplayName: "Link " + id,
				Target:      &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: id + "@example.org"}},
			}}
		}
		local := &directoryv1.CreateLinkGroupRequest{Parent: "groups/riverside", LinkGroupId: "hillside", LinkGroup: &directoryv1.LinkGroup{
			DisplayName: "Hillside", Target: &directoryv1.LinkGroup_LocalGroup{LocalGroup: "groups/hillside"},
		}}
		self := &directoryv1.CreateLinkGroupRequest{Parent: "groups/riverside", LinkGroupId: "self", LinkGroup: &directoryv1.LinkGroup{
			DisplayName: "Self", Target: &directoryv1.LinkGroup_LocalGroup{LocalGroup: "groups/riverside"},
		}}
		noTarget := &directoryv1.CreateLinkGroupRequest{Parent: "groups/riverside", LinkGroupId: "none", LinkGroup: &directoryv1.LinkGroup{DisplayName: "None"}}
		_, err := e.client.CreateLinkGroup(as(member), ext("estuary"))
		testenv.WantStatus(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
		_, err = e.client.CreateLinkGroup(as(admin), self)
		testenv.WantStatus(t, err, codes.InvalidArgument, "SELF_LINK")
		_, err = e.client.CreateLinkGroup(as(admin), noTarget)
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "link_group.external_group.contact_email")
		if _, err := e.client.CreateLinkGroup(as(admin), local); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.CreateLinkGroup(as(admin), ext("estuary")); err != nil {
			t.Fatal(err)
		}
		_, err = e.client.CreateLinkGroup(as(admin), ext("third"))
		testenv.WantStatus(t, err, codes.FailedPrecondition, "TOO_MANY_LINK_GROUPS")
		list, err := e.client.ListLinkGroups(as(""), &directoryv1.ListLinkGroupsRequest{Parent: "groups/riverside"})
		if err != nil || len(list.GetLinkGroups()) != 2 {
			t.Fatalf("ListLinkGroups = %v, %v", list, err)
		}
	})

	t.Run("Authenticate", func(t *testing.T) {
		svc := as(auth.ServiceToken("notification", "notification-secret"))
		a, err := e.client.Authenticate(svc, &directoryv1.AuthenticateRequest{Secret: admin})
		if err != nil {
			t.Fatal(err)
		}
		if a.GetMember() != "groups/riverside/members/ada" || a.GetGroup() != "groups/riverside" || !a.GetGroupAdmin() || a.GetCacheTtl().AsDuration() <= 0 {
			t.Errorf("Authenticate(admin) = %v", a)
		}
		a, err = e.client.Authenticate(svc, &directoryv1.AuthenticateRequest{Secret: operatorToken})
		if err != nil || !a.GetOperator() {
			t.Errorf("Authenticate(operator) = %v, %v", a, err)
		}
		for _, secret := range []string{member + "x", "ipnpat_unknown_secret", "garbage", admin[:len(admin)-1]} {
			_, err := e.client.Authenticate(svc, &directoryv1.AuthenticateRequest{Secret: secret})
			testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
		}
		_, err = e.client.Authenticate(as(auth.ServiceToken("notification", "wrong")), &directoryv1.AuthenticateRequest{Secret: admin})
		testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
		// Only services may: it resolves any secret, the operator's included.
		for _, who := range []string{operatorToken, admin, member} {
			_, err = e.client.Authenticate(as(who), &directoryv1.AuthenticateRequest{Secret: admin})
			testenv.WantStatus(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
		}
		_, err = e.client.Authenticate(as(""), &directoryv1.AuthenticateRequest{Secret: admin})
		testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
	})

	t.Run("CreateAccessToken", func(t *testing.T) {
		_, err := e.client.CreateAccessToken(as(member), &directoryv1.CreateAccessTokenRequest{Parent: "groups/riverside/members/cai"})
		testenv.WantStatus(t, err, codes.PermissionDenied, "CALLER_NOT_ALLOWED")
		_, err = e.client.CreateAccessToken(as(admin), &directoryv1.CreateAccessTokenRequest{Parent: "groups/riverside/members/nobody"})
		testenv.WantStatus(t, err, codes.NotFound, "MEMBER_NOT_FOUND")
		tok, err := e.client.CreateAccessToken(as(admin), &directoryv1.CreateAccessTokenRequest{Parent: "groups/riverside/members/cai"})
		if err != nil || tok.GetSecret() == "" {
			t.Fatalf("CreateAccessToken = %v, %v", tok, err)
		}
		if _, err := e.client.GetGroup(as(tok.GetSecret()), &directoryv1.GetGroupRequest{Name: "groups/riverside"}); err != nil {
			t.Errorf("the new token does not work: %v", err)
		}
		// The label's limit is the contract's 200 characters, however many
		// bytes each takes; one more is refused, naming the field.
		label := strings.Repeat("🔑", 200)
		tok, err = e.client.CreateAccessToken(as(admin), &directoryv1.CreateAccessTokenRequest{Parent: "groups/riverside/members/cai",
			AccessToken: &directoryv1.AccessToken{DisplayName: label}})
		if err != nil || tok.GetDisplayName() != label {
			t.Errorf("a label of 200 four-byte characters: %v, %v", tok.GetDisplayName(), err)
		}
		_, err = e.client.CreateAccessToken(as(admin), &directoryv1.CreateAccessTokenRequest{Parent: "groups/riverside/members/cai",
			AccessToken: &directoryv1.AccessToken{DisplayName: label + "🔑"}})
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "access_token.display_name")
	})
}

// fieldsOf lists the field a table row expects a violation on, if any.
func fieldsOf(field string) []string {
	if field == "" {
		return nil
	}
	return []string{field}
}
