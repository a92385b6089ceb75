package pages

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/ipnmediation/disputes/web/internal/api"
)

// What the admins' pages and a member's sessions page share: the page that
// asks to confirm an action that cannot be undone, the ids the directory
// wants for new members and link groups, and the fields its refusals name.

// confirmPage asks to confirm one action: what it means, then one button.
type confirmPage struct {
	layout
	// Back is the page the action is about, BackText its link's words.
	Back, BackText string
	// Lead says what is about to happen; Means what it means, a sentence a
	// line.
	Lead  string
	Means []string
	// Action is where the form posts; Button its words; Warning marks an
	// action that takes something away.
	Action, Button string
	Warning        bool
	// Problem says why the action was not taken, when it was refused.
	Problem      string
	FormID, Etag string
}

// maxAdminForm bounds an admin form's body: an ethical statement of up to
// 100,000 characters (up to 4 bytes each) with room to spare.
const maxAdminForm = 512 << 10

// newID makes the last part of a new resource's name from the words people
// know it by ("Dana Holt" becomes dana-holt): the directory wants 3 to 40
// lowercase letters, digits and hyphens starting with a letter. try counts
// from 1; past the first, a number is added, for a name taken already.
// Words with no letter of a-z give "member-…" (prefix) and the number.
func newID(prefix, words string, try int) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(words) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			// A letter outside a-z (é, ø) is left out rather than turned
			// into a hyphen, so "Zoë" is "zo", not "zo-".
		default:
			hyphen = true
		}
	}
	id := b.String()
	for id != "" && (id[0] < 'a' || id[0] > 'z') {
		id = strings.TrimLeft(id[1:], "-")
	}
	if len(id) < 3 {
		id = prefix
	}
	suffix := ""
	if try > 1 {
		suffix = "-" + strconv.Itoa(try)
	}
	if len(id) > 40-len(suffix) {
		id = strings.TrimRight(id[:40-len(suffix)], "-")
	}
	return id + suffix
}

// maxIDTries bounds how many numbered ids are tried for a name taken
// already.
const maxIDTries = 9

// fieldKey is a field the API names, reduced so that its JSON spelling and
// its proto spelling match (procedureSettings.overallTarget,
// group.procedure_settings.overall_target): without the resource's own
// name in front, underscores and letter case.
func fieldKey(field string) string {
	for _, p := range []string{"group.", "member.", "link_group.", "linkGroup.", "statement."} {
		field = strings.TrimPrefix(field, p)
	}
	return strings.ToLower(strings.ReplaceAll(field, "_", ""))
}

// fieldRefusals puts the API's field violations on the form's fields (ids
// by fieldKey); one that names no field of the form goes on fallback. It
// reports false when err is not a refusal of fields.
func fieldRefusals(err error, errs *formErrors, ids map[string]string, fallback string) bool {
	e, isAPI := api.AsError(err)
	if !isAPI || e.Status != http.StatusBadRequest || len(e.Fields) == 0 {
		return false
	}
	for _, f := range e.Fields {
		id, ok := ids[fieldKey(f.Field)]
		if !ok {
			id = fallback
		}
		if errs.Get(id) == "" {
			errs.add(id, "Check this: it "+strings.TrimSuffix(f.Description, ".")+".")
		}
	}
	return true
}

// adminDirectoryRoutes adds the routes of a member's sign-ins and of the
// admins' pages of the members, the link groups, the ethical statement
// and the settings.
func (s *Site) adminDirectoryRoutes(pages *http.ServeMux) {
	pages.HandleFunc("GET /{group}/members/sessions", s.memberSessions)
	pages.HandleFunc("POST /{group}/members/sessions/{session}/end", s.memberSessionEnd)
	pages.HandleFunc("GET /{group}/members/admin/members", s.adminMembers)
	pages.HandleFunc("GET /{group}/members/admin/members/new", s.adminInviteForm)
	pages.HandleFunc("POST /{group}/members/admin/members/new", s.adminInvite)
	pages.HandleFunc("GET /{group}/members/admin/members/{member}", s.adminMember)
	pages.HandleFunc("POST /{group}/members/admin/members/{member}/end-sign-ins", s.adminEndSignIns)
	pages.HandleFunc("POST /{group}/members/admin/members/{member}/admin", s.adminSetAdmin)
	pages.HandleFunc("GET /{group}/members/admin/members/{member}/deactivate", s.adminDeactivateForm)
	pages.HandleFunc("POST /{group}/members/admin/members/{member}/deactivate", s.adminDeactivate)
	pages.HandleFunc("GET /{group}/members/admin/link-groups", s.adminLinkGroups)
	pages.HandleFunc("POST /{group}/members/admin/link-groups", s.adminLinkGroupAdd)
	pages.HandleFunc("GET /{group}/members/admin/link-groups/{link}/remove", s.adminLinkGroupRemoveForm)
	pages.HandleFunc("POST /{group}/members/admin/link-groups/{link}/remove", s.adminLinkGroupRemove)
	pages.HandleFunc("GET /{group}/members/admin/statement", s.adminStatements)
	pages.HandleFunc("GET /{group}/members/admin/statement/new", s.adminStatementForm)
	pages.HandleFunc("POST /{group}/members/admin/statement/new", s.adminStatementDraft)
	pages.HandleFunc("GET /{group}/members/admin/statement/{version}", s.adminStatementPreview)
	pages.HandleFunc("GET /{group}/members/admin/statement/{version}/publish", s.adminStatementPublishForm)
	pages.HandleFunc("POST /{group}/members/admin/statement/{version}/publish", s.adminStatementPublish)
	pages.HandleFunc("GET /{group}/members/admin/settings", s.adminSettings)
	pages.HandleFunc("POST /{group}/members/admin/settings", s.adminSettingsSubmit)
}
