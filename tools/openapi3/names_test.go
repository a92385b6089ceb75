package main

import (
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestWithinPackage(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"ipn.disputes.casework.v1.Case":                         "Case",
		"ipn.disputes.casework.v1.Case.Outcome":                 "Case.Outcome",
		"ipn.disputes.casework.v1.CaseworkService.TakeStepBody": "CaseworkService.TakeStepBody",
		"google.rpc.Status":                                     "Status",
	}
	for full, want := range tests {
		if got := withinPackage(full); got != want {
			t.Errorf("withinPackage(%s) = %s, want %s", full, got, want)
		}
	}
}

// TestShortenNames: definitions take their names within their package,
// unless two packages' would be the same, and every reference follows.
func TestShortenNames(t *testing.T) {
	t.Parallel()
	in := `{"definitions": {
		"a.v1.Thing": {"properties": {"other": {"$ref": "#/definitions/b.v1.Other"}}},
		"b.v1.Other": {"type": "object"},
		"a.v1.Same": {}, "b.v1.Same": {}
	}, "paths": {"/x": {"get": {"responses": {"200": {"schema": {"$ref": "#/definitions/a.v1.Thing"}}}}}}}`
	out, names, err := shortenNames([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Thing": "a.v1.Thing", "Other": "b.v1.Other", "a.v1.Same": "a.v1.Same", "b.v1.Same": "b.v1.Same"}
	if len(names) != len(want) {
		t.Errorf("names %v, want %v", names, want)
	}
	for short, full := range want {
		if names[short] != full {
			t.Errorf("names[%s] = %q, want %q", short, names[short], full)
		}
	}
	var doc struct {
		Definitions map[string]struct {
			Properties map[string]map[string]string `json:"properties"`
		} `json:"definitions"`
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Schema map[string]string `json:"schema"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(out.raw, &doc); err != nil {
		t.Fatal(err)
	}
	if ref := doc.Definitions["Thing"].Properties["other"]["$ref"]; ref != "#/definitions/Other" {
		t.Errorf("property reference %q", ref)
	}
	if ref := doc.Paths["/x"]["get"].Responses["200"].Schema["$ref"]; ref != "#/definitions/Thing" {
		t.Errorf("response reference %q", ref)
	}
	if _, _, err := shortenNames([]byte(`{"definitions": {}, "x": {"$ref": "#/definitions/missing"}}`)); err == nil {
		t.Error("a reference to no definition was taken")
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	tests := []struct{ description, want string }{
		{"GetCase returns a case. Only its parties may.", "GetCase returns a case"},
		{"ListGroups lists the groups:\nevery one.", "ListGroups lists the groups"},
		{"One sentence", "One sentence"},
		{"", "Svc_Op"},
	}
	for _, tt := range tests {
		if got := summary(tt.description, "Svc_Op"); got != tt.want {
			t.Errorf("summary(%q) = %q, want %q", tt.description, got, tt.want)
		}
	}
}

// TestSingularParams: `deliveries/{deliverie}` becomes
// `deliveries/{delivery}`, in the path and its parameters; other paths stay.
func TestSingularParams(t *testing.T) {
	t.Parallel()
	doc := &openapi3.T{Paths: openapi3.NewPaths()}
	retry := openapi3.NewOperation()
	retry.AddParameter(openapi3.NewPathParameter("group"))
	retry.AddParameter(openapi3.NewPathParameter("deliverie"))
	doc.AddOperation("/v1/groups/{group}/deliveries/{deliverie}:retry", "POST", retry)
	get := openapi3.NewOperation()
	get.AddParameter(openapi3.NewPathParameter("case"))
	doc.AddOperation("/v1/cases/{case}", "GET", get)
	singularParams(doc)
	if doc.Paths.Value("/v1/groups/{group}/deliveries/{delivery}:retry") == nil || doc.Paths.Value("/v1/cases/{case}") == nil || doc.Paths.Len() != 2 {
		t.Fatalf("paths %v", doc.Paths.InMatchingOrder())
	}
	if name := retry.Parameters[1].Value.Name; name != "delivery" {
		t.Errorf("parameter %q, want delivery", name)
	}
}
