package pages

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
)

// The admins' page of the group's two link groups,
// /{group}/members/admin/link-groups: the two, removing one (after a page
// that says what it means), and linking another while the group has fewer
// than two: a group on this website by its address, or a group elsewhere by
// its name and e-mail address.

// linkGroupsPage lists the link groups, with the form to add one.
type linkGroupsPage struct {
	layout
	Banner     *banner
	Back       string
	LinkGroups []linkGroupView
	// Full is true when the group has its two link groups; the form is
	// then not shown.
	Full bool
	// Problem says why a link was refused that no field explains.
	Problem string
	Action  string
	// The form as typed: Kind is "local" or "external".
	Kind, Address, Name, Email string
	FormID                     string
}

// linkGroupView is one link group.
type linkGroupView struct {
	ID, Name string
	// Where says where it is, in a few words.
	Where  string
	Remove string
}

// requiredLinkGroups is how many link groups an IPN group has.
const requiredLinkGroups = 2

// linkGroupsPath is the admins' page of the link groups.
func (a *signedInAdmin) linkGroupsPath() string { return a.adminPath("link-groups") }

// linkGroupsView fills the page's list from the directory.
func (s *Site) linkGroupsView(r *http.Request, a *signedInAdmin, page *linkGroupsPage) error {
	lgs, err := s.api.ListLinkGroups(r.Context(), a.sess.Token, a.group.ID)
	if err != nil {
		return err
	}
	page.LinkGroups = nil
	for _, lg := range lgs {
		id := lastSegment(lg.GetName())
		v := linkGroupView{ID: id, Name: lg.GetDisplayName(), Remove: a.linkGroupsPath() + "/" + id + "/remove"}
		switch {
		case lg.GetLocalGroup() != "":
			v.Where = "A group on this website"
		case lg.GetExternalGroup().GetContactEmail() != "":
			v.Where = "A group elsewhere, told by e-mail at " + lg.GetExternalGroup().GetContactEmail()
		default:
			v.Where = "A group elsewhere"
		}
		page.LinkGroups = append(page.LinkGroups, v)
	}
	page.Full = len(page.LinkGroups) >= requiredLinkGroups
	return nil
}

// newLinkGroupsPage is the page with an empty form.
func newLinkGroupsPage(a *signedInAdmin) linkGroupsPage {
	return linkGroupsPage{layout: a.layout("Link groups"), Back: a.adminPath(""), Action: a.linkGroupsPath(), Kind: "local", FormID: newRequestID()}
}

// adminLinkGroups shows the link groups.
func (s *Site) adminLinkGroups(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	page := newLinkGroupsPage(a)
	if err := s.linkGroupsView(r, a, &page); err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "linked":
		page.Banner = &banner{Title: "The link group has been added", Next: "It is told of new concerns and of how each case goes, as the procedure says."}
	case "unlinked":
		page.Banner = &banner{Title: "The link group has been removed", Next: "It is told nothing more, and the access it had ended. The group needs two link groups: add another below."}
	}
	s.render(w, r, http.StatusOK, "admin-link-groups", page)
}

// linkGroupFormFields are the form's fields by the API's names of them.
var linkGroupFormFields = map[string]string{
	"displayname":                "name",
	"linkgroupid":                "name",
	"externalgroup":              "email",
	"externalgroup.contactemail": "email",
	"externalgroup.grpcendpoint": "email",
	"localgroup":                 "address",
	"linkgroup":                  "kind-local",
}

// groupOfAddress reads a group's id from what an admin typed: its id, or
// its address on this website (https://…/hillside/, /hillside).
func groupOfAddress(typed string) string {
	typed = strings.TrimSpace(typed)
	if u, err := url.Parse(typed); err == nil && (u.Host != "" || strings.HasPrefix(typed, "/")) {
		typed = u.Path
	}
	id, _, _ := strings.Cut(strings.Trim(typed, "/"), "/")
	return strings.ToLower(id)
}

// adminLinkGroupAdd links another group.
func (s *Site) adminLinkGroupAdd(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	page := newLinkGroupsPage(a)
	page.Kind, page.Address, page.Name, page.Email, page.FormID = f.Get("kind"), singleLine(f.Get("address")), singleLine(f.Get("name")), strings.TrimSpace(f.Get("email")), f.Get("formId")
	lg := &directoryv1.LinkGroup{}
	var id string
	switch page.Kind {
	case "local":
		gid := groupOfAddress(page.Address)
		switch {
		case page.Address == "":
			page.Errors.add("address", "Enter the group's address on this website")
		case !api.ValidID(gid):
			page.Errors.add("address", "Enter the group's address on this website, like the link to its page")
		case gid == a.group.ID:
			page.Errors.add("address", "That is your own group: a group cannot be its own link group")
		default:
			g, err := s.api.GetGroup(r.Context(), gid)
			switch e, isAPI := api.AsError(err); {
			case isAPI && e.Status == http.StatusNotFound:
				page.Errors.add("address", "There is no group at that address on this website")
			case err != nil:
				s.fail(w, r, a.group, err)
				return
			default:
				id = gid
				lg.DisplayName = g.GetDisplayName()
				lg.Target = &directoryv1.LinkGroup_LocalGroup{LocalGroup: "groups/" + gid}
			}
		}
	case "external":
		if page.Name == "" {
			page.Errors.add("name", "Enter the group's name")
		}
		if page.Email == "" {
			page.Errors.add("email", "Enter the e-mail address the group is told at")
		} else if !strings.Contains(page.Email, "@") {
			page.Errors.add("email", "Enter an e-mail address in the right form, like name@example.com")
		}
		lg.DisplayName = page.Name
		lg.Target = &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: page.Email}}
	default:
		page.Errors.add("kind-local", "Choose where the group is")
	}
	if !page.Errors.Any() {
		var err error
		page.Problem, err = s.linkGroupCreate(r, a, lg, id)
		switch {
		case err == nil && page.Problem == "":
			http.Redirect(w, r, doneAt(a.linkGroupsPath(), "linked"), http.StatusSeeOther)
			return
		case err != nil && !fieldRefusals(err, &page.Errors, linkGroupFormFields, "kind-local"):
			s.fail(w, r, a.group, err)
			return
		}
	}
	if err := s.linkGroupsView(r, a, &page); err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	status := http.StatusBadRequest
	if page.Problem != "" {
		status = http.StatusConflict
	}
	s.render(w, r, status, "admin-link-groups", page)
}

// linkGroupCreate links lg once (a second sending of the form does not),
// under id or, for a group elsewhere, an id made from its name. problem
// says in plain words why the directory refused it; err is what the page
// cannot explain.
func (s *Site) linkGroupCreate(r *http.Request, a *signedInAdmin, lg *directoryv1.LinkGroup, id string) (problem string, err error) {
	_, _, err = s.forms.do(formID(r, a.sess), func() (string, error) {
		for try := 1; ; try++ {
			linkID := id
			if linkID == "" || try > 1 {
				linkID = newID("link-group", lg.GetDisplayName(), try)
			}
			created, err := s.api.CreateLinkGroup(r.Context(), a.sess.Token, a.group.ID, linkID, lg)
			if api.IsReason(err, "ALREADY_EXISTS") && try < maxIDTries {
				continue
			}
			if err != nil {
				return "", err
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin added a link group", slog.String("linkGroup", created.GetName()))
			return "linked", nil
		}
	})
	switch {
	case api.IsReason(err, "TOO_MANY_LINK_GROUPS"):
		return "Your group has its two link groups already. To link another, remove one of them first.", nil
	case api.IsReason(err, "SELF_LINK"):
		return "That is your own group: a group cannot be its own link group.", nil
	}
	return "", err
}

// loadLinkGroup reads the admin and the link group the path names.
func (s *Site) loadLinkGroup(w http.ResponseWriter, r *http.Request) (*signedInAdmin, *directoryv1.LinkGroup, bool) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return nil, nil, false
	}
	id := r.PathValue("link")
	if !api.ValidID(id) {
		s.notFoundIn(w, r, a.group)
		return nil, nil, false
	}
	lgs, err := s.api.ListLinkGroups(r.Context(), a.sess.Token, a.group.ID)
	if err != nil {
		s.fail(w, r, a.group, err)
		return nil, nil, false
	}
	for _, lg := range lgs {
		if lastSegment(lg.GetName()) == id {
			return a, lg, true
		}
	}
	s.notFoundIn(w, r, a.group)
	return nil, nil, false
}

// removeLinkGroupPage is the confirmation of removing lg.
func removeLinkGroupPage(a *signedInAdmin, lg *directoryv1.LinkGroup) confirmPage {
	name := lg.GetDisplayName()
	return confirmPage{layout: a.layout("Remove " + name + "?"), Back: a.linkGroupsPath(), BackText: "Back to the link groups",
		Lead: "Remove " + name + " as one of your group's two link groups.",
		Means: []string{
			name + " is told nothing more about your group's cases, new or open.",
			"Any access it had to this website ends at once.",
			"Your group needs two link groups: link another one after this.",
		},
		Action: a.linkGroupsPath() + "/" + lastSegment(lg.GetName()) + "/remove", Button: "Remove " + name, Warning: true, FormID: newRequestID()}
}

// adminLinkGroupRemoveForm asks to confirm removing a link group.
func (s *Site) adminLinkGroupRemoveForm(w http.ResponseWriter, r *http.Request) {
	a, lg, ok := s.loadLinkGroup(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "admin-confirm", removeLinkGroupPage(a, lg))
}

// adminLinkGroupRemove removes the link group.
func (s *Site) adminLinkGroupRemove(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	id := r.PathValue("link")
	if !api.ValidID(id) {
		s.notFoundIn(w, r, a.group)
		return
	}
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		name := "groups/" + a.group.ID + "/linkGroups/" + id
		err := s.api.DeleteLinkGroup(r.Context(), a.sess.Token, name)
		if err != nil && !api.IsReason(err, "LINK_GROUP_NOT_FOUND") {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin removed a link group", slog.String("linkGroup", name))
		return doneAt(a.linkGroupsPath(), "unlinked"), nil
	})
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
