package pages

import (
	"net/http"
)

// The group's admins have pages of their own under /{group}/members/admin/:
// the members and their sessions, the link groups, the ethical statement,
// the procedure settings and retention, the e-mail templates, the delivery
// log and the subject access search. Every read and change is the API's
// to allow (GROUP_ADMIN_ONLY); the website only keeps the links from
// members who are not admins.

// signedInAdmin is a member who is one of the group's admins.
type signedInAdmin struct {
	*signedInMember
	// Name is the admin's display name.
	Name string
}

// adminPath is the admins' page of the group, with rest after it.
func (m *signedInMember) adminPath(rest string) string { return m.home() + "admin/" + rest }

// loadAdmin reads the member's session, as loadMember does, and checks that
// the member is one of the group's admins; a member who is not gets the
// page that says these pages are not for them.
func (s *Site) loadAdmin(w http.ResponseWriter, r *http.Request) (*signedInAdmin, bool) {
	m, ok := s.loadMember(w, r)
	if !ok {
		return nil, false
	}
	me, err := s.api.GetMember(r.Context(), m.sess.Member())
	if err != nil {
		s.fail(w, r, m.group, err)
		return nil, false
	}
	if !me.GetGroupAdmin() {
		s.render(w, r, http.StatusForbidden, "not-yours", m.layout("This page is not for you"))
		return nil, false
	}
	return &signedInAdmin{signedInMember: m, Name: me.GetDisplayName()}, true
}

// adminHomePage lists the admins' pages.
type adminHomePage struct {
	layout
	Sections []adminSection
}

// adminSection is a group of the admins' pages.
type adminSection struct {
	Heading string
	Links   []todoLink
}

// adminHome is the admins' list of pages.
func (s *Site) adminHome(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "admin-home", adminHomePage{layout: a.layout("Running the group"), Sections: adminSections(a.signedInMember)})
}

// adminSections are the admins' pages, with what each is for.
func adminSections(m *signedInMember) []adminSection {
	return []adminSection{
		{Heading: "The group", Links: []todoLink{
			{ID: "admin-members", Text: "Members", Detail: "Invite a member, end a member's sign-ins, deactivate a member who leaves.", Path: m.adminPath("members")},
			{ID: "admin-link-groups", Text: "Link groups", Detail: "The two groups yours is linked to, which are told of concerns.", Path: m.adminPath("link-groups")},
			{ID: "admin-statement", Text: "Ethical statement", Detail: "Draft a new version, preview it, publish it.", Path: m.adminPath("statement")},
			{ID: "admin-settings", Text: "Procedure settings and retention", Detail: "The time aims, which version of the procedure new cases follow, how long closed cases are kept, how long a sign-in lasts.", Path: m.adminPath("settings")},
		}},
		{Heading: "E-mail and records", Links: []todoLink{
			{ID: "admin-templates", Text: "E-mail wording", Detail: "The words of the e-mails the group sends, with a preview.", Path: m.adminPath("templates")},
			{ID: "admin-deliveries", Text: "E-mails sent", Detail: "Every e-mail and its state; send again those that failed.", Path: m.adminPath("deliveries")},
			{ID: "admin-subject-access", Text: "A person's data", Detail: "Find a client's cases by their e-mail address or telephone number, and export what the group holds about them.", Path: m.adminPath("subject-access")},
		}},
	}
}
