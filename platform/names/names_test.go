package names

import "testing"

func TestCaseOfConcern(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		concern, want string
		ok            bool
	}{
		{"groups/riverside/concerns/0b9c6f2e-5a3d-4c1e-9f7a-2d8e6b4a1c3f", "groups/riverside/cases/0b9c6f2e-5a3d-4c1e-9f7a-2d8e6b4a1c3f", true},
		{"groups/riverside/cases/x", "", false},
		{"groups//concerns/x", "", false},
		{"groups/riverside/concerns/", "", false},
		{"groups/riverside/concerns/x/y", "", false},
		{"", "", false},
	} {
		got, ok := CaseOfConcern(tc.concern)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CaseOfConcern(%q) = %q, %v; want %q, %v", tc.concern, got, ok, tc.want, tc.ok)
		}
		if !ok {
			continue
		}
		back, ok := ConcernOfCase(got)
		if !ok || back != tc.concern {
			t.Errorf("ConcernOfCase(%q) = %q, %v; want %q", got, back, ok, tc.concern)
		}
	}
	if _, ok := ConcernOfCase("groups/riverside/concerns/x"); ok {
		t.Error("ConcernOfCase accepted a concern's name")
	}
}
