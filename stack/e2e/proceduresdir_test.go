package e2e

import (
	"net/http"
	"slices"
	"testing"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/stack/launch/launchtest"
)

// TestAProcedureVersionFromAFolder: a version casework reads from its
// PROCEDURES_DIR (the website's test fixture, launchtest.TestProceduresDir)
// is listed over REST beside the built-in one; the directory refuses a
// version casework does not know and accepts this one in the group's
// procedure settings, since casework's ListProcedures names it; and the
// group's next case follows it, with its own words.
func TestAProcedureVersionFromAFolder(t *testing.T) {
	s := startSystemWith(t, systemOptions{Settings: map[string][]string{
		"casework": {"PROCEDURES_DIR=" + launchtest.TestProceduresDir(t)},
	}})
	admin := s.Token(spcID)

	type procedure struct {
		Name string `json:"name"`
	}
	var list struct {
		Procedures []procedure `json:"procedures"`
	}
	if code := s.call(t, http.MethodGet, "/v1/procedures", admin, nil, &list); code != http.StatusOK {
		t.Fatalf("GET /v1/procedures: HTTP %d", code)
	}
	if !slices.Contains(list.Procedures, procedure{launchtest.ReorderedProcedure}) || len(list.Procedures) != 2 {
		t.Fatalf("procedures listed: %+v; want the built-in version and %s", list.Procedures, launchtest.ReorderedProcedure)
	}

	group := "/v1/groups/" + demo.GroupID + "?updateMask=procedureSettings.procedure"
	choose := func(procedure string) int {
		return s.call(t, http.MethodPatch, group, admin, map[string]any{"procedureSettings": map[string]any{"procedure": procedure}}, nil)
	}
	if code := choose("procedures/ipn-disputes-v9"); code != http.StatusBadRequest {
		t.Errorf("choosing a version casework does not know: HTTP %d; want 400", code)
	}
	if code := choose(launchtest.ReorderedProcedure); code != http.StatusOK {
		t.Fatalf("choosing %s: HTTP %d; want 200", launchtest.ReorderedProcedure, code)
	}

	concern := s.raiseConcern(t, "CANARYPROCDIRE2E")
	caseName := s.openedCase(t, s.Token(otherID), concern.Case)
	type nextStep struct {
		Step  string `json:"step"`
		Title string `json:"title"`
	}
	var c struct {
		Procedure string     `json:"procedure"`
		NextSteps []nextStep `json:"nextSteps"`
	}
	if code := s.call(t, http.MethodGet, "/v1/"+caseName, s.Token(otherID), nil, &c); code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", caseName, code)
	}
	if c.Procedure != launchtest.ReorderedProcedure {
		t.Errorf("the case follows %q; want the group's choice, %q", c.Procedure, launchtest.ReorderedProcedure)
	}
	const renamed = "The practitioner chooses a support person"
	if !slices.Contains(c.NextSteps, nextStep{"nominate_spt", renamed}) {
		t.Errorf("next steps %+v; want nominate_spt titled %q", c.NextSteps, renamed)
	}
}
