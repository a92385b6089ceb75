package fieldmask

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/fault"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestPaths(t *testing.T) {
	t.Parallel()
	member := &directoryv1.Member{
		Name: "groups/g/members/m", Etag: `W/"3"`, DisplayName: "Sam",
		Contact:  &directoryv1.ContactDetails{Email: "sam@example.org"},
		JoinTime: timestamppb.Now(),
	}
	group := &directoryv1.Group{Name: "groups/g", ProcedureSettings: &directoryv1.ProcedureSettings{
		Procedure: "procedures/p", OverallTarget: durationpb.New(3600e9), ReminderOffsets: []*durationpb.Duration{durationpb.New(60e9)},
	}}
	mask := func(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }
	tests := []struct {
		name     string
		resource proto.Message
		mask     *fieldmaskpb.FieldMask
		want     []string
		// bad is the path a violation must name; empty when none.
		bad string
	}{
		{"no mask: the fields set, into messages, without name, etag and output-only fields", member, nil,
			[]string{"display_name", "contact.email"}, ""},
		{"an empty mask is no mask", member, mask(), []string{"display_name", "contact.email"}, ""},
		{"no mask: a message set but empty is named whole", &directoryv1.Member{PublicProfile: &directoryv1.PublicProfile{}}, nil,
			[]string{"public_profile"}, ""},
		{"no mask: repeated fields and well-known types are leaves", group, nil,
			[]string{"procedure_settings.overall_target", "procedure_settings.reminder_offsets", "procedure_settings.procedure"}, ""},
		{"no mask and nothing set: nothing to change", &directoryv1.Member{Name: "groups/g/members/m"}, nil, nil, ""},
		{"JSON names become proto names", group, mask("procedureSettings.procedure", "displayName"),
			[]string{"procedure_settings.procedure", "display_name"}, ""},
		{"proto names stay", group, mask("procedure_settings.procedure", "ipn_status_since_year"),
			[]string{"procedure_settings.procedure", "ipn_status_since_year"}, ""},
		{"a whole message field", member, mask("publicProfile", "contact"), []string{"public_profile", "contact"}, ""},
		{"a field named twice is changed once", member, mask("displayName", "display_name"), []string{"display_name"}, ""},
		{"output-only fields, the name and the etag are left out", member, mask("state", "joinTime", "name", "etag", "groupAdmin"),
			[]string{"group_admin"}, ""},
		{"* is every field a caller may set", member, mask("*"),
			[]string{"display_name", "contact", "public_profile", "group_admin"}, ""},
		{"* beside another path", member, mask("*", "contact"), nil, "*"},
		{"an unknown field", member, mask("contact", "nickname"), nil, "nickname"},
		{"an unknown nested field", member, mask("contact.fax"), nil, "contact.fax"},
		{"past a field that is not a message", member, mask("displayName.first"), nil, "displayName.first"},
		{"into a repeated field", group, mask("procedureSettings.reminderOffsets.seconds"), nil, "procedureSettings.reminderOffsets.seconds"},
		{"into a well-known type", group, mask("procedure_settings.overall_target.seconds"), nil, "procedure_settings.overall_target.seconds"},
		{"an empty segment", member, mask("contact..email"), nil, "contact..email"},
		{"the resource's own name as a prefix", member, mask("member.contact"), nil, "member.contact"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Paths(tc.resource, tc.mask)
			if tc.bad == "" {
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Paths = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			fe, ok := fault.As(err)
			if !ok || fe.Kind != fault.InvalidArgument || len(fe.Violations) != 1 {
				t.Fatalf("Paths = %q, %v; want one violation", got, err)
			}
			if v := fe.Violations[0]; v.Field != "update_mask" || !strings.Contains(v.Description, `"`+tc.bad+`"`) && tc.bad != "*" {
				t.Errorf("violation %+v; want one on update_mask naming %q", v, tc.bad)
			}
		})
	}
}
