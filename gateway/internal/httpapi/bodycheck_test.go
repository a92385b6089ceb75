package httpapi

import (
	"strings"
	"testing"

	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestCheckBody(t *testing.T) {
	t.Parallel()
	concern := routeOf(t, "ipn.disputes.intake.v1.IntakeService.CreateConcern", "/v1/{parent=groups/*}/concerns")
	takeStep := routeOf(t, "ipn.disputes.casework.v1.CaseworkService.TakeStep", "/v1/{name=groups/*/cases/*}:takeStep")
	session := routeOf(t, "ipn.disputes.intake.v1.IntakeService.CreateClientSession", "/v1/clientSessions")
	tests := []struct {
		name  string
		route *route
		body  string
		// want lists the violations as field: words in the description.
		want          []string
		wantMalformed bool
	}{
		{name: "a valid concern", route: concern,
			body: `{"practitioner": "groups/g/members/m", "description": "Sessions ended early.", "clientName": "Sam", "clientContact": {"email": "sam@example.net"}}`},
		{name: "proto names, nulls and escapes", route: concern,
			body: `{"practitioner": null, "client_name": "S\u00e4m \ud83d\ude00", "client_contact": {"phone": "01234 567890", "email": null}, "client\u005fname": "x"}`},
		{name: "an empty body", route: concern, body: " \r\n"},
		{name: "an unknown field", route: concern, body: `{"description": "a", "bogus": 1}`,
			want: []string{"concern.bogus: is not a field of Concern"}},
		{name: "an unknown nested field", route: concern, body: `{"clientContact": {"email": "a@b.example", "fax": "0123"}}`,
			want: []string{"concern.client_contact.fax: is not a field of ClientContact"}},
		{name: "an unknown field of a list's item", route: takeStep,
			body: `{"step": "propose", "meetingProposal": {"slots": [{"startTime": "2026-03-02T09:30:00Z"}, {"endTime": "2026-03-02T10:30:00Z", "room": 4}]}}`,
			want: []string{"meeting_proposal.slots[1].room: is not a field of TimeSlot"}},
		{name: "the request id in the body", route: concern, body: `{"description": "a", "requestId": "0f8b2c1e-3c1a-4c43-9a3e-2f0c5d1e7a10"}`,
			want: []string{"concern.requestId: send it as the query parameter `requestId`"}},
		{name: "the request id in the body, by its proto name", route: concern, body: `{"request_id": "x"}`,
			want: []string{"concern.request_id: send it as the query parameter `requestId`"}},
		{name: "the honeypot in the body", route: concern, body: `{"website": "x"}`,
			want: []string{"concern.website: send it as the query parameter `website`"}},
		{name: "a path field in the body", route: concern, body: `{"parent": "groups/g"}`,
			want: []string{"concern.parent: parent travels in the URL path"}},
		{name: "the body wrapped in its field's name", route: concern, body: `{"concern": {"description": "a"}}`,
			want: []string{"concern.concern: the request body is the concern itself"}},
		{name: "a path field of a whole-request body is a field", route: takeStep, body: `{"name": "groups/g/cases/c", "step": "s"}`},
		{name: "an unknown field of a whole-request body", route: session, body: `{"reference": "K7QM-3XRD", "accesscode": "x"}`,
			want: []string{"accesscode: is not a field of CreateClientSessionRequest"}},
		{name: "invalid UTF-8", route: concern, body: "{\"clientName\": \"Sam\xff\xfe\", \"description\": \"fine\"}",
			want: []string{"concern.client_name: must be valid UTF-8 text"}},
		{name: "invalid UTF-8 in a list's item", route: takeStep,
			body: "{\"statementAnswer\": {\"constraints\": {\"withheldDetails\": [\"fine\", \"not\xc3\"]}}}",
			want: []string{"statement_answer.constraints.withheld_details[1]: must be valid UTF-8 text"}},
		{name: "half a surrogate pair", route: concern, body: `{"description": "a\ud83d b"}`,
			want: []string{"concern.description: must be valid UTF-8 text"}},
		{name: "a low surrogate alone", route: concern, body: `{"description": "\ude00"}`,
			want: []string{"concern.description: must be valid UTF-8 text"}},
		{name: "invalid UTF-8 in a timestamp", route: takeStep, body: "{\"meetingProposal\": {\"slots\": [{\"startTime\": \"2026\xff\"}]}}",
			want: []string{"meeting_proposal.slots[0].start_time: must be valid UTF-8 text"}},
		{name: "a key that is not a field name is not repeated", route: concern, body: `{"description": "a", "my name is Sam Smith": 1}`,
			want: []string{"concern: has a field whose name is not a field name of Concern"}},
		{name: "a key that is not UTF-8", route: session, body: "{\"ref\xff\": 1}",
			want: []string{"(body): has a field whose name is not a field name of CreateClientSessionRequest"}},
		{name: "several at once, each once", route: concern,
			body: "{\"bogus\": 1, \"bogus\": 2, \"clientName\": \"\xff\", \"clientContact\": {\"email\": \"\xff\", \"x\": [1, {\"y\": \"\xff\"}]}}",
			want: []string{"concern.bogus: is not a field", "concern.client_name: UTF-8", "concern.client_contact.email: UTF-8", "concern.client_contact.x: is not a field"}},
		{name: "a value of the wrong type is left to protojson", route: concern, body: `{"clientContact": "sam@example.net", "description": 5}`},
		{name: "unterminated", route: concern, body: `{"description": "secret words`, wantMalformed: true},
		{name: "two values", route: concern, body: `{"description": "a"} {"bogus": 1}`, wantMalformed: true},
		{name: "a raw control character", route: concern, body: "{\"description\": \"a\x01b\"}", wantMalformed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, malformed := checkBody(tt.route, []byte(tt.body))
			if malformed != tt.wantMalformed {
				t.Errorf("malformed = %v, want %v", malformed, tt.wantMalformed)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("violations %v, want %v", got, tt.want)
			}
			for i, w := range tt.want {
				field, words, _ := strings.Cut(w, ": ")
				if got[i].Field != field || !strings.Contains(got[i].Description, words) {
					t.Errorf("violation %d: %s: %s, want %s", i, got[i].Field, got[i].Description, w)
				}
			}
			for _, v := range got {
				for _, secret := range []string{"Sam", "secret", "0123", "sam@"} {
					if strings.Contains(v.Field+v.Description, secret) {
						t.Errorf("the violation repeats the client's %q: %v", secret, v)
					}
				}
			}
		})
	}
}

// FuzzCheckBody: whatever the body, the walk ends without panicking; it
// never refuses a body protojson accepts, and protojson never refuses a body
// it let through for an unknown field or for invalid text, which protojson
// would report without naming the field.
func FuzzCheckBody(f *testing.F) {
	for _, s := range []string{
		`{"description": "a", "clientContact": {"email": "a@b"}}`,
		`{"bogus": [1, {"x": null}], "clientName": "\ud83d\ude00"}`,
		"{\"clientName\": \"\xff\"}",
		`{"description": "\ud83d"}`,
		`{"description": "\ud83d\u0041"}`,
		`[]`, `"x"`, `null`, `{"clientContact": [{"email": {}}]}`, `{"name": 1e400}`,
	} {
		f.Add(s)
	}
	table, err := newRouteTable(allServices)
	if err != nil {
		f.Fatal(err)
	}
	concern := table.match("POST", "/v1/groups/g/concerns")
	f.Fuzz(func(t *testing.T, body string) {
		violations, malformed := checkBody(concern, []byte(body))
		for _, v := range violations {
			if v.Field == "" || v.Description == "" {
				t.Fatalf("an empty violation: %v", v)
			}
		}
		if len(trimJSONSpace([]byte(body))) == 0 {
			return
		}
		err := protojson.Unmarshal([]byte(body), &intakev1.Concern{})
		switch {
		case (malformed || len(violations) > 0) && err == nil:
			t.Fatalf("refused a body protojson accepts (malformed %v, %v)", malformed, violations)
		case !malformed && len(violations) == 0 && err != nil &&
			(strings.Contains(err.Error(), "unknown field") || strings.Contains(err.Error(), "UTF-8") || strings.Contains(err.Error(), "escape")):
			t.Fatalf("let through a body protojson refuses with %v", err)
		}
	})
}

func TestJSONContentType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON;charset=UTF-8", true},
		{"", false},
		{"text/plain", false},
		{"text/plain;charset=UTF-8", false},
		{"application/x-www-form-urlencoded", false},
		{"multipart/form-data; boundary=x", false},
		{"application/merge-patch+json", false},
		{"application/jsonx", false},
		{"application/json; =", false},
	}
	for _, tt := range tests {
		if got := jsonContentType(tt.header); got != tt.want {
			t.Errorf("jsonContentType(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}
