package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// twoGroups is a deployment with groups riverside (A) and hillside (B).
// Riverside has an external link group with private contact details, a
// member who changed their contact details, a member who left, a published
// statement (v1) and a draft (v2).
type twoGroups struct {
	*env
	adminA, memberA string
	adminB, memberB string
	// private are riverside's details that only its members, services and
	// the operator may see.
	private []string
}

func startTwoGroups(t *testing.T) twoGroups {
	t.Helper()
	e := start(t)
	f := twoGroups{env: e}
	f.adminA, f.memberA = e.seed(t, "riverside")
	f.adminB, f.memberB = e.seed(t, "hillside")
	admin := as(f.adminA)
	if _, err := e.client.CreateLinkGroup(admin, &directoryv1.CreateLinkGroupRequest{Parent: "groups/riverside", LinkGroupId: "estuary", LinkGroup: &directoryv1.LinkGroup{
		DisplayName: "Estuary Practitioners",
		Target: &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{
			ContactEmail: "links@estuary-private.example.org", GrpcEndpoint: "notices.estuary-private.example.org:7443",
		}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateLinkGroup(admin, &directoryv1.CreateLinkGroupRequest{Parent: "groups/riverside", LinkGroupId: "hillside", LinkGroup: &directoryv1.LinkGroup{
		DisplayName: "Hillside", Target: &directoryv1.LinkGroup_LocalGroup{LocalGroup: "groups/hillside"},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateMember(as(f.memberA), &directoryv1.UpdateMemberRequest{
		Member: &directoryv1.Member{Name: "groups/riverside/members/ben", DisplayName: "Member ben",
			Contact: &directoryv1.ContactDetails{Email: "ben.private@riverside.example.org", Phone: "+44 7700 900456"}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"contact"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DeactivateMember(admin, &directoryv1.DeactivateMemberRequest{Name: "groups/riverside/members/cai"}); err != nil {
		t.Fatal(err)
	}
	e.createStatement(t, admin, "riverside", statementV1)
	if _, err := e.client.PublishStatement(admin, &directoryv1.PublishStatementRequest{Name: "groups/riverside/statements/1"}); err != nil {
		t.Fatal(err)
	}
	e.createStatement(t, admin, "riverside", "## Values\nA draft nobody outside may read.")
	f.private = []string{
		"ada@riverside.example.org", "cai@riverside.example.org", "ben.private@riverside.example.org",
		"+44 1234 567890", "+44 7700 900456",
		"links@estuary-private.example.org", "notices.estuary-private.example.org:7443",
	}
	return f
}

// leaks returns the private details found in data.
func (f twoGroups) leaks(data []byte) []string {
	var found []string
	for _, p := range f.private {
		if bytes.Contains(data, []byte(p)) {
			found = append(found, p)
		}
	}
	return found
}

// readA reads every public part of riverside through every read RPC and
// returns the responses and errors, encoded.
func (f twoGroups) readA(t *testing.T, ctx context.Context) map[string][]byte {
	t.Helper()
	c := f.client
	out := map[string][]byte{}
	record := func(what string, m proto.Message, err error) {
		if err != nil {
			out[what] = []byte(err.Error())
			return
		}
		b, merr := proto.Marshal(m)
		if merr != nil {
			t.Fatal(merr)
		}
		out[what] = b
	}
	g, err := c.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: "groups/riverside"})
	record("GetGroup", g, err)
	gs, err := c.ListGroups(ctx, &directoryv1.ListGroupsRequest{})
	record("ListGroups", gs, err)
	for _, m := range []string{"ada", "ben", "cai"} {
		got, err := c.GetMember(ctx, &directoryv1.GetMemberRequest{Name: "groups/riverside/members/" + m})
		record("GetMember "+m, got, err)
	}
	ms, err := c.ListMembers(ctx, &directoryv1.ListMembersRequest{Parent: "groups/riverside"})
	record("ListMembers", ms, err)
	active, err := c.ListMembers(ctx, &directoryv1.ListMembersRequest{Parent: "groups/riverside", ActiveOnly: true})
	record("ListMembers active", active, err)
	ls, err := c.ListLinkGroups(ctx, &directoryv1.ListLinkGroupsRequest{Parent: "groups/riverside"})
	record("ListLinkGroups", ls, err)
	for _, l := range []string{"estuary", "hillside"} {
		got, err := c.GetLinkGroup(ctx, &directoryv1.GetLinkGroupRequest{Name: "groups/riverside/linkGroups/" + l})
		record("GetLinkGroup "+l, got, err)
	}
	for _, st := range []string{"current", "1", "2"} {
		got, err := c.GetStatement(ctx, &directoryv1.GetStatementRequest{Name: "groups/riverside/statements/" + st})
		record("GetStatement "+st, got, err)
	}
	sts, err := c.ListStatements(ctx, &directoryv1.ListStatementsRequest{Parent: "groups/riverside"})
	record("ListStatements", sts, err)
	toks, err := c.ListAccessTokens(ctx, &directoryv1.ListAccessTokensRequest{Parent: "groups/riverside/members/ben"})
	record("ListAccessTokens", toks, err)
	return out
}

func TestPrivateDetailsNeverPublic(t *testing.T) {
	t.Parallel()
	f := startTwoGroups(t)

	t.Run("the group itself sees them", func(t *testing.T) {
		// Without this the checks below could pass by showing nothing at all.
		var all []byte
		for _, b := range f.readA(t, as(f.memberA)) {
			all = append(all, b...)
		}
		if got := f.leaks(all); len(got) != len(f.private) {
			t.Errorf("a member of the group sees only %v of %v", got, f.private)
		}
	})

	for _, who := range []struct {
		name string
		ctx  context.Context
	}{
		{"anonymous", as("")},
		{"member of another group", as(f.memberB)},
		{"admin of another group", as(f.adminB)},
	} {
		t.Run(who.name, func(t *testing.T) {
			t.Parallel()
			for what, data := range f.readA(t, who.ctx) {
				if leaked := f.leaks(data); len(leaked) > 0 {
					t.Errorf("%s shows %v", what, leaked)
				}
			}
			links, err := f.client.ListLinkGroups(who.ctx, &directoryv1.ListLinkGroupsRequest{Parent: "groups/riverside"})
			if err != nil || len(links.GetLinkGroups()) != 2 {
				t.Fatalf("ListLinkGroups = %v, %v", links, err)
			}
			for _, l := range links.GetLinkGroups() {
				if l.GetDisplayName() == "" {
					t.Errorf("%s: the name of a link group is public", l.GetName())
				}
			}
		})
	}

	t.Run("events", func(t *testing.T) {
		t.Parallel()
		// 6 joined, 1 updated, 1 left, 1 published.
		all := f.allEvents(t, 9)
		for _, ev := range all {
			if leaked := f.leaks(ev.Data); len(leaked) > 0 {
				t.Errorf("event %s carries %v", ev.Subject, leaked)
			}
			if bytes.Contains(ev.Data, []byte("Respect for clients")) {
				t.Errorf("event %s carries statement text", ev.Subject)
			}
		}
		joined := f.events(t, "member", "joined", 6)
		var jm eventsv1.MemberJoined
		joined[0].decode(t, &jm)
		if jm.GetMember() != "groups/riverside/members/ada" || jm.GetMetadata().GetProducer() != "directory" || jm.GetMetadata().GetEventId() == "" {
			t.Errorf("MemberJoined = %v", &jm)
		}
		var um eventsv1.MemberUpdated
		f.events(t, "member", "updated", 1)[0].decode(t, &um)
		if um.GetMember() != "groups/riverside/members/ben" || strings.Join(um.GetChangedFields(), ",") != "contact" {
			t.Errorf("MemberUpdated = %v", &um)
		}
		var lm eventsv1.MemberLeft
		f.events(t, "member", "left", 1)[0].decode(t, &lm)
		if lm.GetMember() != "groups/riverside/members/cai" || lm.GetMetadata().GetGroup() != "groups/riverside" {
			t.Errorf("MemberLeft = %v", &lm)
		}
	})
}

func TestGroupsAreSeparate(t *testing.T) {
	t.Parallel()
	f := startTwoGroups(t)
	c := f.client
	ben := "groups/riverside/members/ben"
	tokens, err := c.ListAccessTokens(as(f.adminA), &directoryv1.ListAccessTokensRequest{Parent: ben})
	if err != nil {
		t.Fatal(err)
	}
	benToken := tokens.GetAccessTokens()[0].GetName()

	writes := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"UpdateGroup", func(ctx context.Context) error {
			_, err := c.UpdateGroup(ctx, &directoryv1.UpdateGroupRequest{Group: &directoryv1.Group{Name: "groups/riverside", DisplayName: "Taken"}})
			return err
		}},
		{"CreateMember", func(ctx context.Context) error {
			_, err := c.CreateMember(ctx, &directoryv1.CreateMemberRequest{Parent: "groups/riverside", MemberId: "mole", Member: &directoryv1.Member{
				DisplayName: "Mole", Contact: &directoryv1.ContactDetails{Email: "mole@example.org"}}})
			return err
		}},
		{"UpdateMember", func(ctx context.Context) error {
			_, err := c.UpdateMember(ctx, &directoryv1.UpdateMemberRequest{Member: &directoryv1.Member{Name: ben, DisplayName: "Taken"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
			return err
		}},
		{"UpdateMember contact", func(ctx context.Context) error {
			_, err := c.UpdateMember(ctx, &directoryv1.UpdateMemberRequest{Member: &directoryv1.Member{Name: ben, DisplayName: "x",
				Contact: &directoryv1.ContactDetails{Email: "mole@example.org"}}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"contact"}}})
			return err
		}},
		{"DeactivateMember", func(ctx context.Context) error {
			_, err := c.DeactivateMember(ctx, &directoryv1.DeactivateMemberRequest{Name: ben})
			return err
		}},
		{"CreateLinkGroup", func(ctx context.Context) error {
			_, err := c.CreateLinkGroup(ctx, &directoryv1.CreateLinkGroupRequest{Parent: "groups/riverside", LinkGroupId: "other", LinkGroup: &directoryv1.LinkGroup{
				DisplayName: "Other", Target: &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: "o@example.org"}}}})
			return err
		}},
		{"DeleteLinkGroup", func(ctx context.Context) error {
			_, err := c.DeleteLinkGroup(ctx, &directoryv1.DeleteLinkGroupRequest{Name: "groups/riverside/linkGroups/estuary"})
			return err
		}},
		{"CreateStatement", func(ctx context.Context) error {
			_, err := c.CreateStatement(ctx, &directoryv1.CreateStatementRequest{Parent: "groups/riverside", Statement: &directoryv1.Statement{Markdown: "## Values\nTaken."}})
			return err
		}},
		{"PublishStatement", func(ctx context.Context) error {
			_, err := c.PublishStatement(ctx, &directoryv1.PublishStatementRequest{Name: "groups/riverside/statements/2"})
			return err
		}},
		{"CreateAccessToken", func(ctx context.Context) error {
			_, err := c.CreateAccessToken(ctx, &directoryv1.CreateAccessTokenRequest{Parent: ben})
			return err
		}},
		{"RevokeAccessToken", func(ctx context.Context) error {
			_, err := c.RevokeAccessToken(ctx, &directoryv1.RevokeAccessTokenRequest{Name: benToken})
			return err
		}},
	}
	for _, who := range []struct {
		name   string
		secret string
	}{{"B's admin", f.adminB}, {"B's member", f.memberB}} {
		for _, w := range writes {
			t.Run(who.name+" "+w.name, func(t *testing.T) {
				err := w.call(as(who.secret))
				if code := statusCode(err); code != codes.PermissionDenied && code != codes.NotFound {
					t.Errorf("%s on riverside with %s = %v; want PERMISSION_DENIED or NOT_FOUND", w.name, who.name, err)
				}
			})
		}
		t.Run(who.name+" reads", func(t *testing.T) {
			reads := f.readA(t, as(who.secret))
			for what, data := range reads {
				if leaked := f.leaks(data); len(leaked) > 0 {
					t.Errorf("%s shows %v", what, leaked)
				}
			}
			_, err := c.GetStatement(as(who.secret), &directoryv1.GetStatementRequest{Name: "groups/riverside/statements/2"})
			testenv.WantStatus(t, err, codes.NotFound, "STATEMENT_NOT_FOUND")
			list, err := c.ListStatements(as(who.secret), &directoryv1.ListStatementsRequest{Parent: "groups/riverside"})
			if err != nil || len(list.GetStatements()) != 1 || list.GetStatements()[0].GetState() == directoryv1.Statement_STATE_DRAFT {
				t.Errorf("ListStatements = %v, %v; want only the published version", list, err)
			}
			_, err = c.ListAccessTokens(as(who.secret), &directoryv1.ListAccessTokensRequest{Parent: ben})
			testenv.WantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
		})
	}

	t.Run("riverside is unchanged", func(t *testing.T) {
		g, err := c.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: "groups/riverside"})
		if err != nil || g.GetDisplayName() != "Group riverside" {
			t.Errorf("group = %v, %v", g, err)
		}
		m, err := c.GetMember(as(f.adminA), &directoryv1.GetMemberRequest{Name: ben})
		if err != nil || m.GetState() != directoryv1.Member_STATE_ACTIVE || m.GetDisplayName() != "Member ben" || m.GetContact().GetEmail() != "ben.private@riverside.example.org" {
			t.Errorf("ben = %v, %v", m, err)
		}
		members, err := c.ListMembers(as(f.adminA), &directoryv1.ListMembersRequest{Parent: "groups/riverside"})
		if err != nil || len(members.GetMembers()) != 3 {
			t.Errorf("members = %v, %v", members, err)
		}
		links, err := c.ListLinkGroups(as(f.adminA), &directoryv1.ListLinkGroupsRequest{Parent: "groups/riverside"})
		if err != nil || len(links.GetLinkGroups()) != 2 {
			t.Errorf("links = %v, %v", links, err)
		}
		if st := f.statement(t, as(f.adminA), "groups/riverside/statements/2"); st.GetState() != directoryv1.Statement_STATE_DRAFT {
			t.Errorf("v2 = %v", st)
		}
		if names := f.statementNames(t, as(f.adminA), "riverside"); len(names) != 2 {
			t.Errorf("statements = %v", names)
		}
		toks, err := c.ListAccessTokens(as(f.adminA), &directoryv1.ListAccessTokensRequest{Parent: ben})
		if err != nil || len(toks.GetAccessTokens()) != 1 || toks.GetAccessTokens()[0].GetRevokeTime() != nil {
			t.Errorf("ben's tokens = %v, %v", toks, err)
		}
		if _, err := c.Authenticate(asService(), &directoryv1.AuthenticateRequest{Secret: f.memberA}); err != nil {
			t.Errorf("ben's token stopped working: %v", err)
		}
	})
}

func statusCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return codes.Unknown
}
