package pages

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The admins' page of the group's procedure settings and retention,
// /{group}/members/admin/settings: the time aims, the version of the
// procedure new cases follow, how long closed cases are kept and how long a
// sign-in lasts. It changes only what was changed on the form (UpdateGroup
// with those fields in its update mask), against the group as it was when
// the page was shown (its etag): a change someone else made meanwhile is
// not overwritten unseen.

const (
	day  = 24 * time.Hour
	week = 7 * day
	// year is the directory's year for retention: 365 days.
	year = 365 * day
)

// settingsForm is the settings as shown or typed, each a whole number of
// its unit.
type settingsForm struct {
	OverallWeeks, FirstResponseDays, RetentionYears, SessionHours string
	// Procedure is the version new cases follow; empty for the default.
	Procedure string
}

// settingsPage is the settings form.
type settingsPage struct {
	layout
	Banner *banner
	Back   string
	Action string
	Form   settingsForm
	// Now is the settings as stored, shown under each field when someone
	// changed them while the admin was on the page (Stale).
	Now        settingsForm
	Stale      bool
	Procedures []choice
	// DefaultProcedure names the version new cases follow when the group
	// chooses none.
	DefaultProcedure string
	// Hints are the fields' hints, by the settingsForm field they are for.
	Hints        map[string]string
	Problem      string
	Etag, FormID string
}

// settingsHints are what each field's hint says.
var settingsHints = map[string]string{
	"OverallWeeks":      "From when a concern is raised. Clients and members see it on each case.",
	"FirstResponseDays": "From when a concern is raised.",
	"Procedure":         "A case keeps the version it was opened under.",
	"RetentionYears":    "Then everything that could identify anyone is deleted; only numbers for the group's reports stay. Six years is usual.",
	"SessionHours":      "Then they ask for a new link. Between 1 hour and 720 (30 days).",
}

// fillHints writes the fields' hints, and when someone changed the settings
// meanwhile, what each is now.
func (p *settingsPage) fillHints() {
	p.Hints = map[string]string{}
	for k, v := range settingsHints {
		p.Hints[k] = v
	}
	if !p.Stale {
		return
	}
	p.Hints["OverallWeeks"] += " Now: " + p.Now.OverallWeeks + " weeks."
	p.Hints["FirstResponseDays"] += " Now: " + p.Now.FirstResponseDays + " days."
	p.Hints["RetentionYears"] += " Now: " + p.Now.RetentionYears + " years."
	p.Hints["SessionHours"] += " Now: " + p.Now.SessionHours + " hours."
	for _, c := range p.Procedures {
		if c.Value == p.Now.Procedure {
			p.Hints["Procedure"] += " Now: " + c.Label + "."
		}
	}
}

// settingsOf is the group's settings in the form's units.
func settingsOf(g *directoryv1.Group) settingsForm {
	ps := g.GetProcedureSettings()
	whole := func(d *durationpb.Duration, unit, otherwise time.Duration) string {
		v := otherwise
		if d != nil && d.AsDuration() > 0 {
			v = d.AsDuration()
		}
		return strconv.Itoa(int((v + unit/2) / unit))
	}
	return settingsForm{
		OverallWeeks:      whole(ps.GetOverallTarget(), week, 8*week),
		FirstResponseDays: whole(ps.GetFirstResponseTarget(), day, 14*day),
		RetentionYears:    whole(ps.GetRetention(), year, 6*year),
		SessionHours:      whole(ps.GetMemberSessionLifetime(), time.Hour, 12*time.Hour),
		Procedure:         ps.GetProcedure(),
	}
}

// settingsFields are the form's fields by the API's names of them.
var settingsFields = map[string]string{
	"proceduresettings.overalltarget":         "overall-weeks",
	"proceduresettings.firstresponsetarget":   "first-response-days",
	"proceduresettings.retention":             "retention-years",
	"proceduresettings.membersessionlifetime": "session-hours",
	"proceduresettings.procedure":             "procedure-0",
}

// settingsPath is the admins' settings page.
func (a *signedInAdmin) settingsPath() string { return a.adminPath("settings") }

// readGroupAndProcedures reads the group as it is now and the versions of
// the procedure, at the same time.
func (s *Site) readGroupAndProcedures(ctx context.Context, a *signedInAdmin) (*directoryv1.Group, *caseworkv1.ListProceduresResponse, error) {
	var procs *caseworkv1.ListProceduresResponse
	var procErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		procs, procErr = s.api.ListProcedures(ctx)
	}()
	g, err := s.api.GetGroupAs(ctx, a.sess.Token, a.group.ID)
	<-done
	if err == nil {
		err = procErr
	}
	return g, procs, err
}

// settingsChoices fills the page's versions of the procedure, the chosen one
// checked.
func (p *settingsPage) settingsChoices(procs *caseworkv1.ListProceduresResponse) {
	p.Procedures = []choice{{Value: "", Label: "The standard version", Checked: p.Form.Procedure == ""}}
	for _, pr := range procs.GetProcedures() {
		label := pr.GetDisplayName()
		if label == "" {
			label = strings.TrimPrefix(pr.GetName(), "procedures/")
		}
		if pr.GetName() == procs.GetDefaultProcedure() {
			p.DefaultProcedure = label
		}
		p.Procedures = append(p.Procedures, choice{Value: pr.GetName(), Label: label, Hint: pr.GetDescription(), Checked: pr.GetName() == p.Form.Procedure})
	}
	if p.DefaultProcedure != "" {
		p.Procedures[0].Hint = "Today that is " + p.DefaultProcedure + "; it follows the website when that changes."
	}
}

// adminSettings shows the settings.
func (s *Site) adminSettings(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	g, procs, err := s.readGroupAndProcedures(r.Context(), a)
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	page := settingsPage{layout: a.layout("Procedure settings and retention"), Back: a.adminPath(""), Action: a.settingsPath(),
		Form: settingsOf(g), Etag: g.GetEtag(), FormID: newRequestID()}
	page.settingsChoices(procs)
	switch r.URL.Query().Get("done") {
	case "settings":
		page.Banner = &banner{Title: "The settings are saved", Next: "New cases follow them. A case keeps the version of the procedure it was opened under, and a sign-in made before keeps its length."}
	case "settings-unchanged":
		page.Banner = &banner{Title: "Nothing was changed", Next: "The settings were already as you sent them."}
	}
	page.fillHints()
	s.render(w, r, http.StatusOK, "admin-settings", page)
}

// wholeIn reads a whole number from lo to hi typed in field id; what is
// wrong goes into errs with what the field is (what) and its unit.
func wholeIn(typed, id, what, unit string, lo, hi int, errs *formErrors) int {
	n, err := strconv.Atoi(strings.TrimSpace(typed))
	switch {
	case strings.TrimSpace(typed) == "":
		errs.add(id, "Enter "+what+", in "+unit)
	case err != nil:
		errs.add(id, fmt.Sprintf("Enter %s as a whole number of %s, like %d", what, unit, lo))
	case n < lo || n > hi:
		errs.add(id, fmt.Sprintf("Enter %s between %d and %d %s", what, lo, hi, unit))
	}
	return n
}

// adminSettingsSubmit saves what was changed.
func (s *Site) adminSettingsSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	page := settingsPage{layout: a.layout("Procedure settings and retention"), Back: a.adminPath(""), Action: a.settingsPath(),
		Form: settingsForm{OverallWeeks: f.Get("overall-weeks"), FirstResponseDays: f.Get("first-response-days"),
			RetentionYears: f.Get("retention-years"), SessionHours: f.Get("session-hours"), Procedure: f.Get("procedure")},
		Etag: f.Get("etag"), FormID: f.Get("formId")}
	weeks := wholeIn(page.Form.OverallWeeks, "overall-weeks", "the aim for an outcome", "weeks", 1, 52, &page.Errors)
	days := wholeIn(page.Form.FirstResponseDays, "first-response-days", "the aim for a first response", "days", 1, 365, &page.Errors)
	if page.Errors.Get("overall-weeks") == "" && page.Errors.Get("first-response-days") == "" && days > weeks*7 {
		page.Errors.add("first-response-days", fmt.Sprintf("Enter a first response aim of at most %d days: it cannot be later than the aim for an outcome", weeks*7))
	}
	years := wholeIn(page.Form.RetentionYears, "retention-years", "how long closed cases are kept", "years", 1, 20, &page.Errors)
	hours := wholeIn(page.Form.SessionHours, "session-hours", "how long a sign-in lasts", "hours", 1, 720, &page.Errors)
	g, procs, err := s.readGroupAndProcedures(r.Context(), a)
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	page.settingsChoices(procs)
	if page.Errors.Any() {
		page.fillHints()
		s.render(w, r, http.StatusBadRequest, "admin-settings", page)
		return
	}
	// Only what was changed on the form is sent, so that a setting shown
	// rounded (an aim of 55 days shown as 8 weeks) is not rewritten.
	was := settingsOf(g)
	change := &directoryv1.ProcedureSettings{}
	var mask []string
	if strconv.Itoa(weeks) != was.OverallWeeks {
		change.OverallTarget, mask = durationpb.New(time.Duration(weeks)*week), append(mask, "procedureSettings.overallTarget")
	}
	if strconv.Itoa(days) != was.FirstResponseDays {
		change.FirstResponseTarget, mask = durationpb.New(time.Duration(days)*day), append(mask, "procedureSettings.firstResponseTarget")
	}
	if strconv.Itoa(years) != was.RetentionYears {
		change.Retention, mask = durationpb.New(time.Duration(years)*year), append(mask, "procedureSettings.retention")
	}
	if strconv.Itoa(hours) != was.SessionHours {
		change.MemberSessionLifetime, mask = durationpb.New(time.Duration(hours)*time.Hour), append(mask, "procedureSettings.memberSessionLifetime")
	}
	if page.Form.Procedure != was.Procedure {
		change.Procedure, mask = page.Form.Procedure, append(mask, "procedureSettings.procedure")
	}
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		if len(mask) == 0 {
			return doneAt(a.settingsPath(), "settings-unchanged"), nil
		}
		_, err := s.api.UpdateGroup(r.Context(), a.sess.Token, &directoryv1.Group{Name: "groups/" + a.group.ID, Etag: page.Etag, ProcedureSettings: change}, mask)
		if err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin changed the group's settings", slog.String("fields", strings.Join(mask, ",")))
		return doneAt(a.settingsPath(), "settings"), nil
	})
	switch {
	case err == nil:
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	case api.IsReason(err, "ETAG_MISMATCH"):
		// Show what is stored now beside what was typed, and take the new
		// etag: sending again then saves what is on the form.
		page.Stale, page.Now, page.Etag = true, was, g.GetEtag()
		page.Problem = "Someone changed these settings while you were on the page. What you typed is still here, with the settings as they are now under each field. Check them, then save again."
		page.fillHints()
		s.render(w, r, http.StatusConflict, "admin-settings", page)
	case api.IsReason(err, "CASEWORK_UNAVAILABLE") || unsent(err):
		page.Problem = "We could not save the settings because something on our side is not working. What you typed is still here: please try again in a few minutes."
		page.fillHints()
		s.render(w, r, http.StatusServiceUnavailable, "admin-settings", page)
	case fieldRefusals(err, &page.Errors, settingsFields, "overall-weeks"):
		page.fillHints()
		s.render(w, r, http.StatusBadRequest, "admin-settings", page)
	default:
		s.fail(w, r, a.group, err)
	}
}
