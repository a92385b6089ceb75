package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/operator/demo"
)

// TestTheLongestConcernOverREST: the longest description the contract
// allows, 20,000 characters of four bytes each (80,000 bytes, 240,000 as
// JSON escapes), goes through the gateway, intake and casework and reads
// back whole; one character more is refused as bad input naming the field.
func TestTheLongestConcernOverREST(t *testing.T) {
	s := startSystem(t)
	longest := strings.Repeat("😀", 19999) + "é"
	form := func(description string) map[string]any {
		return map[string]any{
			"practitioner":  member(therapistID),
			"description":   description,
			"clientName":    "Sam",
			"clientContact": map[string]string{"email": "sam@client.example.net"},
		}
	}
	var tooLong struct {
		Details []struct {
			FieldViolations []struct{ Field string } `json:"fieldViolations"`
		} `json:"details"`
	}
	if code := s.call(t, http.MethodPost, "/v1/groups/"+demo.GroupID+"/concerns", "", form(longest+"a"), &tooLong); code != http.StatusBadRequest ||
		!strings.Contains(strings.Join(fieldsOf(tooLong.Details), " "), "description") {
		t.Errorf("one character more: HTTP %d %+v, want 400 naming the description", code, tooLong)
	}
	var concern concernReply
	if code := s.call(t, http.MethodPost, "/v1/groups/"+demo.GroupID+"/concerns", "", form(longest), &concern); code != http.StatusOK {
		t.Fatalf("the longest description: HTTP %d", code)
	}
	caseName := s.openedCase(t, s.Token(otherID), concern.Case)
	var registered struct {
		Description string `json:"description"`
	}
	if code := s.call(t, http.MethodGet, "/v1/"+caseName+"/registeredConcern", s.Token(otherID), nil, &registered); code != http.StatusOK || registered.Description != longest {
		t.Errorf("the case's registered concern: HTTP %d, %d characters back", code, len([]rune(registered.Description)))
	}
}

func fieldsOf(details []struct {
	FieldViolations []struct{ Field string } `json:"fieldViolations"`
}) []string {
	var out []string
	for _, d := range details {
		for _, v := range d.FieldViolations {
			out = append(out, v.Field)
		}
	}
	return out
}
