package app_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/app"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// directorySecret is the directory's service credential in these tests; the
// stand-in casework accepts nothing else.
const directorySecret = "directory-secret-for-tests"

// knownProcedures are the versions the stand-in casework of start knows.
var knownProcedures = []string{"procedures/ipn-disputes-v1", "procedures/gentle-v2"}

// standInCasework answers ListProcedures as casework does, for the
// directory's service credential only, so that a directory that forgot to
// present it fails these tests.
type standInCasework struct {
	caseworkv1.UnimplementedCaseworkServiceServer
	versions []string
}

func (c standInCasework) ListProcedures(ctx context.Context, _ *caseworkv1.ListProceduresRequest) (*caseworkv1.ListProceduresResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+auth.ServiceToken("directory", directorySecret) {
		return nil, status.Error(codes.Unauthenticated, "not the directory's service credential")
	}
	resp := &caseworkv1.ListProceduresResponse{DefaultProcedure: c.versions[0]}
	for _, v := range c.versions {
		resp.Procedures = append(resp.Procedures, &procedurev1.Procedure{Name: v})
	}
	return resp, nil
}

// serveCasework runs a stand-in casework that knows versions and returns its
// address.
func serveCasework(t *testing.T, versions ...string) string {
	t.Helper()
	return testenv.ServeGRPC(t, func(s *grpc.Server) {
		caseworkv1.RegisterCaseworkServiceServer(s, standInCasework{versions: versions})
	})
}

// TestProcedureMustBeKnown: the directory refuses a group's choice of a
// procedure version casework does not know, naming the ones it does, so
// that no concern of the group is stranded when casework cannot follow it.
func TestProcedureMustBeKnown(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, _ := e.seed(t, "riverside")
	op := as(operatorToken)
	const group = "groups/riverside"
	procedureOf := func(t *testing.T, name string) (string, bool) {
		t.Helper()
		g, err := e.client.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: name})
		if status.Code(err) == codes.NotFound {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		return g.GetProcedureSettings().GetProcedure(), true
	}
	tests := []struct {
		name string
		call func() error
		ok   bool
		// group and want are the group to read back and the procedure it
		// must then have.
		group, want string
	}{
		{"create with a known version", func() error {
			_, err := e.client.CreateGroup(op, &directoryv1.CreateGroupRequest{GroupId: "moorland", Group: &directoryv1.Group{
				DisplayName: "Moorland", ProcedureSettings: &directoryv1.ProcedureSettings{Procedure: "procedures/gentle-v2"}}})
			return err
		}, true, "groups/moorland", "procedures/gentle-v2"},
		{"create with an unknown version", func() error {
			_, err := e.client.CreateGroup(op, &directoryv1.CreateGroupRequest{GroupId: "fenland", Group: &directoryv1.Group{
				DisplayName: "Fenland", ProcedureSettings: &directoryv1.ProcedureSettings{Procedure: "procedures/ipn-disputes-v9"}}})
			return err
		}, false, "groups/fenland", ""},
		{"update to a known version", func() error {
			_, err := e.client.UpdateGroup(as(admin), &directoryv1.UpdateGroupRequest{
				Group:      &directoryv1.Group{Name: group, ProcedureSettings: &directoryv1.ProcedureSettings{Procedure: "procedures/ipn-disputes-v1"}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"procedure_settings"}}})
			return err
		}, true, group, "procedures/ipn-disputes-v1"},
		{"update to an unknown version", func() error {
			_, err := e.client.UpdateGroup(as(admin), &directoryv1.UpdateGroupRequest{
				Group:      &directoryv1.Group{Name: group, ProcedureSettings: &directoryv1.ProcedureSettings{Procedure: "procedures/ipn-disputes-v9"}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"procedure_settings"}}})
			return err
		}, false, group, "procedures/ipn-disputes-v1"},
		{"the operator's update to an unknown version", func() error {
			_, err := e.client.UpdateGroup(op, &directoryv1.UpdateGroupRequest{
				Group: &directoryv1.Group{Name: group, DisplayName: "Riverside", ProcedureSettings: &directoryv1.ProcedureSettings{Procedure: "procedures/gentle-v3"}}})
			return err
		}, false, group, "procedures/ipn-disputes-v1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				st := testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "group.procedure_settings.procedure")
				if msg := violation(st, "group.procedure_settings.procedure"); !strings.Contains(msg, "procedures/ipn-disputes-v1, procedures/gentle-v2") {
					t.Errorf("refusal says %q, want it to name the versions casework knows", msg)
				}
			}
			got, found := procedureOf(t, tc.group)
			if tc.want == "" && !tc.ok {
				if found {
					t.Errorf("%s was created with procedure %q", tc.group, got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("%s has procedure %q, want %q", tc.group, got, tc.want)
			}
		})
	}
}

// violation returns the description of the field violation on field.
func violation(st *status.Status, field string) string {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return v.GetDescription()
				}
			}
		}
	}
	return ""
}

// TestProcedureCheckWithCaseworkDown: while casework cannot be reached, a
// new choice of procedure is refused with UNAVAILABLE rather than accepted
// unchecked; changes that keep the procedure need no casework; and once
// casework is back, the choice goes through.
func TestProcedureCheckWithCaseworkDown(t *testing.T) {
	t.Parallel()
	caseworkAddr := testenv.FreeAddr(t)
	// up runs a stand-in casework at caseworkAddr until stop.
	up := func(t *testing.T) (stop func()) {
		t.Helper()
		lis, err := net.Listen("tcp", caseworkAddr)
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer()
		caseworkv1.RegisterCaseworkServiceServer(srv, standInCasework{versions: knownProcedures})
		go func() { _ = srv.Serve(lis) }()
		t.Cleanup(srv.Stop)
		return srv.Stop
	}
	e := startWith(t, func(cfg *app.Config) { cfg.CaseworkAddr = caseworkAddr })
	admin, _ := e.seed(t, "riverside")
	op := as(operatorToken)
	const group = "groups/riverside"
	choose := func(procedure string, weeks int) *directoryv1.UpdateGroupRequest {
		return &directoryv1.UpdateGroupRequest{
			Group:      &directoryv1.Group{Name: group, ProcedureSettings: &directoryv1.ProcedureSettings{Procedure: procedure, OverallTarget: durationpb.New(time.Duration(weeks) * 7 * 24 * time.Hour)}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"procedure_settings"}}}
	}
	stored := func(t *testing.T) *directoryv1.ProcedureSettings {
		t.Helper()
		g, err := e.client.GetGroup(as(""), &directoryv1.GetGroupRequest{Name: group})
		if err != nil {
			t.Fatal(err)
		}
		return g.GetProcedureSettings()
	}

	// The group chooses a version while casework is up, so that what
	// follows keeps a choice that was checked.
	stop := up(t)
	if _, err := e.client.UpdateGroup(as(admin), choose("procedures/ipn-disputes-v1", 8)); err != nil {
		t.Fatal(err)
	}
	stop()

	t.Run("a new choice is UNAVAILABLE", func(t *testing.T) {
		_, err := e.client.UpdateGroup(as(admin), choose("procedures/gentle-v2", 8))
		testenv.WantStatus(t, err, codes.Unavailable, "CASEWORK_UNAVAILABLE")
		_, err = e.client.CreateGroup(op, &directoryv1.CreateGroupRequest{GroupId: "moorland", Group: &directoryv1.Group{
			DisplayName: "Moorland", ProcedureSettings: &directoryv1.ProcedureSettings{Procedure: "procedures/ipn-disputes-v1"}}})
		testenv.WantStatus(t, err, codes.Unavailable, "CASEWORK_UNAVAILABLE")
		if got := stored(t).GetProcedure(); got != "procedures/ipn-disputes-v1" {
			t.Errorf("procedure %q, want it unchanged", got)
		}
	})
	t.Run("what keeps the procedure needs no casework", func(t *testing.T) {
		tests := []struct {
			name string
			req  *directoryv1.UpdateGroupRequest
		}{
			{"another field", &directoryv1.UpdateGroupRequest{
				Group:      &directoryv1.Group{Name: group, MeetingFrequency: "Monthly", ProcedureSettings: &directoryv1.ProcedureSettings{Procedure: "procedures/ipn-disputes-v9"}},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"meeting_frequency"}}}},
			{"the targets, keeping the version", choose("procedures/ipn-disputes-v1", 6)},
			{"back to casework's default", choose("", 6)},
		}
		for _, tc := range tests {
			if _, err := e.client.UpdateGroup(as(admin), tc.req); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		if got := stored(t); got.GetProcedure() != "" || got.GetOverallTarget().AsDuration() != 6*7*24*time.Hour {
			t.Errorf("stored settings %v, want casework's default and six weeks", got)
		}
		if _, err := e.client.CreateGroup(op, &directoryv1.CreateGroupRequest{GroupId: "fenland", Group: &directoryv1.Group{DisplayName: "Fenland"}}); err != nil {
			t.Errorf("create with casework's default: %v", err)
		}
	})
	t.Run("casework back", func(t *testing.T) {
		up(t)
		// The directory's reconnect backoff is bounded (a few seconds), so
		// the choice goes through well within this.
		began := time.Now()
		testenv.Eventually(t, 15*time.Second, "the choice to go through once casework is back", func() bool {
			_, err := e.client.UpdateGroup(as(admin), choose("procedures/gentle-v2", 6))
			return err == nil
		})
		t.Logf("casework back: a choice went through after %v", time.Since(began).Round(time.Millisecond))
		if got := stored(t).GetProcedure(); got != "procedures/gentle-v2" {
			t.Errorf("procedure %q after casework is back", got)
		}
	})
}
