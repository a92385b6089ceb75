package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// memberUpdate builds an UpdateMemberRequest. The display name is always
// sent because the proto marks it REQUIRED; fields outside the mask are
// ignored.
func memberUpdate(name, etag string, paths []string, m *directoryv1.Member) *directoryv1.UpdateMemberRequest {
	if m == nil {
		m = &directoryv1.Member{}
	}
	m.Name, m.Etag = name, etag
	if m.DisplayName == "" {
		m.DisplayName = "unchanged"
	}
	req := &directoryv1.UpdateMemberRequest{Member: m}
	if paths != nil {
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: paths}
	}
	return req
}

func TestUpdateMember(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside")
	otherAdmin, _ := e.seed(t, "hillside")
	cai := "groups/riverside/members/cai"
	ben := "groups/riverside/members/ben"
	ada := "groups/riverside/members/ada"

	before, err := e.client.GetMember(as(admin), &directoryv1.GetMemberRequest{Name: cai})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ctx    context.Context
		req    *directoryv1.UpdateMemberRequest
		code   codes.Code
		reason string
		field  string
		check  func(t *testing.T, m *directoryv1.Member)
	}{
		{
			"admin renames and promotes", as(admin),
			memberUpdate(cai, before.GetEtag(), []string{"display_name", "group_admin"}, &directoryv1.Member{DisplayName: "Cai Evans", GroupAdmin: true}),
			codes.OK, "", "",
			func(t *testing.T, m *directoryv1.Member) {
				if m.GetDisplayName() != "Cai Evans" || !m.GetGroupAdmin() || m.GetEtag() == before.GetEtag() {
					t.Errorf("updated = %v", m)
				}
				if m.GetContact().GetEmail() != "cai@riverside.example.org" {
					t.Errorf("contact outside the mask changed: %v", m.GetContact())
				}
			},
		},
		{"stale etag", as(admin), memberUpdate(cai, before.GetEtag(), []string{"display_name"}, &directoryv1.Member{DisplayName: "Again"}), codes.Aborted, "ETAG_MISMATCH", "", nil},
		{
			"member changes own contact and profile", as(member),
			memberUpdate(ben, "", []string{"contact", "public_profile"}, &directoryv1.Member{
				Contact:       &directoryv1.ContactDetails{Email: "ben.new@riverside.example.org", Phone: "+44 7700 900123"},
				PublicProfile: &directoryv1.PublicProfile{WayOfWorking: "Open-ended"},
			}),
			codes.OK, "", "",
			func(t *testing.T, m *directoryv1.Member) {
				if m.GetContact().GetEmail() != "ben.new@riverside.example.org" || m.GetPublicProfile().GetWayOfWorking() != "Open-ended" || m.GetPublicProfile().GetTraining() != "" {
					t.Errorf("updated = %v", m)
				}
				if m.GetDisplayName() != "Member ben" {
					t.Errorf("display name outside the mask changed: %q", m.GetDisplayName())
				}
			},
		},
		{"member renames self", as(member), memberUpdate(ben, "", []string{"display_name"}, &directoryv1.Member{DisplayName: "Benny"}), codes.PermissionDenied, "PERMISSION_DENIED", "", nil},
		{"member promotes self", as(member), memberUpdate(ben, "", []string{"group_admin"}, &directoryv1.Member{GroupAdmin: true}), codes.PermissionDenied, "PERMISSION_DENIED", "", nil},
		{
			"member changes own phone alone, by a nested path in JSON names", as(member),
			memberUpdate(ben, "", []string{"contact.phone"}, &directoryv1.Member{Contact: &directoryv1.ContactDetails{Phone: "+44 7700 900456"}}),
			codes.OK, "", "",
			func(t *testing.T, m *directoryv1.Member) {
				if m.GetContact().GetPhone() != "+44 7700 900456" || m.GetContact().GetEmail() != "ben.new@riverside.example.org" {
					t.Errorf("updated contact = %v; want the new phone beside the e-mail kept", m.GetContact())
				}
			},
		},
		{
			"member without a mask: the fields set change", as(member),
			&directoryv1.UpdateMemberRequest{Member: &directoryv1.Member{Name: ben, PublicProfile: &directoryv1.PublicProfile{Training: "Person-centred"}}},
			codes.OK, "", "",
			func(t *testing.T, m *directoryv1.Member) {
				if p := m.GetPublicProfile(); p.GetTraining() != "Person-centred" || p.GetWayOfWorking() != "Open-ended" {
					t.Errorf("updated profile = %v; want the training set beside the way of working kept", p)
				}
			},
		},
		{
			"member with a JSON-named mask", as(member),
			memberUpdate(ben, "", []string{"publicProfile.wayOfWorking"}, &directoryv1.Member{PublicProfile: &directoryv1.PublicProfile{WayOfWorking: "Short-term"}}),
			codes.OK, "", "",
			func(t *testing.T, m *directoryv1.Member) {
				if p := m.GetPublicProfile(); p.GetWayOfWorking() != "Short-term" || p.GetTraining() != "Person-centred" {
					t.Errorf("updated profile = %v", p)
				}
			},
		},
		{"member without a mask, sending a display name", as(member), memberUpdate(ben, "", nil, &directoryv1.Member{DisplayName: "Member ben", Contact: &directoryv1.ContactDetails{Email: "ben@riverside.example.org"}}), codes.PermissionDenied, "PERMISSION_DENIED", "", nil},
		{"member changes another member", as(member), memberUpdate(cai, "", []string{"contact"}, &directoryv1.Member{Contact: &directoryv1.ContactDetails{Email: "x@example.org"}}), codes.PermissionDenied, "PERMISSION_DENIED", "", nil},
		{"other group's admin", as(otherAdmin), memberUpdate(cai, "", []string{"display_name"}, &directoryv1.Member{DisplayName: "Hijacked"}), codes.PermissionDenied, "PERMISSION_DENIED", "", nil},
		{"anonymous", as(""), memberUpdate(cai, "", []string{"display_name"}, &directoryv1.Member{DisplayName: "Anon"}), codes.Unauthenticated, "UNAUTHENTICATED", "", nil},
		{"unknown path", as(admin), memberUpdate(cai, "", []string{"nickname"}, nil), codes.InvalidArgument, "INVALID_FIELDS", "update_mask", nil},
		{"unknown nested path", as(admin), memberUpdate(cai, "", []string{"contact.fax"}, nil), codes.InvalidArgument, "INVALID_FIELDS", "update_mask", nil},
		{"bad e-mail", as(admin), memberUpdate(cai, "", []string{"contact"}, &directoryv1.Member{Contact: &directoryv1.ContactDetails{Email: "not an address"}}), codes.InvalidArgument, "INVALID_FIELDS", "member.contact.email", nil},
		{"e-mail removed", as(admin), memberUpdate(cai, "", []string{"contact"}, &directoryv1.Member{}), codes.InvalidArgument, "INVALID_FIELDS", "member.contact.email", nil},
		{"bad phone", as(member), memberUpdate(ben, "", []string{"contact"}, &directoryv1.Member{Contact: &directoryv1.ContactDetails{Email: "ben@riverside.example.org", Phone: "call me"}}), codes.InvalidArgument, "INVALID_FIELDS", "member.contact.phone", nil},
		{"display name too long", as(admin), memberUpdate(cai, "", []string{"display_name"}, &directoryv1.Member{DisplayName: strings.Repeat("x", 201)}), codes.InvalidArgument, "INVALID_FIELDS", "member.display_name", nil},
		{"unknown member", as(admin), memberUpdate("groups/riverside/members/nobody", "", []string{"display_name"}, nil), codes.NotFound, "MEMBER_NOT_FOUND", "", nil},
		{"unknown group", as(operatorToken), memberUpdate("groups/nowhere/members/ada", "", []string{"display_name"}, nil), codes.NotFound, "MEMBER_NOT_FOUND", "", nil},
		{"bad name", as(admin), memberUpdate("riverside/ada", "", []string{"display_name"}, nil), codes.InvalidArgument, "INVALID_FIELDS", "member.name", nil},
		{"missing member", as(admin), &directoryv1.UpdateMemberRequest{}, codes.InvalidArgument, "INVALID_FIELDS", "member", nil},
		{
			"operator demotes one of two admins", as(operatorToken),
			memberUpdate(cai, "", []string{"group_admin"}, &directoryv1.Member{GroupAdmin: false}),
			codes.OK, "", "",
			func(t *testing.T, m *directoryv1.Member) {
				if m.GetGroupAdmin() {
					t.Errorf("still admin: %v", m)
				}
			},
		},
		{"last admin cannot step down", as(admin), memberUpdate(ada, "", []string{"group_admin"}, &directoryv1.Member{GroupAdmin: false}), codes.FailedPrecondition, "LAST_ADMIN", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := e.client.UpdateMember(tc.ctx, tc.req)
			if tc.code != codes.OK {
				testenv.WantStatus(t, err, tc.code, tc.reason, fieldsOf(tc.field)...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}

	t.Run("changes are stored", func(t *testing.T) {
		m, err := e.client.GetMember(as(admin), &directoryv1.GetMemberRequest{Name: ben})
		if err != nil {
			t.Fatal(err)
		}
		if m.GetContact().GetPhone() != "+44 7700 900456" || m.GetDisplayName() != "Member ben" || m.GetGroupAdmin() {
			t.Errorf("stored = %v", m)
		}
	})
}

func TestDeactivateMember(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside")
	otherAdmin, _ := e.seed(t, "hillside")
	caiToken := e.issue(t, "riverside", "cai")
	cai := "groups/riverside/members/cai"

	current, err := e.client.GetMember(as(admin), &directoryv1.GetMemberRequest{Name: cai})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ctx    context.Context
		req    *directoryv1.DeactivateMemberRequest
		code   codes.Code
		reason string
	}{
		{"plain member may not", as(member), &directoryv1.DeactivateMemberRequest{Name: cai}, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"other group's admin may not", as(otherAdmin), &directoryv1.DeactivateMemberRequest{Name: cai}, codes.PermissionDenied, "PERMISSION_DENIED"},
		{"anonymous", as(""), &directoryv1.DeactivateMemberRequest{Name: cai}, codes.Unauthenticated, "UNAUTHENTICATED"},
		{"unknown member", as(admin), &directoryv1.DeactivateMemberRequest{Name: "groups/riverside/members/nobody"}, codes.NotFound, "MEMBER_NOT_FOUND"},
		{"stale etag", as(admin), &directoryv1.DeactivateMemberRequest{Name: cai, Etag: `W/"99"`}, codes.Aborted, "ETAG_MISMATCH"},
		{"admin deactivates", as(admin), &directoryv1.DeactivateMemberRequest{Name: cai, Etag: current.GetEtag()}, codes.OK, ""},
		{"already inactive", as(admin), &directoryv1.DeactivateMemberRequest{Name: cai}, codes.FailedPrecondition, "MEMBER_INACTIVE"},
		{"last admin", as(operatorToken), &directoryv1.DeactivateMemberRequest{Name: "groups/riverside/members/ada"}, codes.FailedPrecondition, "LAST_ADMIN"},
		{"bad name", as(admin), &directoryv1.DeactivateMemberRequest{Name: "cai"}, codes.InvalidArgument, "INVALID_FIELDS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := e.client.DeactivateMember(tc.ctx, tc.req)
			if tc.code != codes.OK {
				testenv.WantStatus(t, err, tc.code, tc.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.GetState() != directoryv1.Member_STATE_INACTIVE || m.GetLeaveTime() == nil || m.GetEtag() == current.GetEtag() {
				t.Errorf("deactivated = %v", m)
			}
		})
	}

	t.Run("history stays and the member cannot act", func(t *testing.T) {
		m, err := e.client.GetMember(as(""), &directoryv1.GetMemberRequest{Name: cai})
		if err != nil || m.GetState() != directoryv1.Member_STATE_INACTIVE || m.GetJoinTime() == nil {
			t.Fatalf("GetMember after leaving = %v, %v", m, err)
		}
		active, err := e.client.ListMembers(as(""), &directoryv1.ListMembersRequest{Parent: "groups/riverside", ActiveOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range active.GetMembers() {
			if m.GetName() == cai {
				t.Error("an inactive member is listed as active")
			}
		}
		_, err = e.client.Authenticate(asService(), &directoryv1.AuthenticateRequest{Secret: caiToken})
		testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
		_, err = e.client.CreateAccessToken(as(admin), &directoryv1.CreateAccessTokenRequest{Parent: cai})
		testenv.WantStatus(t, err, codes.FailedPrecondition, "MEMBER_INACTIVE")
	})
}

func TestDeleteLinkGroup(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside")
	otherAdmin, _ := e.seed(t, "hillside")
	link := func(id string) *directoryv1.CreateLinkGroupRequest {
		return &directoryv1.CreateLinkGroupRequest{Parent: "groups/riverside", LinkGroupId: id, LinkGroup: &directoryv1.LinkGroup{
			DisplayName: "Link " + id,
			Target:      &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: id + "@example.org"}},
		}}
	}
	for _, id := range []string{"estuary", "valley"} {
		if _, err := e.client.CreateLinkGroup(as(admin), link(id)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		ctx    context.Context
		target string
		code   codes.Code
		reason string
	}{
		{"plain member may not", as(member), "groups/riverside/linkGroups/estuary", codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"other group's admin may not", as(otherAdmin), "groups/riverside/linkGroups/estuary", codes.PermissionDenied, "PERMISSION_DENIED"},
		{"anonymous", as(""), "groups/riverside/linkGroups/estuary", codes.Unauthenticated, "UNAUTHENTICATED"},
		{"admin deletes", as(admin), "groups/riverside/linkGroups/estuary", codes.OK, ""},
		{"already deleted", as(admin), "groups/riverside/linkGroups/estuary", codes.NotFound, "LINK_GROUP_NOT_FOUND"},
		{"unknown group", as(operatorToken), "groups/nowhere/linkGroups/estuary", codes.NotFound, "GROUP_NOT_FOUND"},
		{"bad name", as(admin), "groups/riverside/estuary", codes.InvalidArgument, "INVALID_FIELDS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.DeleteLinkGroup(tc.ctx, &directoryv1.DeleteLinkGroupRequest{Name: tc.target})
			if tc.code != codes.OK {
				testenv.WantStatus(t, err, tc.code, tc.reason)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("a removed link can be replaced", func(t *testing.T) {
		list, err := e.client.ListLinkGroups(as(""), &directoryv1.ListLinkGroupsRequest{Parent: "groups/riverside"})
		if err != nil || len(list.GetLinkGroups()) != 1 || list.GetLinkGroups()[0].GetName() != "groups/riverside/linkGroups/valley" {
			t.Fatalf("ListLinkGroups = %v, %v", list, err)
		}
		if _, err := e.client.CreateLinkGroup(as(admin), link("moorland")); err != nil {
			t.Fatal(err)
		}
	})
}

// TestLastAdminUnderConcurrency has two admins deactivate each other at the
// same moment, many times over: exactly one may succeed each time.
func TestLastAdminUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := start(t)
	op := as(operatorToken)
	for round := range 5 {
		group := fmt.Sprintf("race-%d", round)
		adminA, _ := e.seed(t, group)
		if _, err := e.client.UpdateMember(op, memberUpdate("groups/"+group+"/members/cai", "", []string{"group_admin"}, &directoryv1.Member{GroupAdmin: true})); err != nil {
			t.Fatal(err)
		}
		adminC := e.issue(t, group, "cai")
		errs := make(chan error, 2)
		for _, pair := range [][2]string{{adminA, "cai"}, {adminC, "ada"}} {
			go func() {
				_, err := e.client.DeactivateMember(as(pair[0]), &directoryv1.DeactivateMemberRequest{Name: "groups/" + group + "/members/" + pair[1]})
				errs <- err
			}()
		}
		var ok, refused int
		for range 2 {
			switch err := <-errs; status.Code(err) {
			case codes.OK:
				ok++
			case codes.FailedPrecondition, codes.Unauthenticated: // LAST_ADMIN, or the caller was deactivated first
				refused++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d deactivations succeeded; want exactly 1", round, ok)
		}
		active, err := e.client.ListMembers(op, &directoryv1.ListMembersRequest{Parent: "groups/" + group, ActiveOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		admins := 0
		for _, m := range active.GetMembers() {
			if m.GetGroupAdmin() {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("round %d: %d active admins left", round, admins)
		}
	}
}
