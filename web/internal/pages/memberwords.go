package pages

import (
	"fmt"
	"strings"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// The members' pages speak to practitioners who know their procedure, but
// in plain words all the same: "the client's support person", not "SPC".
// The steps' own titles and descriptions come from the procedure, so that
// a new version of it reads as its authors wrote it.

// memberRoleWords rewrites the API's words (its explanations, the titles
// of its timeline entries), written with the procedure's short names for
// roles, into the members' pages' words. The procedure's own titles and
// descriptions go through it too, so that a version written with the
// short names reads the same.
var memberRoleWords = strings.NewReplacer(
	"the SPC", "the client's support person",
	"The SPC", "The client's support person",
	"the SPT", "the practitioner's support person",
	"The SPT", "The practitioner's support person",
	"the LP", "the liaison person",
	"The LP", "The liaison person",
	"the therapist", "the practitioner",
	"The therapist", "The practitioner",
)

// memberWords is a sentence of the API's or the procedure's in the
// members' pages' words.
func memberWords(s string) string { return memberRoleWords.Replace(s) }

// memberPhase says where a case stands, for members.
var memberPhase = map[procedurev1.Phase]string{
	procedurev1.Phase_PHASE_REGISTERED:        "Choosing support people",
	procedurev1.Phase_PHASE_SUPPORT_APPOINTED: "Support people chosen",
	procedurev1.Phase_PHASE_CLARIFYING:        "Putting the concern in writing",
	procedurev1.Phase_PHASE_WITH_THERAPIST:    "With the practitioner",
	procedurev1.Phase_PHASE_AWAITING_CLIENT:   "With the client, after the response",
	procedurev1.Phase_PHASE_JOINT_MEETING:     "Joint meeting",
	procedurev1.Phase_PHASE_ESCALATED:         "With the whole group and the link groups",
	procedurev1.Phase_PHASE_CLOSED:            "Closed",
}

// memberOutcome says how a closed case ended, for members.
var memberOutcome = map[caseworkv1.Case_Outcome]string{
	caseworkv1.Case_OUTCOME_RESOLVED:   "Closed: resolved",
	caseworkv1.Case_OUTCOME_WITHDRAWN:  "Closed: the client withdrew",
	caseworkv1.Case_OUTCOME_UNRESOLVED: "Closed: not resolved",
}

// roleName names a role in a case, for members.
var roleName = map[procedurev1.Role]string{
	procedurev1.Role_ROLE_CLIENT:     "the client",
	procedurev1.Role_ROLE_THERAPIST:  "the practitioner the concern is about",
	procedurev1.Role_ROLE_SPT:        "the practitioner's support person",
	procedurev1.Role_ROLE_NOMINEE:    "the member asked to support the practitioner",
	procedurev1.Role_ROLE_SPC:        "the client's support person",
	procedurev1.Role_ROLE_LP:         "the liaison person",
	procedurev1.Role_ROLE_MEMBER:     "any member of the group",
	procedurev1.Role_ROLE_LINK_GROUP: "a link group",
}

// yourRoles says which parts the member plays in a case: "You are the
// client's support person." It is empty when they play none but being a
// member.
func yourRoles(roles []procedurev1.Role) string {
	var parts []string
	for _, r := range roles {
		switch r {
		case procedurev1.Role_ROLE_THERAPIST:
			parts = append(parts, "the practitioner the concern is about")
		case procedurev1.Role_ROLE_SPT, procedurev1.Role_ROLE_NOMINEE, procedurev1.Role_ROLE_SPC, procedurev1.Role_ROLE_LP:
			parts = append(parts, roleName[r])
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "You are " + strings.Join(parts, " and ") + "."
}

// shortRoles names the member's parts in a case in a few words, for a
// table: "Client's support person".
func shortRoles(roles []procedurev1.Role) string {
	var parts []string
	for _, r := range roles {
		switch r {
		case procedurev1.Role_ROLE_THERAPIST:
			parts = append(parts, "About you")
		case procedurev1.Role_ROLE_SPT:
			parts = append(parts, "Practitioner's support person")
		case procedurev1.Role_ROLE_NOMINEE:
			parts = append(parts, "Asked to support the practitioner")
		case procedurev1.Role_ROLE_SPC:
			parts = append(parts, "Client's support person")
		case procedurev1.Role_ROLE_LP:
			parts = append(parts, "Liaison person")
		}
	}
	return strings.Join(parts, ", ")
}

// whoActs says who may take a step, from its actors: "the liaison person",
// "the client, the practitioner or their support person".
func whoActs(actors, excluded []procedurev1.Role) string {
	var names []string
	for _, a := range actors {
		if n, ok := roleName[a]; ok {
			names = append(names, n)
		}
	}
	s := orList(names)
	if s == "" {
		s = "someone in the case"
	}
	for _, e := range excluded {
		if e == procedurev1.Role_ROLE_THERAPIST {
			s += ", other than the practitioner the concern is about"
		}
	}
	return s
}

// orList joins words as a sentence does: "a", "a or b", "a, b or c".
func orList(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// clockShort is a case's overall clock in a few words, for a table: "Week
// 3 of 8, 40 days left", "5 days past the aim".
func clockShort(c *caseworkv1.Clock, open bool) string {
	switch c.GetState() {
	case caseworkv1.Clock_STATE_RUNNING:
		return fmt.Sprintf("%d %s left", c.GetDaysLeft(), plural(int(c.GetDaysLeft()), "day", "days"))
	case caseworkv1.Clock_STATE_MISSED:
		if open {
			return fmt.Sprintf("%d %s past the aim", c.GetDaysOverdue(), plural(int(c.GetDaysOverdue()), "day", "days"))
		}
		return "Took longer than the aim"
	case caseworkv1.Clock_STATE_MET:
		return "Resolved within the aim"
	case caseworkv1.Clock_STATE_STOPPED:
		return "Closed within the aim"
	}
	return ""
}

// outcomeWords are the words for a step's outcomes, by the procedure's
// code; an outcome without words here is shown as its code reads
// ("SOME_OUTCOME" as "Some outcome"), so that a new version of the
// procedure needs no change here.
var outcomeWords = map[string]string{
	"ACCEPTED":          "Accept",
	"DECLINED":          "Decline",
	"RESOLVED":          "Resolved",
	"UNRESOLVED":        "Not resolved",
	"NOT_RESOLVED":      "Not resolved",
	"APPROVED":          "Approved",
	"CHANGES_REQUESTED": "Changes asked for",
	"OTHER_TIMES":       "Other times asked for",
	"JOINT_MEETING":     "A joint meeting",
	"WITHDRAWN":         "Withdrawn",
}

// outcomeLabel is an outcome's words.
func outcomeLabel(code string) string {
	if w, ok := outcomeWords[code]; ok {
		return w
	}
	s := strings.ToLower(strings.ReplaceAll(code, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
