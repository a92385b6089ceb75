package pages

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
)

// The admins' pages of the group's members, /{group}/members/admin/members:
// the list, each member's page (their record, their sign-ins, making them an
// admin or not), inviting a member, and deactivating one who leaves.

// adminMembersPage lists the group's members.
type adminMembersPage struct {
	layout
	Banner  *banner
	Members []adminMemberRow
	// Invite is the page to invite a member; Back the admins' pages.
	Invite, Back string
}

// adminMemberRow is one member in the list.
type adminMemberRow struct {
	ID, Path, Name, Email string
	Admin, Active         bool
	Left                  time.Time
}

// adminMemberPage is one member's record and what an admin can do.
type adminMemberPage struct {
	layout
	Banner                 *banner
	Back                   string
	ID, Name, Email, Phone string
	Admin, Active, Self    bool
	Joined, Left           time.Time
	// Sessions are their sign-ins that have not ended.
	Sessions []sessionView
	// EndSessions, SetAdmin and Deactivate are where the buttons lead.
	EndSessions, SetAdmin, Deactivate string
	// SignInPath is the members' sign-in page, where they ask for a link.
	SignInPath string
	Problem    string
	FormID     string
	Etag       string
}

// inviteForm is the form to invite a member, as typed.
type inviteForm struct {
	layout
	Back, Action string
	Name, Email  string
	Admin        bool
	FormID       string
}

// memberPath is an admin's page of the member with that id.
func (a *signedInAdmin) memberPath(id string) string { return a.adminPath("members/" + id) }

// memberName is the resource name of the member with that id.
func (a *signedInAdmin) memberName(id string) string {
	return "groups/" + a.group.ID + "/members/" + id
}

// adminMembers lists the members, active first, then those who left.
func (s *Site) adminMembers(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	members, err := s.api.ListMembers(r.Context(), a.sess.Token, a.group.ID)
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	page := adminMembersPage{layout: a.layout("Members"), Invite: a.adminPath("members/new"), Back: a.adminPath("")}
	var left []adminMemberRow
	for _, m := range members {
		id := lastSegment(m.GetName())
		row := adminMemberRow{ID: id, Path: a.memberPath(id), Name: m.GetDisplayName(), Email: m.GetContact().GetEmail(),
			Admin: m.GetGroupAdmin(), Active: m.GetState() != directoryv1.Member_STATE_INACTIVE}
		if row.Active {
			page.Members = append(page.Members, row)
			continue
		}
		if t := m.GetLeaveTime(); t != nil {
			row.Left = t.AsTime()
		}
		left = append(left, row)
	}
	page.Members = append(page.Members, left...)
	if r.URL.Query().Get("done") == "deactivated" {
		page.Banner = &banner{Title: "The member has been deactivated", Next: "They can no longer sign in, take no part in new cases and are not told of new concerns. Their part in cases so far stays on record."}
	}
	s.render(w, r, http.StatusOK, "admin-members", page)
}

// loadAdminMember reads the admin and the member the path names.
func (s *Site) loadAdminMember(w http.ResponseWriter, r *http.Request) (*signedInAdmin, *directoryv1.Member, bool) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return nil, nil, false
	}
	id := r.PathValue("member")
	if !api.ValidID(id) {
		s.notFoundIn(w, r, a.group)
		return nil, nil, false
	}
	m, err := s.api.GetMemberAs(r.Context(), a.sess.Token, a.memberName(id))
	if err != nil {
		s.fail(w, r, a.group, err)
		return nil, nil, false
	}
	return a, m, true
}

// adminMember shows a member's record, their sign-ins and what an admin
// can do about them.
func (s *Site) adminMember(w http.ResponseWriter, r *http.Request) {
	a, m, ok := s.loadAdminMember(w, r)
	if !ok {
		return
	}
	page, err := s.adminMemberView(r, a, m)
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "invited":
		page.Banner = &banner{Title: page.Name + " is now a member", Next: "They sign in with a link that they ask for, with this e-mail address, on the members' sign-in page. Tell them so: the website sends them nothing until they ask."}
	case "sessions-ended":
		page.Banner = &banner{Title: "You have ended " + page.Name + "'s sign-ins", Next: "Whoever used them is signed out within a minute. " + page.Name + " can sign in again with a new link."}
	case "admin-set":
		page.Banner = &banner{Title: page.Name + " is now an admin", Next: "They see the admins' pages the next time they open My work."}
	case "admin-unset":
		page.Banner = &banner{Title: page.Name + " is no longer an admin", Next: "The admins' pages are closed to them from now on."}
	}
	s.render(w, r, http.StatusOK, "admin-member", page)
}

// adminMemberView is the member's page, with their sign-ins read.
func (s *Site) adminMemberView(r *http.Request, a *signedInAdmin, m *directoryv1.Member) (adminMemberPage, error) {
	id := lastSegment(m.GetName())
	path := a.memberPath(id)
	page := adminMemberPage{layout: a.layout(m.GetDisplayName()), Back: a.adminPath("members"), ID: id, Name: m.GetDisplayName(),
		Email: m.GetContact().GetEmail(), Phone: m.GetContact().GetPhone(), Admin: m.GetGroupAdmin(),
		Active: m.GetState() != directoryv1.Member_STATE_INACTIVE, Self: m.GetName() == a.sess.Member(),
		EndSessions: path + "/end-sign-ins", SetAdmin: path + "/admin", Deactivate: path + "/deactivate",
		SignInPath: "/" + a.group.ID + "/members/sign-in", FormID: newRequestID(), Etag: m.GetEtag()}
	if t := m.GetJoinTime(); t != nil {
		page.Joined = t.AsTime()
	}
	if t := m.GetLeaveTime(); t != nil {
		page.Left = t.AsTime()
	}
	if !page.Active {
		return page, nil
	}
	sessions, err := s.api.ListMemberSessions(r.Context(), a.sess.Token, m.GetName())
	if err != nil {
		return page, err
	}
	page.Sessions = openSessions(sessions, s.now(), a.sess.MemberSession, "")
	return page, nil
}

// adminEndSignIns ends every sign-in of the member that has not ended.
func (s *Site) adminEndSignIns(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, m, ok := s.loadAdminMember(w, r)
	if !ok {
		return
	}
	if m.GetName() == a.sess.Member() {
		// Their own sign-ins are ended on their own page, where the one in
		// use is marked.
		http.Redirect(w, r, a.sessionsPath(), http.StatusSeeOther)
		return
	}
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		sessions, err := s.api.ListMemberSessions(r.Context(), a.sess.Token, m.GetName())
		if err != nil {
			return "", err
		}
		ended := 0
		for _, v := range openSessions(sessions, s.now(), "", "") {
			err := s.api.RevokeMemberSession(r.Context(), a.sess.Token, m.GetName()+"/sessions/"+v.ID)
			if err != nil && !api.IsReason(err, "SESSION_REVOKED") {
				return "", err
			}
			ended++
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin ended a member's sign-ins", slog.String("member", m.GetName()), slog.Int("ended", ended))
		return doneAt(a.memberPath(lastSegment(m.GetName())), "sessions-ended"), nil
	})
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// adminSetAdmin makes the member an admin, or not.
func (s *Site) adminSetAdmin(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, m, ok := s.loadAdminMember(w, r)
	if !ok {
		return
	}
	admin := r.PostForm.Get("admin") == "yes"
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		change := &directoryv1.Member{Name: m.GetName(), GroupAdmin: admin, Etag: r.PostForm.Get("etag")}
		if _, err := s.api.UpdateMember(r.Context(), a.sess.Token, change, []string{"groupAdmin"}); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin changed a member's admin right", slog.String("member", m.GetName()), slog.Bool("admin", admin))
		done := "admin-unset"
		if admin {
			done = "admin-set"
		}
		return doneAt(a.memberPath(lastSegment(m.GetName())), done), nil
	})
	if err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	problem, ok := memberRefusal(err, m.GetDisplayName())
	if !ok {
		s.fail(w, r, a.group, err)
		return
	}
	m, rerr := s.api.GetMemberAs(r.Context(), a.sess.Token, m.GetName())
	if rerr != nil {
		s.fail(w, r, a.group, rerr)
		return
	}
	page, rerr := s.adminMemberView(r, a, m)
	if rerr != nil {
		s.fail(w, r, a.group, rerr)
		return
	}
	page.Problem = problem
	s.render(w, r, http.StatusConflict, "admin-member", page)
}

// memberRefusal says in plain words why the directory refused a change to
// a member; ok is false for what fail answers.
func memberRefusal(err error, name string) (problem string, ok bool) {
	e, isAPI := api.AsError(err)
	if !isAPI {
		return "", false
	}
	switch e.Reason {
	case "LAST_ADMIN":
		return name + " is the group's only admin. The group must always have one: make another member an admin first, on their page.", true
	case "ETAG_MISMATCH":
		return "Someone changed " + name + "'s record while you were on the page. Check it below, then try again.", true
	case "MEMBER_INACTIVE":
		return name + " has been deactivated already.", true
	}
	return "", false
}

// adminDeactivateForm asks to confirm deactivating the member.
func (s *Site) adminDeactivateForm(w http.ResponseWriter, r *http.Request) {
	a, m, ok := s.loadAdminMember(w, r)
	if !ok {
		return
	}
	if m.GetState() == directoryv1.Member_STATE_INACTIVE {
		http.Redirect(w, r, a.memberPath(lastSegment(m.GetName())), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "admin-confirm", deactivatePage(a, m))
}

// deactivatePage is the confirmation of deactivating m.
func deactivatePage(a *signedInAdmin, m *directoryv1.Member) confirmPage {
	name := m.GetDisplayName()
	path := a.memberPath(lastSegment(m.GetName()))
	p := confirmPage{layout: a.layout("Deactivate " + name + "?"), Back: path, BackText: "Back to " + name,
		Lead: "Deactivate a member who has left the group.",
		Means: []string{
			name + " can no longer sign in, and every sign-in of theirs ends.",
			"They take no part in new cases and are not told of new concerns.",
			"Their part in cases so far stays on record, under their name.",
			"This cannot be undone here. If they come back, invite them again.",
		},
		Action: path + "/deactivate", Button: "Deactivate " + name, Warning: true, FormID: newRequestID(), Etag: m.GetEtag()}
	if m.GetName() == a.sess.Member() {
		p.Means = append([]string{"This is you: you will be signed out, and the admins' pages will be closed to you."}, p.Means...)
	}
	return p
}

// adminDeactivate deactivates the member.
func (s *Site) adminDeactivate(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, m, ok := s.loadAdminMember(w, r)
	if !ok {
		return
	}
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		if _, err := s.api.DeactivateMember(r.Context(), a.sess.Token, m.GetName(), r.PostForm.Get("etag")); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin deactivated a member", slog.String("member", m.GetName()))
		return doneAt(a.adminPath("members"), "deactivated"), nil
	})
	if err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	problem, ok := memberRefusal(err, m.GetDisplayName())
	if !ok {
		s.fail(w, r, a.group, err)
		return
	}
	page := deactivatePage(a, m)
	page.Problem = problem
	s.render(w, r, http.StatusConflict, "admin-confirm", page)
}

// adminInviteForm is the form to invite a member.
func (s *Site) adminInviteForm(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "admin-invite", inviteForm{layout: a.layout("Invite a member"), Back: a.adminPath("members"),
		Action: a.adminPath("members/new"), FormID: newRequestID()})
}

// inviteFields are the invite form's fields by the API's names of them.
var inviteFields = map[string]string{
	"displayname":   "name",
	"memberid":      "name",
	"contact.email": "email",
	"contact":       "email",
}

// adminInvite adds the member (CreateMember) and goes to their page, which
// says how they sign in.
func (s *Site) adminInvite(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	page := inviteForm{layout: a.layout("Invite a member"), Back: a.adminPath("members"), Action: a.adminPath("members/new"),
		Name: singleLine(f.Get("name")), Email: strings.TrimSpace(f.Get("email")), Admin: f.Get("admin") == "yes", FormID: f.Get("formId")}
	if strings.TrimSpace(page.Name) == "" {
		page.Errors.add("name", "Enter their name")
	}
	if page.Email == "" {
		page.Errors.add("email", "Enter their e-mail address")
	} else if !strings.Contains(page.Email, "@") {
		page.Errors.add("email", "Enter an e-mail address in the right form, like name@example.com")
	}
	if page.Errors.Any() {
		s.render(w, r, http.StatusBadRequest, "admin-invite", page)
		return
	}
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		m := &directoryv1.Member{DisplayName: strings.TrimSpace(page.Name), GroupAdmin: page.Admin,
			Contact: &directoryv1.ContactDetails{Email: page.Email}}
		for try := 1; ; try++ {
			created, err := s.api.CreateMember(r.Context(), a.sess.Token, a.group.ID, newID("member", page.Name, try), m)
			if api.IsReason(err, "ALREADY_EXISTS") && try < maxIDTries {
				continue
			}
			if err != nil {
				return "", err
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin invited a member", slog.String("member", created.GetName()))
			return doneAt(a.memberPath(lastSegment(created.GetName())), "invited"), nil
		}
	})
	if err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if !fieldRefusals(err, &page.Errors, inviteFields, "name") {
		s.fail(w, r, a.group, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, "admin-invite", page)
}
