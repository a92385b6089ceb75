package directory

import (
	"reflect"
	"testing"

	"github.com/ipnmediation/disputes/platform/fault"
)

func TestApplyMemberUpdate(t *testing.T) {
	t.Parallel()
	current := Member{
		GroupID: "riverside", ID: "ben", DisplayName: "Ben", Email: "ben@example.org", Phone: "+44 1234 567890",
		Profile: PublicProfile{Training: "Gestalt"}, Version: 3,
	}
	in := Member{
		DisplayName: "Benedict", Email: "benedict@example.org", Phone: "",
		Profile: PublicProfile{Training: "Gestalt", Experience: "Ten years"}, GroupAdmin: true,
	}
	tests := []struct {
		name        string
		fields      []string
		byAdmin     bool
		wantKind    fault.Kind
		wantReason  string
		wantChanged []string
		check       func(t *testing.T, got Member)
		// reapply checks that the same update applied again changes nothing.
		reapply bool
	}{
		{
			name: "admin, every field", fields: UpdatableMemberFields, byAdmin: true,
			wantChanged: []string{FieldDisplayName, FieldContact, FieldPublicProfile, FieldGroupAdmin},
			check: func(t *testing.T, got Member) {
				if got.DisplayName != "Benedict" || got.Email != "benedict@example.org" || got.Phone != "" || !got.GroupAdmin || got.Profile.Experience != "Ten years" {
					t.Errorf("got %+v", got)
				}
			},
		},
		{
			name: "no fields change nothing", byAdmin: true,
			check: func(t *testing.T, got Member) {
				if !reflect.DeepEqual(got, current) {
					t.Errorf("got %+v", got)
				}
			},
		},
		{
			name: "admin, a part of the contact details", fields: []string{"contact.email"}, byAdmin: true,
			wantChanged: []string{FieldContact},
			check: func(t *testing.T, got Member) {
				if got.Email != "benedict@example.org" || got.Phone != current.Phone {
					t.Errorf("got %+v; want the new e-mail and the old phone", got)
				}
			},
		},
		{
			name: "member, a part of the public profile", fields: []string{"public_profile.experience"},
			wantChanged: []string{FieldPublicProfile},
			check: func(t *testing.T, got Member) {
				if got.Profile != (PublicProfile{Training: "Gestalt", Experience: "Ten years"}) {
					t.Errorf("got %+v", got.Profile)
				}
			},
		},
		{
			name: "admin, one field", fields: []string{FieldDisplayName}, byAdmin: true,
			wantChanged: []string{FieldDisplayName},
			check: func(t *testing.T, got Member) {
				if got.DisplayName != "Benedict" || got.Email != current.Email || got.GroupAdmin {
					t.Errorf("fields outside the mask changed: %+v", got)
				}
			},
		},
		{
			name: "member, own contact and profile", fields: []string{FieldPublicProfile, FieldContact},
			wantChanged: []string{FieldContact, FieldPublicProfile},
			check: func(t *testing.T, got Member) {
				if got.DisplayName != "Ben" || got.GroupAdmin || got.Email != "benedict@example.org" {
					t.Errorf("got %+v", got)
				}
			},
		},
		{
			name: "the same update again changes nothing", fields: []string{FieldPublicProfile}, byAdmin: true,
			wantChanged: []string{FieldPublicProfile}, reapply: true,
		},
		{name: "member, group_admin", fields: []string{FieldGroupAdmin}, wantKind: fault.PermissionDenied, wantReason: "PERMISSION_DENIED"},
		{name: "member, display_name", fields: []string{FieldContact, FieldDisplayName}, wantKind: fault.PermissionDenied, wantReason: "PERMISSION_DENIED"},
		{name: "unknown path", fields: []string{"state"}, byAdmin: true, wantKind: fault.InvalidArgument, wantReason: "INVALID_FIELDS"},
		{name: "unknown path before permission", fields: []string{"etag", FieldGroupAdmin}, wantKind: fault.InvalidArgument, wantReason: "INVALID_FIELDS"},
		{name: "sub-path is unknown", fields: []string{"contact.fax"}, byAdmin: true, wantKind: fault.InvalidArgument, wantReason: "INVALID_FIELDS"},
		{name: "member, a part of a field not theirs", fields: []string{"contact.email", "group_admin"}, wantKind: fault.PermissionDenied, wantReason: "PERMISSION_DENIED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, changed, err := applyMemberUpdate(current, in, tc.fields, tc.byAdmin)
			if tc.wantReason != "" {
				fe, ok := fault.As(err)
				if !ok || fe.Kind != tc.wantKind || fe.Reason != tc.wantReason {
					t.Fatalf("err = %v; want %v %s", err, tc.wantKind, tc.wantReason)
				}
				if tc.wantKind == fault.InvalidArgument && (len(fe.Violations) == 0 || fe.Violations[0].Field != "update_mask") {
					t.Errorf("violations = %+v; want one on update_mask", fe.Violations)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.reapply {
				again, changedAgain, err := applyMemberUpdate(got, in, tc.fields, tc.byAdmin)
				if err != nil || len(changedAgain) != 0 || !reflect.DeepEqual(again, got) {
					t.Errorf("applying the same update again: changed %v, err %v", changedAgain, err)
				}
			}
			if !reflect.DeepEqual(changed, tc.wantChanged) {
				t.Errorf("changed = %v; want %v", changed, tc.wantChanged)
			}
			if got.ID != "ben" || got.GroupID != "riverside" || got.Version != 3 {
				t.Errorf("identity or version changed: %+v", got)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}
