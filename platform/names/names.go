// Package names holds the rules for resource names that more than one
// service relies on, so that they are written once.
package names

import "strings"

// CaseOfConcern returns the name of the case a concern becomes:
// groups/{group}/concerns/{id} becomes groups/{group}/cases/{id}. Casework
// opens every case under its concern's id, so intake can name the case in
// its first answer, before casework has opened it, and an e-mail about a
// concern can link to its case. ok is false when concern is not a concern's
// name.
func CaseOfConcern(concern string) (name string, ok bool) {
	group, id, ok := splitConcern(concern)
	if !ok {
		return "", false
	}
	return group + "/cases/" + id, true
}

// ConcernOfCase is CaseOfConcern the other way round: the concern a case
// was opened for, for cases opened under their concern's id.
func ConcernOfCase(caseName string) (name string, ok bool) {
	parts := strings.Split(caseName, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[1] == "" || parts[2] != "cases" || parts[3] == "" {
		return "", false
	}
	return "groups/" + parts[1] + "/concerns/" + parts[3], true
}

// splitConcern splits groups/{group}/concerns/{id} into groups/{group} and
// {id}.
func splitConcern(concern string) (group, id string, ok bool) {
	parts := strings.Split(concern, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[1] == "" || parts[2] != "concerns" || parts[3] == "" {
		return "", "", false
	}
	return "groups/" + parts[1], parts[3], true
}
