package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
)

// openedCase waits until casework has opened the demo group's only case and
// returns its name, as the member holding token lists it.
func (s *system) openedCase(t *testing.T, token string) string {
	t.Helper()
	var name string
	testenv.Eventually(t, 30*time.Second, "the case to open", func() bool {
		var list struct {
			Cases []apiCase `json:"cases"`
		}
		if code := s.call(t, http.MethodGet, "/v1/groups/"+demo.GroupID+"/cases", token, nil, &list); code == http.StatusOK && len(list.Cases) == 1 {
			name = list.Cases[0].Name
		}
		return name != ""
	})
	return name
}

// takeStep takes a step of the case over REST as the holder of token, with
// the step's input fields, and fails the test unless it succeeds.
func (s *system) takeStep(t *testing.T, caseName, token, step string, input map[string]any) apiCase {
	t.Helper()
	body := map[string]any{"step": step}
	for k, v := range input {
		body[k] = v
	}
	var out stepReply
	if code := s.call(t, http.MethodPost, "/v1/"+caseName+":takeStep", token, body, &out); code != http.StatusOK {
		t.Fatalf("taking %s: HTTP %d", step, code)
	}
	return out.Case
}
