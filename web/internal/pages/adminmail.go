package pages

import (
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
)

// The admins' pages for the group's e-mails: the wording of each e-mail
// the group sends, with a preview, and the delivery log, with sending
// again what could not be delivered. Notification holds no confidential
// text in either (templates see names, links and identifiers only; the log
// holds no message bodies), and these pages add none.

// templateInfo says, in plain words, what one of the group's e-mails is
// for and which placeholders its wording may use.
type templateInfo struct {
	Title, Purpose string
	// Fields are the placeholders the template is given.
	Fields []string
}

// The placeholders most e-mails share: to members, to the client, to link
// groups.
var (
	memberFields    = []string{"RecipientName", "GroupName", "SignInURL", "Reference"}
	clientFields    = []string{"GroupName", "SignInURL"}
	linkGroupFields = []string{"RecipientName", "GroupName", "Reference"}
)

// templateInfos are the e-mails notification sends, by template id (its
// key with hyphens). An id not here (a template added to notification
// since) is shown with fallbackFields and a plain title.
var templateInfos = map[string]templateInfo{
	"concern-registered":            {"A new concern", "To every active member, when a client raises a concern. It says nothing of who raised it or what it is about.", memberFields},
	"spt-nominated":                 {"Asked to support the practitioner", "To the member the practitioner asks to be their support person.", memberFields},
	"nomination-answered":           {"The answer to being asked", "To the practitioner, when the member they asked to support them answers.", memberFields},
	"support-appointed-spc":         {"Chosen as the client's support person", "To the member chosen to support the client.", memberFields},
	"support-appointed-lp":          {"Chosen as the liaison person", "To the member chosen as the liaison person.", memberFields},
	"link-groups-informed":          {"A link group told of a concern", "To each of the group's link groups, when the liaison person tells them a concern has been raised.", linkGroupFields},
	"progress-reported":             {"A progress report for a link group", "To each of the group's link groups, when the liaison person writes a progress report.", memberFields},
	"meeting-proposed":              {"Times offered for a meeting", "To the members who take part in a meeting, when times are offered.", memberFields},
	"meeting-proposed-client":       {"Times offered to the client", "To the client, when times to meet are offered.", clientFields},
	"meeting-confirmed":             {"A meeting arranged", "To the members who take part in a meeting, when its time is fixed.", memberFields},
	"meeting-confirmed-client":      {"A meeting arranged, to the client", "To the client, when a meeting's time is fixed.", clientFields},
	"statement-draft-client":        {"The written statement to read", "To the client, when their support person has written the statement for them to read.", clientFields},
	"statement-answered":            {"The client answered the written statement", "To the client's support person, when the client approves the written statement or asks for changes.", memberFields},
	"statement-conveyed":            {"The written statement passed on", "To the practitioner, when the written statement is passed to them.", memberFields},
	"statement-conveyed-spt":        {"The written statement passed on, to the practitioner's support person", "To the practitioner's support person, when the written statement is passed on.", memberFields},
	"response-recorded":             {"The practitioner responded", "To the client's support person, when the practitioner's response is recorded.", memberFields},
	"response-relayed-client":       {"The practitioner's response, to the client", "To the client, when the practitioner's response is passed to them.", clientFields},
	"client-decided":                {"The client decided", "To the client's support person and the liaison person, when the client says what should happen next.", memberFields},
	"case-closed":                   {"A case closed", "To everyone in the case, when it closes.", memberFields},
	"case-closed-client":            {"The case closed, to the client", "To the client, when their case closes.", clientFields},
	"case-withdrawn":                {"A concern withdrawn", "To everyone in the case, when the client withdraws.", memberFields},
	"case-withdrawn-client":         {"The concern withdrawn, to the client", "To the client, when they withdraw.", clientFields},
	"message-to-spc":                {"A message from the client", "To the client's support person, when the client writes. It never holds the message's words.", memberFields},
	"message-to-client":             {"A message for the client", "To the client, when their support person writes. It never holds the message's words.", clientFields},
	"reminder":                      {"A reminder", "To the members with a step to take, before one of the group's time aims runs out.", append(memberFields[:4:4], "Target", "Deadline")},
	"reminder-client":               {"A reminder, to the client", "To the client, when a step is theirs before one of the group's time aims runs out.", append(clientFields[:2:2], "Target", "Deadline")},
	"overdue":                       {"A time aim has run out", "To the members with a step to take, and to the admins, once one of the group's time aims has run out.", append(memberFields[:4:4], "Target", "Deadline")},
	"overdue-client":                {"A time aim has run out, to the client", "To the client, once a time aim has run out while a step is theirs.", append(clientFields[:2:2], "Target", "Deadline")},
	"digest":                        {"The daily summary", "Once a day, to the members who asked for it: the steps that are theirs to take.", []string{"RecipientName", "GroupName", "SignInURL", "Items"}},
	"deliveries-dead":               {"E-mails that could not be delivered", "To the admins, when e-mails could not be delivered after repeated attempts.", memberFields},
	"incoming-link-groups-informed": {"A concern raised with a group you are a link group for", "To the admins, when a group that has yours as a link group tells you of a concern.", append(memberFields[:4:4], "FromGroupName")},
	"incoming-progress-reported":    {"A progress report from a group you are a link group for", "To the admins, when a group that has yours as a link group sends a progress report.", append(memberFields[:4:4], "FromGroupName")},
	"sign-in-link":                  {"A member's link to sign in", "To a member who asks for a link to sign in. The link must stay in the body, and out of the subject.", []string{"RecipientName", "GroupName", "SignInURL", "AskedFor", "AskedAt", "AskedFrom", "ExpiresAt"}},
	"client-sign-in-link":           {"A client's links to their concerns", "To a client who asks for a link to their concerns by e-mail. Every link must stay in the body.", []string{"GroupName", "Links", "AskedFor", "AskedAt", "AskedFrom", "ExpiresAt"}},
}

// fallbackFields are every placeholder a template may be given, for a
// template this site has no words for.
var fallbackFields = []string{"RecipientName", "GroupName", "SignInURL", "Reference"}

// placeholderWords say what each placeholder becomes in an e-mail.
var placeholderWords = map[string]string{
	"RecipientName": "the name of the person (or link group) it goes to",
	"GroupName":     "your group's name",
	"SignInURL":     "the link to the page the e-mail is about, on this website",
	"Reference":     "the case's identifier, which lets a member find it; it says nothing about the client",
	"Target":        "which of the group's time aims it is about, for example the first response",
	"Deadline":      "the date that aim runs out",
	"Items":         "the steps, one a line: write {{range .Items}} … {{end}}, and inside it {{.Step}} for the step and {{.Case}} for the case's identifier",
	"FromGroupName": "the name of the group that sent the notice",
	"AskedFor":      "the e-mail address the link was asked for",
	"AskedAt":       "when it was asked for, in UK time",
	"AskedFrom":     "roughly where it was asked from; may be empty",
	"ExpiresAt":     "when the link stops working",
	"Links":         "one link per concern: write {{range .Links}} … {{end}}, and inside it {{.Reference}} for the concern's reference and {{.URL}} for its link",
}

// templateInfoFor is what the site says of the template with that id.
func templateInfoFor(id string) templateInfo {
	if info, ok := templateInfos[id]; ok {
		return info
	}
	title := strings.ReplaceAll(id, "-", " ")
	if title != "" {
		title = strings.ToUpper(title[:1]) + title[1:]
	}
	return templateInfo{Title: title, Purpose: "An e-mail the group sends.", Fields: fallbackFields}
}

// templateID is the id of a template's resource name.
func templateID(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// adminTemplatesPage lists the group's e-mails.
type adminTemplatesPage struct {
	layout
	BackPath  string
	Templates []templateRow
}

// templateRow is one e-mail of the list.
type templateRow struct {
	ID, Title, Purpose, Path string
	// Changed: the group has its own wording.
	Changed bool
}

// adminTemplates lists the group's e-mails, and whether the group changed
// each from the standard wording.
func (s *Site) adminTemplates(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	ts, err := s.api.ListTemplates(r.Context(), a.sess.Token, a.group.ID)
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	page := adminTemplatesPage{layout: a.layout("E-mail wording"), BackPath: a.adminPath("")}
	for _, t := range ts {
		id := templateID(t.GetName())
		if !api.ValidID(id) {
			continue
		}
		info := templateInfoFor(id)
		page.Templates = append(page.Templates, templateRow{ID: id, Title: info.Title, Purpose: info.Purpose,
			Path: a.adminPath("templates/" + id), Changed: t.GetOverridden()})
	}
	s.render(w, r, http.StatusOK, "admin-templates", page)
}

// adminTemplatePage is one e-mail's wording, to preview and change.
type adminTemplatePage struct {
	layout
	Banner                *banner
	BackPath, Action      string
	RestorePath           string
	Purpose               string
	Placeholders          []placeholder
	Subject, Text, HTML   string
	PlainText, Changed    bool
	FormID, RestoreFormID string
	Preview               *renderedView
	Problem               string
	UpdatedWords          string
	templateName          string
}

// placeholder is one thing a wording may insert, and what it becomes.
type placeholder struct {
	Code, Words string
}

// renderedView is an e-mail as it would be received, with sample values.
type renderedView struct {
	Subject, Text, HTML string
}

// maxTemplateForm bounds a posted wording: three parts of up to 20,000
// characters, four bytes each at most, with room to spare.
const maxTemplateForm = 3*20000*4*3 + 16<<10

// templateBanners say what was done to a wording.
var templateBanners = map[string]banner{
	"saved":     {Title: "The new wording is saved", Next: "The group's e-mails of this kind use it from now on."},
	"unchanged": {Title: "Nothing to save", Next: "The wording is as it was.", Important: true},
	"restored":  {Title: "The standard wording is back", Next: "The group's e-mails of this kind use it from now on."},
}

// loadTemplatePage reads the template the path names into its page.
func (s *Site) loadTemplatePage(w http.ResponseWriter, r *http.Request, a *signedInAdmin) (*adminTemplatePage, *notificationv1.Template, bool) {
	id := r.PathValue("template")
	if !api.ValidID(id) {
		s.notFoundIn(w, r, a.group)
		return nil, nil, false
	}
	name := "groups/" + a.group.ID + "/templates/" + id
	t, err := s.api.GetTemplate(r.Context(), a.sess.Token, name)
	if err != nil {
		s.fail(w, r, a.group, err)
		return nil, nil, false
	}
	info := templateInfoFor(id)
	page := &adminTemplatePage{
		layout: a.layout(info.Title), BackPath: a.adminPath("templates"), Action: a.adminPath("templates/" + id),
		RestorePath: a.adminPath("templates/" + id + "/restore"), Purpose: info.Purpose,
		Subject: t.GetSubject(), Text: t.GetTextBody(), HTML: t.GetHtmlBody(), PlainText: t.GetPlainText(), Changed: t.GetOverridden(),
		FormID: newRequestID(), RestoreFormID: newRequestID(), templateName: name,
	}
	if t.GetOverridden() && t.GetUpdateTime() != nil {
		page.UpdatedWords = "The group's own wording, set " + momentWords(t.GetUpdateTime().AsTime(), s.london) + "."
	}
	for _, f := range info.Fields {
		page.Placeholders = append(page.Placeholders, placeholder{Code: "{{." + f + "}}", Words: placeholderWords[f]})
	}
	return page, t, true
}

// adminTemplate shows one e-mail's wording.
func (s *Site) adminTemplate(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	page, _, ok := s.loadTemplatePage(w, r, a)
	if !ok {
		return
	}
	if b, ok := templateBanners[r.URL.Query().Get("done")]; ok {
		page.Banner = &b
	}
	s.render(w, r, http.StatusOK, "admin-template", *page)
}

// adminTemplateSubmit previews the wording typed, or saves it; what was
// typed is kept on every answer.
func (s *Site) adminTemplateSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxTemplateForm) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	page, current, ok := s.loadTemplatePage(w, r, a)
	if !ok {
		return
	}
	f := r.PostForm
	page.Subject, page.Text, page.FormID = singleLine(f.Get("subject")), multiLine(f.Get("text-body")), f.Get("formId")
	if !page.PlainText {
		page.HTML = multiLine(f.Get("html-body"))
	}
	for id, v := range map[string]string{"subject": page.Subject, "text-body": page.Text, "html-body": page.HTML} {
		limit := 20000
		if id == "subject" {
			limit = 1000
		}
		if utf8.RuneCountInString(v) > limit {
			page.Errors.add(id, "Make it shorter: at most "+thousands(limit)+" characters")
		}
	}
	if page.Errors.Any() {
		s.render(w, r, http.StatusBadRequest, "admin-template", *page)
		return
	}
	draft := &notificationv1.Template{Subject: page.Subject, TextBody: page.Text, HtmlBody: page.HTML}
	if f.Get("action") != "save" {
		rendered, err := s.api.PreviewTemplate(r.Context(), a.sess.Token, page.templateName, draft)
		if err != nil {
			s.templateRefused(w, r, a, page, err, "draft.")
			return
		}
		page.Preview = previewView(rendered)
		s.render(w, r, http.StatusOK, "admin-template", *page)
		return
	}
	// Only the parts that differ from the wording now are sent, so that a
	// part left as it was keeps following the standard wording.
	var mask []string
	if draft.GetSubject() != current.GetSubject() {
		mask = append(mask, "subject")
	}
	if draft.GetTextBody() != current.GetTextBody() {
		mask = append(mask, "textBody")
	}
	if !page.PlainText && draft.GetHtmlBody() != current.GetHtmlBody() {
		mask = append(mask, "htmlBody")
	}
	draft.Name = page.templateName
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		if len(mask) == 0 {
			return page.Action + "?done=unchanged", nil
		}
		if _, err := s.api.UpdateTemplate(r.Context(), a.sess.Token, draft, mask); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin changed an e-mail's wording", slog.String("template", page.templateName))
		return page.Action + "?done=saved", nil
	})
	if err != nil {
		s.templateRefused(w, r, a, page, err, "template.")
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// templateFields are the form's fields for the parts of a wording the API
// names, as the JSON body and the proto spell them.
var templateFields = map[string]string{
	"subject": "subject", "textBody": "text-body", "text_body": "text-body", "htmlBody": "html-body", "html_body": "html-body",
}

// templateRefused shows the form again with why the API refused the
// wording: at the part it names, or above the form.
func (s *Site) templateRefused(w http.ResponseWriter, r *http.Request, a *signedInAdmin, page *adminTemplatePage, err error, prefix string) {
	e, isAPI := api.AsError(err)
	switch {
	case isAPI && e.Status == http.StatusBadRequest && len(e.Fields) > 0:
		for _, f := range e.Fields {
			id, ok := templateFields[strings.TrimPrefix(f.Field, prefix)]
			if !ok {
				id = "subject"
			}
			if page.Errors.Get(id) == "" {
				page.Errors.add(id, "Check this: "+sentence(memberRoleWords.Replace(f.Description)))
			}
		}
		s.render(w, r, http.StatusBadRequest, "admin-template", *page)
	case unsent(err):
		page.Problem = "We could not do this because something on our side is not working. What you typed is still here: please try again in a few minutes."
		s.render(w, r, http.StatusServiceUnavailable, "admin-template", *page)
	default:
		s.fail(w, r, a.group, err)
	}
}

// sampleCase is a case's identifier in a preview's sample values: the
// preview shows words for it, since pages never show identifiers.
var sampleCase = regexp.MustCompile(`groups/[a-z0-9-]+/cases/[0-9a-z-]+`)

// previewView is a rendered e-mail for the page.
func previewView(m *notificationv1.RenderedMessage) *renderedView {
	const ref = "[the case's identifier]"
	return &renderedView{
		Subject: sampleCase.ReplaceAllString(m.GetSubject(), ref),
		Text:    sampleCase.ReplaceAllString(m.GetTextBody(), ref),
		HTML:    sampleCase.ReplaceAllString(m.GetHtmlBody(), ref),
	}
}

// adminTemplateRestore brings the standard wording back.
func (s *Site) adminTemplateRestore(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, 16<<10) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	id := r.PathValue("template")
	if !api.ValidID(id) {
		s.notFoundIn(w, r, a.group)
		return
	}
	name := "groups/" + a.group.ID + "/templates/" + id
	path := a.adminPath("templates/" + id)
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		if _, err := s.api.UpdateTemplate(r.Context(), a.sess.Token, &notificationv1.Template{Name: name}, []string{"*"}); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin restored an e-mail's standard wording", slog.String("template", name))
		return path + "?done=restored", nil
	})
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// adminDeliveriesPage is a page of the delivery log.
type adminDeliveriesPage struct {
	layout
	Banner    *banner
	BackPath  string
	Action    string
	Failed    bool
	AllPath   string
	FailPath  string
	Rows      []deliveryRow
	NextPath  string
	FirstPath string
	FormID    string
}

// deliveryRow is one e-mail of the log.
type deliveryRow struct {
	ID        string
	When      time.Time
	To, What  string
	State     string
	Attempts  int
	Sent      *time.Time
	Why       string
	Dead      bool
	CasePath  string
	RetryPath string
	FormID    string
}

// deliveryStateWords say how far an e-mail got.
var deliveryStateWords = map[notificationv1.Delivery_State]string{
	notificationv1.Delivery_STATE_PENDING: "Waiting to be sent",
	notificationv1.Delivery_STATE_SENT:    "Sent",
	notificationv1.Delivery_STATE_DEAD:    "Could not be delivered",
}

// eventWords say what an e-mail was about, by the event that caused it.
var eventWords = map[string]string{
	"ipn.disputes.events.v1.ConcernRegistered":    "A new concern",
	"ipn.disputes.events.v1.CaseStepTaken":        "A step taken in a case",
	"ipn.disputes.events.v1.CaseMessagePosted":    "A new message in a case",
	"ipn.disputes.events.v1.CaseTimerFired":       "A reminder, or a time aim that ran out",
	"ipn.disputes.notification.v1.DailyDigest":    "The daily summary",
	"ipn.disputes.notification.v1.DeliveriesDead": "E-mails that could not be delivered",
	"ipn.disputes.federation.v1.IncomingNotice":   "A notice from a group you are a link group for",
	"ipn.disputes.events.v1.CaseOpened":           "A case opened",
}

// deliveryBanners say what sending again did.
var deliveryBanners = map[string]banner{
	"retried":  {Title: "The e-mail will be sent again", Next: "It is waiting to be sent; this log shows when it has gone."},
	"not-dead": {Title: "That e-mail was not waiting to be sent again", Next: "It has been sent, or is being sent, already.", Important: true},
}

// deliveryPageToken is the form of a page token the site passes on: the
// API's tokens are URL-safe text; anything else is not one of them.
var deliveryPageToken = regexp.MustCompile(`^[A-Za-z0-9_=+/.-]{1,512}$`)

// adminDeliveries shows a page of the delivery log, newest first: every
// e-mail, or only those that could not be delivered.
func (s *Site) adminDeliveries(w http.ResponseWriter, r *http.Request) {
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	failed := q.Get("state") == "failed"
	filter := api.DeliveryFilter{PageSize: 50}
	if failed {
		filter.State = notificationv1.Delivery_STATE_DEAD
	}
	if tok := q.Get("page"); tok != "" {
		if !deliveryPageToken.MatchString(tok) {
			s.notFoundIn(w, r, a.group)
			return
		}
		filter.PageToken = tok
	}
	list, err := s.api.ListDeliveries(r.Context(), a.sess.Token, a.group.ID, filter)
	if err != nil {
		if e, ok := api.AsError(err); ok && e.Status == http.StatusBadRequest {
			// A page token that no longer reads (edited, or very old): the
			// newest page instead.
			http.Redirect(w, r, deliveriesPath(a, failed, ""), http.StatusSeeOther)
			return
		}
		s.fail(w, r, a.group, err)
		return
	}
	page := adminDeliveriesPage{
		layout: a.layout("E-mails sent"), BackPath: a.adminPath(""), Action: a.adminPath("deliveries/retry-dead"),
		Failed: failed, AllPath: deliveriesPath(a, false, ""), FailPath: deliveriesPath(a, true, ""), FormID: newRequestID(),
	}
	page.Banner = deliveriesBanner(q)
	if tok := list.GetNextPageToken(); tok != "" {
		page.NextPath = deliveriesPath(a, failed, tok)
	}
	if filter.PageToken != "" {
		page.FirstPath = deliveriesPath(a, failed, "")
	}
	page.Rows = s.deliveryRows(r, a, list.GetDeliveries(), failed)
	s.render(w, r, http.StatusOK, "admin-deliveries", page)
}

// deliveriesBanner is the banner after sending again, from the query.
func deliveriesBanner(q url.Values) *banner {
	if q.Get("done") == "retried-all" {
		n, err := strconv.Atoi(q.Get("count"))
		switch {
		case err != nil || n < 0:
			return nil
		case n == 0:
			return &banner{Title: "No e-mail was waiting to be sent again", Next: "Every e-mail that could not be delivered has been sent again already, or none failed.", Important: true}
		default:
			return &banner{Title: strconv.Itoa(n) + plural(n, " e-mail", " e-mails") + " will be sent again",
				Next: "Each gets a fresh round of attempts. If the reason was a wrong address, correct it first, or it will fail again."}
		}
	}
	if b, ok := deliveryBanners[q.Get("done")]; ok {
		return &b
	}
	return nil
}

// deliveriesPath is the log's page: only failed ones, from a page token.
func deliveriesPath(a *signedInAdmin, failed bool, token string) string {
	q := url.Values{}
	if failed {
		q.Set("state", "failed")
	}
	if token != "" {
		q.Set("page", token)
	}
	p := a.adminPath("deliveries")
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// deliveryRows puts the log's rows in words: who each went to (a member's
// or link group's name, or the client of a case), what about, how far.
func (s *Site) deliveryRows(r *http.Request, a *signedInAdmin, ds []*notificationv1.Delivery, failed bool) []deliveryRow {
	var members []string
	linkGroups := false
	for _, d := range ds {
		switch {
		case strings.Contains(d.GetRecipient(), "/members/"):
			members = append(members, d.GetRecipient())
		case strings.Contains(d.GetRecipient(), "/linkGroups/"):
			linkGroups = true
		}
	}
	names := s.memberNames(r, members...)
	if linkGroups {
		lgs, err := s.api.ListLinkGroups(r.Context(), a.sess.Token, a.group.ID)
		if err != nil {
			s.logError(r.Context(), r, "reading the link groups' names failed", err)
		}
		for _, lg := range lgs {
			names[lg.GetName()] = lg.GetDisplayName()
		}
	}
	rows := make([]deliveryRow, 0, len(ds))
	for _, d := range ds {
		id := d.GetName()[strings.LastIndex(d.GetName(), "/")+1:]
		row := deliveryRow{
			ID: id, When: d.GetCreateTime().AsTime(), To: recipientWords(names, d.GetRecipient()),
			What: eventWords[d.GetEventType()], State: deliveryStateWords[d.GetState()], Attempts: int(d.GetAttempts()),
			Dead: d.GetState() == notificationv1.Delivery_STATE_DEAD, FormID: newRequestID(),
		}
		if row.What == "" {
			row.What = "A message from the group"
		}
		if t := d.GetSendTime(); t != nil && d.GetState() == notificationv1.Delivery_STATE_SENT {
			sent := t.AsTime()
			row.Sent = &sent
		}
		if d.GetState() != notificationv1.Delivery_STATE_SENT {
			// Why the last attempt failed: the mail server's words, with
			// the address blanked out and never a message's content.
			row.Why = d.GetLastError()
		}
		if c := d.GetCase(); c != "" {
			if cid, ok := strings.CutPrefix(c, "groups/"+a.group.ID+"/cases/"); ok && api.ValidID(cid) {
				row.CasePath = a.casePath(cid)
			}
		}
		if row.Dead && api.ValidID(id) {
			row.RetryPath = a.adminPath("deliveries/" + id + "/retry")
			if failed {
				row.RetryPath += "?state=failed"
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// recipientWords is whom an e-mail went to, in words that follow "To "
// (a name, or "the client of the case").
func recipientWords(names map[string]string, recipient string) string {
	switch {
	case strings.HasSuffix(recipient, "/client"):
		return "the client of the case"
	case strings.Contains(recipient, "/linkGroups/"):
		if n := names[recipient]; n != "" {
			return n + " (a link group)"
		}
		return "a link group"
	case strings.Contains(recipient, "/members/"):
		return personName(names, recipient)
	}
	return "someone outside the group"
}

// adminDeliveryRetry sends one dead e-mail again.
func (s *Site) adminDeliveryRetry(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, 16<<10) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	id := r.PathValue("delivery")
	if !api.ValidID(id) {
		s.notFoundIn(w, r, a.group)
		return
	}
	failed := r.URL.Query().Get("state") == "failed"
	name := "groups/" + a.group.ID + "/deliveries/" + id
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		_, err := s.api.RetryDelivery(r.Context(), a.sess.Token, name)
		if api.IsReason(err, "DELIVERY_NOT_DEAD") {
			return withDone(deliveriesPath(a, failed, ""), "not-dead"), nil
		}
		if err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin sent an e-mail again", slog.String("delivery", name))
		return withDone(deliveriesPath(a, failed, ""), "retried"), nil
	})
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// adminDeliveriesRetryDead sends every dead e-mail of the group again.
func (s *Site) adminDeliveriesRetryDead(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, 16<<10) {
		return
	}
	a, ok := s.loadAdmin(w, r)
	if !ok {
		return
	}
	next, _, err := s.forms.do(formID(r, a.sess), func() (string, error) {
		n, err := s.api.RetryDeadDeliveries(r.Context(), a.sess.Token, a.group.ID)
		if err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "admin sent every failed e-mail again", slog.String("group", a.group.ID), slog.Int("count", n))
		return withDone(deliveriesPath(a, true, ""), "retried-all") + "&count=" + strconv.Itoa(n), nil
	})
	if err != nil {
		s.fail(w, r, a.group, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// withDone is path with the banner done added to its query.
func withDone(path, done string) string {
	if strings.Contains(path, "?") {
		return path + "&done=" + url.QueryEscape(done)
	}
	return path + "?done=" + url.QueryEscape(done)
}
