package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/operator/demo"
)

// TestPartialUpdatesOverREST: PATCH follows AIP-134 over REST. A group's
// procedure settings and a member's contact details and public profile are
// changed without an update mask (the fields in the body change, nested
// ones alone, and every other field is kept), with a mask in the JSON
// names the body uses, with one in proto names, and with a path that names
// no field (400, a violation on updateMask naming the path, nothing
// changed); each is checked by reading the resource back.
func TestPartialUpdatesOverREST(t *testing.T) {
	s := startSystem(t)
	admin := s.Token(spcID)
	self := s.Token(otherID) // a member changing their own record
	group := "/v1/groups/" + demo.GroupID
	fran := group + "/members/" + otherID

	type step struct {
		name  string
		path  string
		token string
		mask  string // the updateMask query parameter; none when empty
		body  map[string]any
		// change makes, from the resource as read before, what it must be
		// after: only what the update changes. Nil for a refusal.
		change func(before map[string]any)
		// badPath is the path a refusal's violation names.
		badPath string
	}
	steps := []step{
		{
			name: "a group's procedure setting, without a mask", path: group, token: admin,
			body: map[string]any{"procedureSettings": map[string]any{"overallTarget": "5443200s"}},
			change: func(g map[string]any) {
				settings(g)["overallTarget"] = "5443200s"
			},
		},
		{
			name: "a group's procedure setting, with a mask in JSON names", path: group, token: admin,
			mask: "procedureSettings.firstResponseTarget",
			body: map[string]any{"displayName": "Not this", "procedureSettings": map[string]any{"firstResponseTarget": "864000s", "overallTarget": "60s"}},
			change: func(g map[string]any) {
				settings(g)["firstResponseTarget"] = "864000s"
			},
		},
		{
			name: "a group's procedure setting, with a mask in proto names", path: group, token: admin,
			mask: "procedure_settings.reminder_offsets",
			body: map[string]any{"procedureSettings": map[string]any{"reminderOffsets": []string{"172800s"}, "overallTarget": "60s"}},
			change: func(g map[string]any) {
				settings(g)["reminderOffsets"] = []any{"172800s"}
			},
		},
		{
			name: "a group, with an unknown path", path: group, token: admin,
			mask: "procedureSettings.nope", body: map[string]any{"procedureSettings": map[string]any{"overallTarget": "60s"}},
			badPath: "procedureSettings.nope",
		},
		{
			name: "a member's own phone, without a mask", path: fran, token: self,
			body: map[string]any{"contact": map[string]any{"phone": "+44 7700 900111"}},
			change: func(m map[string]any) {
				part(m, "contact")["phone"] = "+44 7700 900111"
			},
		},
		{
			name: "a member's own public profile, without a mask", path: fran, token: self,
			body: map[string]any{"publicProfile": map[string]any{"training": "Person-centred, 2009"}},
			change: func(m map[string]any) {
				part(m, "publicProfile")["training"] = "Person-centred, 2009"
			},
		},
		{
			name: "a member's own contact and profile, with a mask in JSON names", path: fran, token: self,
			mask: "contact.phone,publicProfile.wayOfWorking",
			body: map[string]any{
				"contact":       map[string]any{"phone": "+44 7700 900222", "email": "not-this@example.org"},
				"publicProfile": map[string]any{"wayOfWorking": "Open-ended", "training": "not this"},
			},
			change: func(m map[string]any) {
				part(m, "contact")["phone"] = "+44 7700 900222"
				part(m, "publicProfile")["wayOfWorking"] = "Open-ended"
			},
		},
		{
			name: "a member's public profile, with a mask in proto names", path: fran, token: admin,
			mask: "public_profile.experience",
			body: map[string]any{"publicProfile": map[string]any{"experience": "Fifteen years", "training": "not this"}, "displayName": "Not this"},
			change: func(m map[string]any) {
				part(m, "publicProfile")["experience"] = "Fifteen years"
			},
		},
		{
			name: "a member's whole contact, by the field's own name", path: fran, token: self,
			mask: "contact", body: map[string]any{"contact": map[string]any{"email": "fran.new@riverside.example.org"}},
			change: func(m map[string]any) {
				m["contact"] = map[string]any{"email": "fran.new@riverside.example.org", "phone": ""}
			},
		},
		{
			name: "a member, with an unknown path", path: fran, token: self,
			mask: "contact.fax", body: map[string]any{"contact": map[string]any{"phone": "+44 7700 900333"}},
			badPath: "contact.fax",
		},
	}
	for _, st := range steps { // in order: each reads what the last left
		t.Run(st.name, func(t *testing.T) {
			before := s.readResource(t, st.path, st.token)
			target := st.path
			if st.mask != "" {
				target += "?updateMask=" + url.QueryEscape(st.mask)
			}
			var answer struct {
				Details []struct {
					Type            string `json:"@type"`
					FieldViolations []struct {
						Field       string `json:"field"`
						Description string `json:"description"`
					} `json:"fieldViolations"`
				} `json:"details"`
			}
			code := s.call(t, http.MethodPatch, target, st.token, st.body, &answer)
			after := s.readResource(t, st.path, st.token)
			if st.change == nil {
				named := false
				for _, d := range answer.Details {
					for _, v := range d.FieldViolations {
						named = named || v.Field == "updateMask" && strings.Contains(v.Description, `"`+st.badPath+`"`)
					}
				}
				if code != http.StatusBadRequest || !named {
					t.Errorf("PATCH %s: HTTP %d %+v; want 400 with a violation on updateMask naming %q", target, code, answer, st.badPath)
				}
				if !reflect.DeepEqual(after, before) {
					t.Errorf("a refused update changed %s: %v, was %v", st.path, after, before)
				}
				return
			}
			if code != http.StatusOK {
				t.Fatalf("PATCH %s: HTTP %d %+v", target, code, answer)
			}
			want := before
			st.change(want)
			delete(want, "etag")
			delete(want, "updateTime")
			delete(after, "etag")
			delete(after, "updateTime")
			if !reflect.DeepEqual(after, want) {
				t.Errorf("read back after PATCH %s:\n got %v\nwant %v", target, after, want)
			}
		})
	}
}

// readResource reads a resource over REST as the holder of token, as
// generic JSON.
func (s *system) readResource(t *testing.T, path, token string) map[string]any {
	t.Helper()
	var out map[string]any
	if code := s.call(t, http.MethodGet, path, token, nil, &out); code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", path, code)
	}
	// A fresh copy: the caller changes it.
	b, _ := json.Marshal(out)
	var copied map[string]any
	_ = json.Unmarshal(b, &copied)
	return copied
}

// settings is a group's procedure settings, as generic JSON.
func settings(g map[string]any) map[string]any { return part(g, "procedureSettings") }

// part is the message field key of m, created when absent.
func part(m map[string]any, key string) map[string]any {
	p, ok := m[key].(map[string]any)
	if !ok {
		p = map[string]any{}
		m[key] = p
	}
	return p
}
