package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCode writes Go files into a new folder and returns it.
func writeCode(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestScanReasons: every way the code gives a reason is found, with the
// fault kind where the code says it; tests and other strings are not.
func TestScanReasons(t *testing.T) {
	t.Parallel()
	dir := writeCode(t, map[string]string{
		"a/a.go": `package a

import "example.org/fault"

const ReasonNamed = "NAMED_CONSTANT"

func f() error { return fault.New(fault.PermissionDenied, "LITERAL_NEW", "no") }
func g() error { return fault.NotFoundf("NOT_FOUNDF", "no %s", "x") }
func h() error { return &fault.Error{Kind: fault.Aborted, Reason: "COMPOSITE", Message: "m"} }
func i() error { return &fault.Error{Kind: fault.NotFound, Reason: ReasonNamed} }
func j() (string, string) {
	reason, message := "ASSIGNED", "m"
	return reason, message
}
func notAllowed(reason, message string) error { return fault.New(fault.PermissionDenied, reason, message) }
func k() error { return notAllowed("VIA_HELPER", "m") }
var config = "NOT_A_REASON"
`,
		"b/b.go": `package b

import "example.org/a/limit"

func l() error { return limit.Exhausted("OTHER_PACKAGE", "m") }
`,
		"a/limit/limit.go": `package limit

import "example.org/fault"

func Exhausted(reason, what string) error {
	return &fault.Error{Kind: fault.ResourceExhausted, Reason: reason, Message: what}
}
`,
		"a/a_test.go": `package a

func t() error { return fault.New(fault.NotFound, "IN_A_TEST", "m") }
`,
	})
	uses, err := scanReasons([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range uses {
		got[u.reason] = u.kind
	}
	want := map[string]string{
		"NAMED_CONSTANT": "NotFound", // the constant's declaration, and its use in i
		"LITERAL_NEW":    "PermissionDenied",
		"NOT_FOUNDF":     "NotFound",
		"COMPOSITE":      "Aborted",
		"ASSIGNED":       "",
		"VIA_HELPER":     "PermissionDenied",
		"OTHER_PACKAGE":  "ResourceExhausted",
	}
	for reason, kind := range want {
		k, ok := got[reason]
		if !ok {
			t.Errorf("reason %s not found", reason)
			continue
		}
		// A reason found more than once keeps the kind of its last use
		// here; NAMED_CONSTANT's declaration has none.
		if k != kind && !(reason == "NAMED_CONSTANT" && k == "") {
			t.Errorf("reason %s: kind %q, want %q", reason, k, kind)
		}
	}
	for _, reason := range []string{"NOT_A_REASON", "IN_A_TEST"} {
		if _, ok := got[reason]; ok {
			t.Errorf("%s was taken for a reason", reason)
		}
	}
}

// TestCheckReasons: the catalogue must list every reason the code gives,
// under the status of the kind the code gives it with, and nothing else.
func TestCheckReasons(t *testing.T) {
	t.Parallel()
	cat := &catalogue{
		Statuses: []statusEntry{
			{Status: 404, Reasons: []reasonEntry{{Reason: "CASE_NOT_FOUND"}}},
			{Status: 403, Reasons: []reasonEntry{{Reason: "ADMIN_ONLY"}}},
			{Status: 500, Reasons: []reasonEntry{{Reason: "UNKNOWN"}}},
		},
		FromCodes:     []string{"UNKNOWN"},
		NotOperations: []string{"EVENT_MALFORMED"},
	}
	tests := []struct {
		name string
		uses []reasonUse
		want string // in the error; "" for none
	}{
		{name: "all listed", uses: []reasonUse{
			{reason: "CASE_NOT_FOUND", kind: "NotFound"},
			{reason: "ADMIN_ONLY"},
			{reason: "EVENT_MALFORMED", kind: "InvalidArgument"},
		}},
		{name: "a reason the catalogue lacks", uses: []reasonUse{
			{reason: "CASE_NOT_FOUND"}, {reason: "ADMIN_ONLY"}, {reason: "EVENT_MALFORMED"},
			{reason: "NEW_REASON", at: "x.go:3"},
		}, want: "x.go:3: reason NEW_REASON is not in the catalogue"},
		{name: "under another status", uses: []reasonUse{
			{reason: "CASE_NOT_FOUND", kind: "PermissionDenied", at: "y.go:1"}, {reason: "ADMIN_ONLY"}, {reason: "EVENT_MALFORMED"},
		}, want: "given with fault.PermissionDenied (HTTP 403)"},
		{name: "a reason no code gives", uses: []reasonUse{
			{reason: "CASE_NOT_FOUND"}, {reason: "EVENT_MALFORMED"},
		}, want: "lists reason ADMIN_ONLY, which no code gives"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkReasons(cat, tt.uses)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestCatalogueMatchesCode runs the check on the repository itself, as
// make generate does, so that `go test` in the tools module says it too.
func TestCatalogueMatchesCode(t *testing.T) {
	t.Parallel()
	cat, err := loadCatalogue("../../proto/ipn/disputes/apidoc/v1/errors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	uses, err := scanReasons([]string{"../../platform", "../../services", "../../gateway"})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkReasons(cat, uses); err != nil {
		t.Error(err)
	}
}
