package casefile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/casework/internal/procedure"
	"github.com/ipnmediation/disputes/services/casework/procedures"
)

// The fakes below stand in for the domain's own ports; the real store and
// clients are exercised by the app test against PostgreSQL and gRPC.

type memoryStore struct {
	Store                 // the methods not needed here panic
	cases map[string]Case // by id
}

func (m memoryStore) Get(_ context.Context, group, id string) (Case, error) {
	c, ok := m.cases[id]
	if !ok || c.Group != group {
		return Case{}, ErrNotFound
	}
	return c, nil
}

func (m memoryStore) HasCaseFor(_ context.Context, concern string) (bool, error) {
	for _, c := range m.cases {
		if c.Concern == concern {
			return true, nil
		}
	}
	return false, nil
}

type intakeStub map[string]Concern

func (intakeStub) ReissueAccessCode(context.Context, string) (string, string, error) {
	return "", "", errors.New("not used")
}

func (i intakeStub) Concern(_ context.Context, name string) (Concern, bool, error) {
	c, ok := i[name]
	return c, ok, nil
}

type directoryStub map[string]Terms

func (directoryStub) ActiveMember(context.Context, string) (bool, error) { return true, nil }

func (d directoryStub) Terms(_ context.Context, group string) (Terms, bool, error) {
	t, ok := d[group]
	return t, ok, nil
}

func TestOpenFromConcern(t *testing.T) {
	t.Parallel()
	registered := time.Date(2026, 3, 2, 9, 30, 0, 123456789, time.UTC)
	now := registered.Add(time.Minute)
	concern := func(name, practitioner string) Concern {
		return Concern{Name: name, Practitioner: practitioner, Reference: "K7QM-3XRD", RegisterTime: registered,
			Confidential: Confidential{Description: "what happened", ClientName: "Sam", ClientEmail: "sam@example.org"}}
	}
	const (
		fresh      = "groups/riverside/concerns/00000000-0000-4000-8000-000000000001"
		taken      = "groups/riverside/concerns/00000000-0000-4000-8000-000000000002"
		hillside   = "groups/hillside/concerns/00000000-0000-4000-8000-000000000003"
		westdale   = "groups/westdale/concerns/00000000-0000-4000-8000-000000000004"
		oddgroup   = "groups/oddgroup/concerns/00000000-0000-4000-8000-000000000005"
		elsewhere  = "groups/riverside/concerns/00000000-0000-4000-8000-000000000006"
		nowhere    = "groups/nowhere/concerns/00000000-0000-4000-8000-000000000007"
		unknownOne = "groups/riverside/concerns/00000000-0000-4000-8000-000000000008"
		notUUID    = "groups/riverside/concerns/not-a-uuid"
	)
	svc := &Service{
		Store: memoryStore{cases: map[string]Case{"c1": {ID: "c1", Group: "groups/riverside", Concern: taken}}},
		Intake: intakeStub{
			fresh:     concern(fresh, "groups/riverside/members/alex-moss"),
			hillside:  concern(hillside, "groups/hillside/members/kim-lee"),
			elsewhere: concern(elsewhere, "groups/hillside/members/kim-lee"),
			nowhere:   concern(nowhere, "groups/nowhere/members/x"),
			westdale:  concern(westdale, "groups/westdale/members/y"),
			oddgroup:  concern(oddgroup, "groups/oddgroup/members/z"),
		},
		Directory: directoryStub{
			"groups/riverside": {Statement: "groups/riverside/statements/3"},
			"groups/hillside":  {OverallTarget: 14 * 24 * time.Hour},
			"groups/westdale":  {Procedure: "procedures/second-version"},
			"groups/oddgroup":  {Procedure: "procedures/nobody-knows"},
		},
		Procedures: twoVersions(t),
		Now:        func() time.Time { return now },
	}
	tests := []struct {
		name          string
		reg           Registration
		wantReason    string
		wantNil       bool
		wantDeadline  time.Duration
		wantStatement string
		wantProcedure string
	}{
		{name: "default target and the statement in force", reg: Registration{"groups/riverside", fresh}, wantDeadline: eightWeeks, wantStatement: "groups/riverside/statements/3"},
		{name: "the group's own procedure", reg: Registration{"groups/westdale", westdale}, wantDeadline: eightWeeks, wantProcedure: "procedures/second-version"},
		{name: "a procedure casework does not know", reg: Registration{"groups/oddgroup", oddgroup}, wantReason: "EVENT_PROCEDURE_UNKNOWN"},
		{name: "group's own target, no statement", reg: Registration{"groups/hillside", hillside}, wantDeadline: 14 * 24 * time.Hour},
		{name: "concern already has a case", reg: Registration{"groups/riverside", taken}, wantNil: true},
		{name: "concern of another group than the event's", reg: Registration{"groups/riverside", hillside}, wantReason: "EVENT_MALFORMED"},
		{name: "not a concern name", reg: Registration{"groups/riverside", "groups/riverside/cases/x"}, wantReason: "EVENT_MALFORMED"},
		{name: "a concern id that is not a UUID", reg: Registration{"groups/riverside", notUUID}, wantReason: "EVENT_MALFORMED"},
		{name: "concern intake does not know", reg: Registration{"groups/riverside", unknownOne}, wantReason: "EVENT_CONCERN_UNKNOWN"},
		{name: "practitioner of another group", reg: Registration{"groups/riverside", elsewhere}, wantReason: "EVENT_CONCERN_INCONSISTENT"},
		{name: "group the directory does not know", reg: Registration{"groups/nowhere", nowhere}, wantReason: "EVENT_GROUP_UNKNOWN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, err := svc.OpenFromConcern(context.Background(), tt.reg)
			if tt.wantReason != "" {
				fe, ok := fault.As(err)
				if !ok || fe.Kind != fault.InvalidArgument || fe.Reason != tt.wantReason {
					t.Fatalf("error = %v; want InvalidArgument %s", err, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantNil {
				if o != nil {
					t.Errorf("opened a second case: %+v", o.Case)
				}
				return
			}
			want := dbTime(registered)
			c := o.Case
			if c.Name() != strings.Replace(tt.reg.Concern, "/concerns/", "/cases/", 1) || c.Group != tt.reg.Group || c.Concern != tt.reg.Concern ||
				c.Phase != Registered || c.Version != 1 || c.Reference != "K7QM-3XRD" ||
				!strings.HasPrefix(c.Therapist, tt.reg.Group+"/members/") {
				t.Errorf("case = %+v", c)
			}
			if !c.RegisterTime.Equal(want) || !c.Deadline.Equal(want.Add(tt.wantDeadline)) || !c.CreateTime.Equal(dbTime(now)) {
				t.Errorf("times: registered %v deadline %v created %v", c.RegisterTime, c.Deadline, c.CreateTime)
			}
			if want := cmp.Or(tt.wantProcedure, procedures.Default); c.Procedure != want {
				t.Errorf("procedure = %q, want %q", c.Procedure, want)
			}
			if c.Statement != tt.wantStatement {
				t.Errorf("statement = %q, want %q", c.Statement, tt.wantStatement)
			}
			if o.Confidential.Description != "what happened" || o.Confidential.ClientEmail != "sam@example.org" {
				t.Errorf("confidential part not taken over: %+v", o.Confidential)
			}
		})
	}
}

func TestGetAccess(t *testing.T) {
	t.Parallel()
	id := uuid.NewString()
	name := "groups/riverside/cases/" + id
	registered := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	now := registered.Add(24 * time.Hour)
	// A concern registered whose case casework has not opened yet.
	openingID := uuid.NewString()
	opening := "groups/riverside/cases/" + openingID
	svc := &Service{
		Store: memoryStore{cases: map[string]Case{id: {ID: id, Group: "groups/riverside", Phase: Registered,
			RegisterTime: registered, Deadline: registered.Add(eightWeeks), Version: 1, Procedure: procedures.Default}}},
		Intake:     intakeStub{"groups/riverside/concerns/" + openingID: {Name: "groups/riverside/concerns/" + openingID}},
		Procedures: testCatalogue(t),
		Now:        func() time.Time { return now },
	}
	tests := []struct {
		name     string
		caller   auth.Principal
		caseName string
		wantKind fault.Kind
		wantOK   bool
		// wantReason is the ErrorInfo reason of a refusal, when it matters.
		wantReason string
	}{
		{"member of the group", auth.Principal{Kind: auth.Member, Member: "groups/riverside/members/a", Group: "groups/riverside"}, name, 0, true, ""},
		{"operator", auth.Principal{Kind: auth.Operator}, name, 0, true, ""},
		{"member of another group", auth.Principal{Kind: auth.Member, Member: "groups/hillside/members/b", Group: "groups/hillside"}, name, fault.NotFound, false, "CASE_NOT_FOUND"},
		{"anonymous", auth.Principal{}, name, fault.Unauthenticated, false, ""},
		{"another service", auth.Principal{Kind: auth.Service, Service: "intake"}, name, fault.PermissionDenied, false, ""},
		{"the notifier", auth.Principal{Kind: auth.Service, Service: "notification"}, name, 0, true, ""},
		{"member, unknown case", auth.Principal{Kind: auth.Member, Group: "groups/riverside"}, "groups/riverside/cases/" + uuid.NewString(), fault.NotFound, false, "CASE_NOT_FOUND"},
		{"member, a case being opened", auth.Principal{Kind: auth.Member, Group: "groups/riverside"}, opening, fault.NotFound, false, "CASE_OPENING"},
		{"its client, the case being opened", auth.Principal{Kind: auth.Client, Group: "groups/riverside", Concern: "groups/riverside/concerns/" + openingID}, opening, fault.NotFound, false, "CASE_OPENING"},
		{"another client, a case being opened", auth.Principal{Kind: auth.Client, Group: "groups/riverside", Concern: "groups/riverside/concerns/" + uuid.NewString()}, opening, fault.NotFound, false, "CASE_NOT_FOUND"},
		{"member of another group, a case being opened", auth.Principal{Kind: auth.Member, Group: "groups/hillside"}, opening, fault.NotFound, false, "CASE_NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := svc.Get(auth.WithPrincipal(context.Background(), tt.caller), tt.caseName)
			if tt.wantOK {
				if err != nil {
					t.Fatal(err)
				}
				if v.Case.Name() != name || v.Clock.Elapsed != 24*time.Hour || v.Clock.Overdue {
					t.Errorf("view = %+v", v)
				}
				return
			}
			if !fault.IsKind(err, tt.wantKind) {
				t.Errorf("error = %v; want kind %v", err, tt.wantKind)
			}
			if fe, _ := fault.As(err); tt.wantReason != "" && fe.Reason != tt.wantReason {
				t.Errorf("error = %v; want reason %s", err, tt.wantReason)
			}
		})
	}
}

func TestEtagFollowsVersion(t *testing.T) {
	t.Parallel()
	c := Case{ID: uuid.NewString(), Version: 1}
	next := c
	next.Version = 2
	other := Case{ID: uuid.NewString(), Version: 1}
	if c.Etag() == next.Etag() || c.Etag() == other.Etag() || c.Etag() != c.Etag() {
		t.Errorf("etags %s %s %s", c.Etag(), next.Etag(), other.Etag())
	}
}

func testCatalogue(t *testing.T) *procedure.Catalogue {
	t.Helper()
	c, err := procedure.Load(procedures.FS, procedures.Default)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// twoVersions is the shipped procedure plus a second version under another
// name, as a group that chose a different version would need.
func twoVersions(t *testing.T) *procedure.Catalogue {
	t.Helper()
	v1, err := fs.ReadFile(procedures.FS, "ipn-disputes-v1.txtpb")
	if err != nil {
		t.Fatal(err)
	}
	v2 := strings.Replace(string(v1), `name: "procedures/ipn-disputes-v1"`, `name: "procedures/second-version"`, 1)
	c, err := procedure.Load(fstest.MapFS{
		"ipn-disputes-v1.txtpb": {Data: v1},
		"second.txtpb":          {Data: []byte(v2)},
	}, procedures.Default)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// handedOverIntake answers every concern as handed over already, as intake
// does once casework has opened its case.
type handedOverIntake struct{ intakeStub }

func (handedOverIntake) Concern(context.Context, string) (Concern, bool, error) {
	return Concern{}, false, fmt.Errorf("intake GetConcern: %w", ErrConcernHandedOver)
}

// TestGetWhileCaseOpens reads a case that was not there when casework
// looked and whose concern intake has handed over by the time it is asked:
// the case opened in between, so the member is told it is opening (and
// reads it on the next try), not refused with intake's answer.
func TestGetWhileCaseOpens(t *testing.T) {
	t.Parallel()
	svc := &Service{
		Store:      memoryStore{cases: map[string]Case{}},
		Intake:     handedOverIntake{},
		Procedures: testCatalogue(t),
		Now:        time.Now,
	}
	member := auth.Principal{Kind: auth.Member, Member: "groups/riverside/members/a", Group: "groups/riverside"}
	_, err := svc.Get(auth.WithPrincipal(context.Background(), member), "groups/riverside/cases/"+uuid.NewString())
	if fe, ok := fault.As(err); !ok || fe.Kind != fault.NotFound || fe.Reason != "CASE_OPENING" {
		t.Errorf("error = %v; want NotFound CASE_OPENING", err)
	}
}
