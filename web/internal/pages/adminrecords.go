package pages

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
)

// The records of who read what: a case's access log, for the client's
// support person and the group's admins, and the subject access search and
// export, for the admins. Casework decides who may read each; casework
// records every read of confidential material, the search and the export
// included, in the case's access log, and these pages say so where they
// cause one.

// adminRecordRoutes adds the routes of the admins' pages for e-mails and
// records, and of a case's access log.
func (s *Site) adminRecordRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{group}/members/admin/templates", s.adminTemplates)
	mux.HandleFunc("GET /{group}/members/admin/templates/{template}", s.adminTemplate)
	mux.HandleFunc("POST /{group}/members/admin/templates/{template}", s.adminTemplateSubmit)
	mux.HandleFunc("POST /{group}/members/admin/templates/{template}/restore", s.adminTemplateRestore)
	mux.HandleFunc("GET /{group}/members/admin/deliveries", s.adminDeliveries)
	mux.HandleFunc("POST /{group}/members/admin/deliveries/retry-dead", s.adminDeliveriesRetryDead)
	mux.HandleFunc("POST /{group}/members/admin/deliveries/{delivery}/retry", s.adminDeliveryRetry)
	mux.HandleFunc("GET /{group}/members/admin/subject-access", s.subjectAccessForm)
	mux.HandleFunc("POST /{group}/members/admin/subject-access", s.subjectAccessSearch)
	mux.HandleFunc("GET /{group}/members/admin/subject-access/{case}", s.subjectAccessExportPage)
	mux.HandleFunc("POST /{group}/members/admin/subject-access/{case}", s.subjectAccessExport)
	mux.HandleFunc("GET /{group}/members/cases/{case}/access-log", s.accessLog)
}

// isGroupAdmin reports whether the member is one of the group's admins,
// from their public profile (which the API client keeps for a few
// seconds). It only decides whether a link is shown: a member who cannot
// be read gets no link, and the API decides every read anyway.
func (s *Site) isGroupAdmin(r *http.Request, m *signedInMember) bool {
	me, err := s.api.GetMember(r.Context(), m.sess.Member())
	if err != nil {
		s.logError(r.Context(), r, "reading whether a member is an admin failed", err)
		return false
	}
	return me.GetGroupAdmin()
}

// accessLogPage is a case's access log.
type accessLogPage struct {
	layout
	CasePath, Reference string
	Rows                []accessRow
}

// accessRow is one read of confidential material.
type accessRow struct {
	Time      time.Time
	Who, What string
}

// accessKindWords say what a read disclosed, by the log's kind.
var accessKindWords = map[string]string{
	"CONCERN":               "The concern as the client registered it",
	"CLIENT_CONTACT":        "The client's name and contact details",
	"DOCUMENT":              "A document of the case",
	"MESSAGES":              "The messages between the client and their support person",
	"NOTES":                 "The support person's private notes",
	"EXPORT":                "Everything held about the client, exported for a request for their data",
	"CLIENT_CONTACT_SEARCH": "The client's contact details, compared in a search for a person's data that found this case",
}

// accessWhat is what one read disclosed, in words.
func accessWhat(e *caseworkv1.AccessLogEntry) string {
	switch {
	case e.GetKind() == "MESSAGES" && strings.Contains(e.GetResource(), "/messages/"):
		return "A message between the client and their support person"
	case e.GetKind() == "NOTES" && strings.Contains(e.GetResource(), "/notes/"):
		return "One of the support person's private notes"
	}
	if w, ok := accessKindWords[e.GetKind()]; ok {
		return w
	}
	return "Confidential material of the case"
}

// accessWho is who read, and in which part, in words.
func accessWho(names map[string]string, e *caseworkv1.AccessLogEntry) string {
	reader := e.GetReader()
	switch {
	case reader == "client":
		return "The client"
	case reader == "service:notification":
		return "The group's e-mail service, to write to the client"
	case strings.HasPrefix(reader, "service:") || strings.HasPrefix(reader, "peer:"):
		return "The system"
	}
	who := personName(names, reader)
	switch role := e.GetReaderRole(); role {
	case procedurev1.Role_ROLE_UNSPECIFIED, procedurev1.Role_ROLE_CLIENT, procedurev1.Role_ROLE_LINK_GROUP:
	case procedurev1.Role_ROLE_MEMBER:
		who += ", as a member of the group"
	default:
		if w, ok := roleName[role]; ok {
			who += ", as " + w
		}
	}
	return who
}

// accessLog shows who read the case's confidential material, newest
// first. Casework lets the client's support person and the group's admins
// read it; anyone else gets the page that says it is not for them.
func (s *Site) accessLog(w http.ResponseWriter, r *http.Request) {
	var entries []*caseworkv1.AccessLogEntry
	mc, err, ok := s.loadMemberCase(w, r, func(ctx context.Context, token, caseName string) (err error) {
		entries, err = s.api.ListAccessLogEntries(ctx, token, caseName)
		return err
	})
	if !ok {
		return
	}
	if e, isAPI := api.AsError(err); isAPI && (e.Status == http.StatusNotFound || e.Status == http.StatusForbidden) {
		// The case exists (it was just read): the log is not this member's.
		s.render(w, r, http.StatusForbidden, "not-yours", mc.layout("This page is not for you"))
		return
	}
	if err != nil {
		s.fail(w, r, mc.group, err)
		return
	}
	readers := make([]string, 0, len(entries))
	for _, e := range entries {
		readers = append(readers, e.GetReader())
	}
	names := s.memberNames(r, readers...)
	page := accessLogPage{layout: mc.layout("Who has read what"), CasePath: mc.path, Reference: mc.c.GetReference()}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		page.Rows = append(page.Rows, accessRow{Time: e.GetReadTime().AsTime(), Who: accessWho(names, e), What: accessWhat(e)})
	}
	s.render(w, r, http.StatusOK, "member-access-log", page)
}

// subjectAccessPage is the search for a person's data, and what it found.
type subjectAccessPage struct {
	layout
	BackPath, Action string
	Email, Phone     string
	// Searched: the form was sent and answered; Found are the cases.
	Searched bool
	Found    []foundCase
	Problem  string
}

// foundCase is one case a search found.
type foundCase struct {
	ID, Reference, Practitioner, Phase string
	ExportPath, AccessLogPath          string
}

// subjectAccessForm asks for the person's e-mail address or telephone
// number.
func (s *Site) subjectAccessForm(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "admin-subject-access", newSubjectAccessPage(a))
}

func newSubjectAccessPage(a *signedInAdmin) subjectAccessPage {
	return subjectAccessPage{layout: a.layout("A person's data"), BackPath: a.adminPath(""), Action: a.adminPath("subject-access")}
}

// subjectAccessSearch finds the group's cases whose client gave the
// address or number, and shows them. The terms go to the API in a POST
// body and are never logged or put in an address; the answer is this
// page, not a redirect, so they are never in a URL either.
func (s *Site) subjectAccessSearch(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, 16<<10) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	page := newSubjectAccessPage(a)
	page.Email, page.Phone = strings.TrimSpace(singleLine(r.PostForm.Get("email"))), strings.TrimSpace(singleLine(r.PostForm.Get("phone")))
	switch {
	case page.Email == "" && page.Phone == "":
		page.Errors.add("email", "Enter the person's e-mail address or telephone number")
	default:
		if page.Email != "" && (strings.Count(page.Email, "@") != 1 || len(page.Email) > 254) {
			page.Errors.add("email", "Enter an e-mail address in the right form, like name@example.com")
		}
		if page.Phone != "" && (digits(page.Phone) < 6 || len(page.Phone) > 64) {
			page.Errors.add("phone", "Enter a telephone number with at least 6 digits, like 01632 960 001")
		}
	}
	if page.Errors.Any() {
		s.render(w, r, http.StatusBadRequest, "admin-subject-access", page)
		return
	}
	names, err := s.api.FindClientCases(r.Context(), a.sess.Token, a.group.ID, page.Email, page.Phone)
	if e, isAPI := api.AsError(err); isAPI && e.Status == http.StatusBadRequest && len(e.Fields) > 0 {
		for _, f := range e.Fields {
			id := "email"
			if strings.Contains(strings.ToLower(f.Field), "phone") {
				id = "phone"
			}
			if page.Errors.Get(id) == "" {
				page.Errors.add(id, "Check this: "+sentence(memberRoleWords.Replace(f.Description)))
			}
		}
		s.render(w, r, http.StatusBadRequest, "admin-subject-access", page)
		return
	}
	if unsent(err) && !isSessionEnd(err) {
		s.logError(r.Context(), r, "searching for a person's cases failed", err)
		page.Problem = "We could not search because something on our side is not working. What you typed is still here: please try again in a few minutes."
		s.render(w, r, http.StatusServiceUnavailable, "admin-subject-access", page)
		return
	}
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	page.Searched = true
	page.Found = s.foundCases(r, a, names)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin searched for a person's cases", slog.String("group", a.group.ID), slog.Int("found", len(names)))
	s.render(w, r, http.StatusOK, "admin-subject-access", page)
}

// isSessionEnd reports whether err says the session has ended.
func isSessionEnd(err error) bool {
	e, ok := api.AsError(err)
	return ok && e.Status == http.StatusUnauthorized
}

// digits counts the digits of s.
func digits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// foundCases reads the cases found, at the same time: their reference,
// practitioner and where each stands. A case that cannot be read is still
// listed, by what is known of it.
func (s *Site) foundCases(r *http.Request, a *signedInAdmin, names []string) []foundCase {
	prefix := "groups/" + a.group.ID + "/cases/"
	cases := make([]*caseworkv1.Case, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		if id, ok := strings.CutPrefix(n, prefix); !ok || !api.ValidID(id) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.api.GetCase(r.Context(), a.sess.Token, n)
			if err != nil {
				s.logError(r.Context(), r, "reading a case found failed", err)
				return
			}
			cases[i] = c
		}()
	}
	wg.Wait()
	therapists := make([]string, 0, len(cases))
	for _, c := range cases {
		therapists = append(therapists, c.GetTherapist())
	}
	people := s.memberNames(r, therapists...)
	var out []foundCase
	for i, n := range names {
		id, ok := strings.CutPrefix(n, prefix)
		if !ok || !api.ValidID(id) {
			continue
		}
		f := foundCase{ID: id, ExportPath: a.adminPath("subject-access/" + id), AccessLogPath: a.casePath(id) + "/access-log",
			Reference: "not known just now", Practitioner: "not known just now", Phase: "not known just now"}
		if c := cases[i]; c != nil {
			f.Reference, f.Practitioner, f.Phase = c.GetReference(), personName(people, c.GetTherapist()), memberPhase[c.GetPhase()]
			if c.GetPhase() == procedurev1.Phase_PHASE_CLOSED {
				f.Phase = memberOutcome[c.GetOutcome()]
			}
		}
		out = append(out, f)
	}
	return out
}

// exportPage says what the export of a case's client's data holds, with
// the button that downloads it.
type exportPage struct {
	layout
	BackPath, Action, Reference string
	Problem                     string
}

// loadExportCase reads the case the path names for its export page.
func (s *Site) loadExportCase(w http.ResponseWriter, r *http.Request) (*signedInAdmin, *caseworkv1.Case, bool) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return nil, nil, false
	}
	id := r.PathValue("case")
	if !api.ValidID(id) {
		s.notFoundIn(w, r, a.group)
		return nil, nil, false
	}
	c, err := s.api.GetCase(r.Context(), a.sess.Token, "groups/"+a.group.ID+"/cases/"+id)
	if err != nil {
		s.fail(w, r, a.group, err)
		return nil, nil, false
	}
	return a, c, true
}

func newExportPage(a *signedInAdmin, c *caseworkv1.Case) exportPage {
	id := c.GetName()[strings.LastIndex(c.GetName(), "/")+1:]
	return exportPage{layout: a.layout("Export a client's data"), BackPath: a.adminPath("subject-access"),
		Action: a.adminPath("subject-access/" + id), Reference: c.GetReference()}
}

// subjectAccessExportPage says what the export holds.
func (s *Site) subjectAccessExportPage(w http.ResponseWriter, r *http.Request) {
	a, c, ok := s.loadExportCase(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "admin-export", newExportPage(a, c))
}

// subjectAccessExport downloads the export as the API gives it, a JSON
// file. It is a POST: the export is recorded in the case's access log, and
// a link prefetched or followed by accident would record one.
func (s *Site) subjectAccessExport(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, 16<<10) {
		return
	}
	a, c, ok := s.loadExportCase(w, r)
	if !ok {
		return
	}
	b, err := s.api.ExportClientData(r.Context(), a.sess.Token, c.GetName())
	if api.IsReason(err, "THERAPIST_SIDE") {
		page := newExportPage(a, c)
		page.Problem = "You are on the practitioner's side of this case, so you may not export it: the export holds everything the client said, whole. Please ask another of the group's admins."
		s.render(w, r, http.StatusForbidden, "admin-export", page)
		return
	}
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	id := c.GetName()[strings.LastIndex(c.GetName(), "/")+1:]
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin exported a client's data", slog.String("case", c.GetName()))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="client-data-`+id+`.json"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}
