package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// TestProcedureSetting follows a group's choice of procedure through
// CreateGroup, UpdateGroup and GetGroup, and the refusal of malformed names.
func TestProcedureSetting(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside")
	op := as(operatorToken)
	settings := func(procedure string) *directoryv1.ProcedureSettings {
		return &directoryv1.ProcedureSettings{Procedure: procedure}
	}
	// stored reads the group back, so each step checks what was kept and
	// not only what the call answered.
	stored := func(t *testing.T, group string) *directoryv1.Group {
		t.Helper()
		g, err := e.client.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: group})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}

	t.Run("CreateGroup", func(t *testing.T) {
		tests := []struct {
			name      string
			id        string
			procedure string
			ok        bool
		}{
			{"a procedure", "moorland", "procedures/ipn-disputes-v1", true},
			{"none: casework's default", "fenland", "", true},
			{"no collection", "badone", "ipn-disputes-v1", false},
			{"upper case", "badtwo", "procedures/IPN-v1", false},
			{"underscore", "badthree", "procedures/ipn_v1", false},
			{"empty id", "badfour", "procedures/", false},
			{"nested", "badfive", "procedures/ipn/v1", false},
			{"starts with a digit", "badsix", "procedures/1st", false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				g, err := e.client.CreateGroup(op, &directoryv1.CreateGroupRequest{GroupId: tc.id, Group: &directoryv1.Group{
					DisplayName: "Group " + tc.id, ProcedureSettings: settings(tc.procedure),
				}})
				if !tc.ok {
					testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "group.procedure_settings.procedure")
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := g.GetProcedureSettings().GetProcedure(); got != tc.procedure {
					t.Errorf("created with procedure %q, want %q", got, tc.procedure)
				}
				if got := stored(t, g.GetName()).GetProcedureSettings().GetProcedure(); got != tc.procedure {
					t.Errorf("stored procedure %q, want %q", got, tc.procedure)
				}
			})
		}
	})

	t.Run("UpdateGroup", func(t *testing.T) {
		const group = "groups/riverside"
		update := func(paths []string, g *directoryv1.Group) *directoryv1.UpdateGroupRequest {
			g.Name = group
			return &directoryv1.UpdateGroupRequest{Group: g, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}
		}
		withTargets := &directoryv1.ProcedureSettings{
			Procedure:     "procedures/gentle-v2",
			OverallTarget: durationpb.New(6 * 7 * 24 * time.Hour),
		}
		tests := []struct {
			name      string
			ctx       context.Context
			req       *directoryv1.UpdateGroupRequest
			code      codes.Code
			want      string        // the procedure afterwards
			wantTotal time.Duration // the overall target afterwards
		}{
			{"the admin chooses a procedure", as(admin), update([]string{"procedure_settings"}, &directoryv1.Group{ProcedureSettings: settings("procedures/ipn-disputes-v1")}),
				codes.OK, "procedures/ipn-disputes-v1", 8 * 7 * 24 * time.Hour},
			{"another field leaves it alone", as(admin), update([]string{"meeting_frequency"}, &directoryv1.Group{MeetingFrequency: "Monthly", ProcedureSettings: settings("procedures/other")}),
				codes.OK, "procedures/ipn-disputes-v1", 8 * 7 * 24 * time.Hour},
			{"with targets, together", as(admin), update([]string{"procedure_settings"}, &directoryv1.Group{ProcedureSettings: withTargets}),
				codes.OK, "procedures/gentle-v2", 6 * 7 * 24 * time.Hour},
			{"a plain member may not", as(member), update([]string{"procedure_settings"}, &directoryv1.Group{ProcedureSettings: settings("procedures/mine")}),
				codes.PermissionDenied, "procedures/gentle-v2", 6 * 7 * 24 * time.Hour},
			{"a malformed name", as(admin), update([]string{"procedure_settings"}, &directoryv1.Group{ProcedureSettings: settings("procedures/Gentle")}),
				codes.InvalidArgument, "procedures/gentle-v2", 6 * 7 * 24 * time.Hour},
			{"the operator clears it", op, update([]string{"procedure_settings"}, &directoryv1.Group{ProcedureSettings: settings("")}),
				codes.OK, "", 8 * 7 * 24 * time.Hour},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				g, err := e.client.UpdateGroup(tc.ctx, tc.req)
				switch tc.code {
				case codes.OK:
					if err != nil {
						t.Fatal(err)
					}
					if got := g.GetProcedureSettings().GetProcedure(); got != tc.want {
						t.Errorf("answered procedure %q, want %q", got, tc.want)
					}
				case codes.InvalidArgument:
					testenv.WantStatus(t, err, tc.code, "INVALID_FIELDS", "group.procedure_settings.procedure")
				default:
					testenv.WantStatus(t, err, tc.code, "CALLER_NOT_ALLOWED")
				}
				got := stored(t, group).GetProcedureSettings()
				if got.GetProcedure() != tc.want || got.GetOverallTarget().AsDuration() != tc.wantTotal {
					t.Errorf("stored settings %v, want procedure %q and overall target %v", got, tc.want, tc.wantTotal)
				}
			})
		}
	})
}

// TestRetentionSetting follows a group's retention through CreateGroup,
// UpdateGroup and GetGroup, with its default and its bounds.
func TestRetentionSetting(t *testing.T) {
	t.Parallel()
	e := start(t)
	op := as(operatorToken)
	const day = 24 * time.Hour
	tests := []struct {
		name      string
		id        string
		retention time.Duration
		want      time.Duration
		ok        bool
	}{
		{"unset: six years", "unsetret", 0, 6 * 365 * day, true},
		{"two years", "tworet", 2 * 365 * day, 2 * 365 * day, true},
		{"too short", "shortret", 7 * day, 0, false},
		{"too long", "longret", 25 * 365 * day, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := e.client.CreateGroup(op, &directoryv1.CreateGroupRequest{GroupId: tc.id, Group: &directoryv1.Group{
				DisplayName: "Group " + tc.id, ProcedureSettings: &directoryv1.ProcedureSettings{Retention: durationpb.New(tc.retention)},
			}})
			if !tc.ok {
				testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "group.procedure_settings.retention")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.client.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: g.GetName()})
			if err != nil {
				t.Fatal(err)
			}
			if r := got.GetProcedureSettings().GetRetention().AsDuration(); r != tc.want {
				t.Errorf("stored retention %v, want %v", r, tc.want)
			}
		})
	}
	// An update of the procedure settings replaces the retention too.
	g, err := e.client.UpdateGroup(op, &directoryv1.UpdateGroupRequest{
		Group:      &directoryv1.Group{Name: "groups/tworet", ProcedureSettings: &directoryv1.ProcedureSettings{Retention: durationpb.New(3 * 365 * day)}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"procedure_settings"}},
	})
	if err != nil || g.GetProcedureSettings().GetRetention().AsDuration() != 3*365*day {
		t.Errorf("update retention: %v %v", g.GetProcedureSettings().GetRetention(), err)
	}
}
