package directory

import (
	"regexp"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/contact"
	"github.com/ipnmediation/disputes/platform/fault"
)

// idPattern is the form of group, member and link group ids.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,38}[a-z0-9]$`)

// procedurePattern is the form of a procedure's name, as casework accepts
// it: a group may name only what casework could serve.
var procedurePattern = regexp.MustCompile(`^procedures/[a-z][a-z0-9-]{0,62}$`)

// ValidID reports whether id may be the last part of a resource name.
func ValidID(id string) bool { return idPattern.MatchString(id) }

func checkID(v *fault.Violations, field, id string) {
	if !ValidID(id) {
		v.Add(field, "must be 3 to 40 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen")
	}
}

// checkRequired refuses a text that is empty or only spaces. How long a text
// may be, and what it may hold, is the contract's text rule (max_length in
// the proto, in characters), which the platform applies before any handler.
func checkRequired(v *fault.Violations, field, s string) {
	if strings.TrimSpace(s) == "" {
		v.Add(field, "is required")
	}
}

func validateGroup(g Group, creating bool) error {
	var v fault.Violations
	if creating {
		checkID(&v, "group_id", g.ID)
	}
	checkRequired(&v, "group.display_name", g.DisplayName)
	if g.IPNStatus < StatusUnspecified || g.IPNStatus > StatusMemberGroup {
		v.Add("group.ipn_status", "is not a known status")
	}
	if g.StatusSinceYear != 0 && (g.StatusSinceYear < 1980 || g.StatusSinceYear > 2200) {
		v.Add("group.ipn_status_since_year", "must be a year from 1980")
	}
	s := g.Settings
	if s.OverallTarget < 0 || s.OverallTarget > 365*24*time.Hour {
		v.Add("group.procedure_settings.overall_target", "must be between 0 and a year")
	}
	if s.FirstResponseTarget < 0 || (s.OverallTarget > 0 && s.FirstResponseTarget > s.OverallTarget) {
		v.Add("group.procedure_settings.first_response_target", "must not be negative or longer than the overall target")
	}
	for _, o := range s.ReminderOffsets {
		if o <= 0 {
			v.Add("group.procedure_settings.reminder_offsets", "must be positive")
			break
		}
	}
	if s.Retention != 0 && (s.Retention < 30*24*time.Hour || s.Retention > 20*365*24*time.Hour) {
		v.Add("group.procedure_settings.retention", "must be between 30 days and 20 years")
	}
	if l := s.MemberSessionLifetime; l != 0 && (l < 15*time.Minute || l > 30*24*time.Hour) {
		v.Add("group.procedure_settings.member_session_lifetime", "must be between 15 minutes and 30 days")
	}
	if s.Procedure != "" && !procedurePattern.MatchString(s.Procedure) {
		v.Add("group.procedure_settings.procedure", "must be empty or procedures/ followed by 1 to 63 lowercase letters, digits and hyphens, starting with a letter")
	}
	return v.Err()
}

func validateMember(m Member) error {
	var v fault.Violations
	checkID(&v, "member_id", m.ID)
	checkRequired(&v, "member.display_name", m.DisplayName)
	if m.Email == "" {
		v.Add("member.contact.email", "is required: members are told of new concerns by e-mail")
	} else if !contact.ValidEmail(m.Email) {
		v.Add("member.contact.email", "must be an e-mail address such as name@example.org")
	}
	if m.Phone != "" && !contact.ValidPhone(m.Phone) {
		v.Add("member.contact.phone", "must be a telephone number of 7 to 20 digits")
	}
	return v.Err()
}

func validateLinkGroup(l LinkGroup) error {
	var v fault.Violations
	checkID(&v, "link_group_id", l.ID)
	checkRequired(&v, "link_group.display_name", l.DisplayName)
	switch {
	case l.LocalGroup != "" && l.ContactEmail != "":
		v.Add("link_group", "is either a local group or an external group, not both")
	case l.LocalGroup == "" && l.ContactEmail == "":
		v.Add("link_group.external_group.contact_email", "is required for a group outside this deployment")
	case l.ContactEmail != "" && !contact.ValidEmail(l.ContactEmail):
		v.Add("link_group.external_group.contact_email", "must be an e-mail address such as name@example.org")
	}
	if l.GRPCEndpoint != "" && !strings.Contains(l.GRPCEndpoint, ":") {
		v.Add("link_group.external_group.grpc_endpoint", "must be host:port")
	}
	return v.Err()
}
