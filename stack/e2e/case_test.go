package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
)

// openedCase waits until casework has opened the case named in the
// concern's answer, reading it as the holder of token, and returns its name.
// Until it is opened, reading it must answer 404 CASE_OPENING (a case takes
// its concern's id, so it is named before it exists); any other answer fails
// the test.
func (s *system) openedCase(t *testing.T, token, caseName string) string {
	t.Helper()
	if caseName == "" {
		t.Fatal("the concern's answer names no case")
	}
	testenv.Eventually(t, 30*time.Second, "the case to open", func() bool {
		var reply struct {
			Name    string         `json:"name"`
			Details []statusDetail `json:"details"`
		}
		code := s.call(t, http.MethodGet, "/v1/"+caseName, token, nil, &reply)
		switch {
		case code == http.StatusOK && reply.Name == caseName:
			return true
		case code == http.StatusNotFound && slices.ContainsFunc(reply.Details, hasReason("CASE_OPENING")):
			return false
		}
		t.Fatalf("reading %s before it opened: HTTP %d %+v; want 200 or 404 CASE_OPENING", caseName, code, reply)
		return false
	})
	return caseName
}

// statusDetail is one of the details of a google.rpc.Status answer; of an
// ErrorInfo, the reason.
type statusDetail struct {
	Reason string `json:"reason"`
}

// hasReason returns a test for the detail whose reason is reason.
func hasReason(reason string) func(statusDetail) bool {
	return func(d statusDetail) bool { return d.Reason == reason }
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
