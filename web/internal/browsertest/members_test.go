package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/web/internal/confidentiality"
)

// everyone are the demo group's members, each a party to the
// confidentiality table with their own browser.
var everyone = []string{"alex-morgan", "bea-lindqvist", "cal-reyes", "dana-holt", "eli-nakamura", "fran-okafor"}

// longPath is the whole long path of a case in the browser, with nothing
// over REST: the client on their pages, each member signed in from the link
// the mail catcher received, in a browser context of their own (their own
// cookies), taking every step by clicking and typing on its form. The
// confidentiality table is part of the walk's state (secrets), changed
// right before the step that changes it. After every step, every action of
// the client's, the message, the note and every attempt refused, with
// JavaScript and without, it reads every party's pages with that party's
// cookies (read) and holds what each could read to the table as it stands
// (after). At a few stages it also opens every party's pages in their own
// tab, each checked as every page is (hold: headers, words, headings,
// screenshots, axe at axeStages).
type longPath struct {
	t      *testing.T
	sys    *system
	b      *chrome
	script bool
	axe    string
	shots  string

	client *tab
	// clientCase is the client's case page, caseID its id.
	clientCase, caseID string
	members            map[string]*tab
	// checked are the names of the pages checked so far, across the
	// parties' tabs, so that a screenshot is saved once.
	checked map[string]bool
	london  *time.Location
	// secrets are the confidentiality table as it stands at this point of
	// the walk: each is added right before the step that writes its text,
	// and its Readers change right before the step that lets a party read
	// it or stops them, so that every check holds the pages to the table
	// as it stands.
	secrets []*confidentiality.Secret
	// readers are each party's reading tab (see openReader).
	readers map[string]context.Context
}

// secret adds a secret to the table, with the parties who read it once
// the next step has written it.
func (w *longPath) secret(what, text string, readers ...string) *confidentiality.Secret {
	s := &confidentiality.Secret{What: what, Text: text, Readers: readers}
	w.secrets = append(w.secrets, s)
	return s
}

// table is the confidentiality table as it stands.
func (w *longPath) table() []confidentiality.Secret {
	out := make([]confidentiality.Secret, len(w.secrets))
	for i, s := range w.secrets {
		out[i] = *s
	}
	return out
}

// memberCase is the members' page of the case.
func (w *longPath) memberCase() string { return "/riverside/members/cases/" + w.caseID }

// check checks the page the tab shows under name, and saves it as
// screenshots the first time a page of that name is checked on any tab;
// later pages of the name are checked under name, who and a number.
func (w *longPath) check(tb *tab, who, name string, p page) {
	w.t.Helper()
	p.name = name
	for n := 1; w.checked[p.name]; n++ {
		p.name, p.noShots = fmt.Sprintf("%s-%s-%d", name, who, n), true
	}
	w.checked[p.name] = true
	tb.check(p)
}

// signIn signs the member in as a person does: the members' sign-in page,
// the address typed, the link from the mail opened, the button pressed.
func (w *longPath) signIn(member string) *tab {
	w.t.Helper()
	t := w.t
	var email string
	for _, p := range demo.Members {
		if p.ID == member {
			email = p.Email
		}
	}
	tb := w.b.newTab(t, w.sys.WebURL(), w.script, w.axe, w.shots)
	tb.open("/riverside/members/sign-in")
	w.check(tb, member, "member-sign-in", page{public: true, see: []string{"Send me a sign-in link"}})
	tb.typeInto("email", email)
	tb.click("send-link")
	w.check(tb, member, "member-link-sent", page{public: true, see: []string{"a link to sign in is on its way"}})
	link := w.mailedLink(email)
	if !strings.HasPrefix(link, tb.site.String()+"/") {
		t.Fatalf("the sign-in link %q is not on the website %s", link, tb.site)
	}
	tb.load(chromedp.Navigate(link))
	w.check(tb, member, "member-link", page{see: []string{"Press the button to sign in"}})
	tb.click("sign-in")
	if loc := tb.where(); loc != tb.site.String()+"/riverside/members/" {
		t.Fatalf("%s signing in led to %s", member, loc)
	}
	w.check(tb, member, "member-my-work", page{see: []string{"Cases waiting for you"}})
	w.members[member] = tb
	w.openReader(member, tb)
	return tb
}

// signInLink finds a sign-in link in a mail's text.
var signInLink = regexp.MustCompile(`https?://\S+/sign-in/[a-z2-7]{40,80}\b`)

// mailedLink waits for a sign-in mail to the address whose link no walk
// has taken, and returns its link. (Two walks at once may each use the
// other's mail: a link signs in whoever opens it first.)
func (w *longPath) mailedLink(email string) string {
	w.t.Helper()
	var link string
	testenv.Eventually(w.t, 30*time.Second, "the sign-in mail to "+email, func() bool {
		msgs, err := w.sys.mail.Messages(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		w.sys.mailMu.Lock()
		defer w.sys.mailMu.Unlock()
		for _, msg := range msgs {
			if w.sys.mailTaken[msg.ID] || !strings.HasPrefix(msg.Subject, "Your link to sign in") ||
				!slices.ContainsFunc(msg.To, func(a testenv.Address) bool { return a.Address == email }) {
				continue
			}
			w.sys.mailTaken[msg.ID] = true
			body, err := w.sys.mail.Body(context.Background(), msg.ID)
			if err != nil {
				w.t.Fatal(err)
			}
			if link = signInLink.FindString(body.Text); link != "" {
				return true
			}
		}
		return false
	})
	return link
}

// openCase opens the case as the member does: My work, then the case's
// link there.
func (w *longPath) openCase(member string) *tab {
	w.t.Helper()
	tb := w.members[member]
	tb.open("/riverside/members/")
	tb.clickCSS(`#case-` + w.caseID + ` a`)
	return tb
}

// slug is a step's id as a page's name.
func slug(step string) string { return strings.ReplaceAll(step, "_", "-") }

// step takes a step as the member: the case from My work, the step's link
// under "What you need to do", its form filled in by fill, Send; then the
// case says it is done, and every party's pages hold to the table (after),
// which it returns as read.
func (w *longPath) step(member, step string, fill func(tb *tab)) map[string]string {
	w.t.Helper()
	tb := w.openCase(member)
	tb.click("step-" + step)
	title := tb.heading()
	w.check(tb, member, "member-step-"+slug(step), page{see: []string{title}})
	if fill != nil {
		fill(tb)
	}
	tb.click("take-step")
	if loc := tb.where(); loc != tb.site.String()+w.memberCase()+"?done=step&step="+step {
		w.t.Fatalf("%s took %s and came to %s:\n%s", member, step, loc, eval[string](tb, `document.body.innerText`))
	}
	w.check(tb, member, "member-case-done", page{see: []string{"Done: " + title}})
	return w.after(step + " by " + member)
}

// refused fills in the step's form as fill does and expects it back with
// status and what it says, under the page name; every party's pages still
// hold to the table (after).
func (w *longPath) refused(member, step, name string, fill func(tb *tab), status int, see ...string) *tab {
	w.t.Helper()
	tb := w.openCase(member)
	tb.click("step-" + step)
	fill(tb)
	tb.click("take-step")
	w.check(tb, member, name, page{status: status, see: append(see, "Please check your answers")})
	w.after(step + " by " + member + ", refused")
	return tb
}

// pick chooses the option with the value in the select, by typing its
// words with the select focused, as a person does with the keyboard.
func (tb *tab) pick(id, value string) {
	tb.t.Helper()
	label := eval[string](tb, fmt.Sprintf(`[...document.getElementById(%q).options].find(o => o.value === %q).text`, id, value))
	tb.do(chromedp.Focus(chromedp.ID(id)), chromedp.KeyEvent(label))
	if got := tb.value(id); got != value {
		tb.t.Fatalf("%s: typing %q into %s chose %q, want %q", tb.where(), label, id, got, value)
	}
}

// chooseValue clicks the radio button or checkbox of the field name with
// the value.
func (tb *tab) chooseValue(name, value string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=%q][value=%q]`, name, value))))
}

// typeDate types the date (2006-01-02) into a date field, as a person
// does: day, month and year in the order the browser's locale shows them
// (month first in Chromium's default, day first in a British one).
func (tb *tab) typeDate(id, date string) {
	tb.t.Helper()
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		tb.t.Fatal(err)
	}
	var keys strings.Builder
	for _, part := range eval[[]string](tb, `new Intl.DateTimeFormat().formatToParts(new Date(2006, 0, 2)).map(p => p.type).filter(t => t !== "literal")`) {
		keys.WriteString(d.Format(map[string]string{"day": "02", "month": "01", "year": "2006"}[part]))
	}
	tb.do(chromedp.Focus(chromedp.ID(id)), chromedp.KeyEvent(keys.String()))
	if got := tb.value(id); got != date {
		tb.t.Fatalf("%s: typing %s as %s into the date field %s gave %q", tb.where(), date, keys.String(), id, got)
	}
}

// typeTime types a time (15:04) into a time field: the hours and minutes
// of the 24-hour clock, or where the browser's locale shows the time with
// AM and PM, of the 12-hour clock and then A or P.
func (tb *tab) typeTime(id, clock string) {
	tb.t.Helper()
	c, err := time.Parse("15:04", clock)
	if err != nil {
		tb.t.Fatal(err)
	}
	keys := c.Format("1504")
	if eval[bool](tb, `!!new Intl.DateTimeFormat([], {hour: "numeric"}).resolvedOptions().hour12`) {
		keys = c.Format("0304PM")[:5]
	}
	tb.do(chromedp.Focus(chromedp.ID(id)), chromedp.KeyEvent(keys))
	if got := tb.value(id); got != clock {
		tb.t.Fatalf("%s: typing %s as %s into the time field %s gave %q", tb.where(), clock, keys, id, got)
	}
}

// retype selects what a field holds and types text over it.
func (tb *tab) retype(id, text string) {
	tb.t.Helper()
	eval[chromedp.Void](tb, fmt.Sprintf(`document.getElementById(%q).select()`, id))
	tb.do(chromedp.SendKeys(chromedp.ID(id), text))
	if got := tb.value(id); got != text {
		tb.t.Fatalf("%s: %s holds %q after typing %q over it", tb.where(), id, got, text)
	}
}

// heading is the page's h1.
func (tb *tab) heading() string {
	tb.t.Helper()
	return eval[string](tb, `document.querySelector("h1").innerText.trim()`)
}

// slot types one time of a proposal: its date, start and end.
func (tb *tab) slot(n int, date, start, end string) {
	tb.t.Helper()
	tb.typeDate(fmt.Sprintf("slot-%d-date", n), date)
	tb.typeTime(fmt.Sprintf("slot-%d-start", n), start)
	tb.typeTime(fmt.Sprintf("slot-%d-end", n), end)
}

// memberPages are the pages a member can open about the case, by the name
// their screenshots take: My work, the case, the concern, the documents,
// the meetings, and the messages and notes (supportOnly: the client's
// support person's alone, anyone else gets 403).
var memberPages = []struct {
	name, path  string
	supportOnly bool
}{
	{"my-work", "", false}, {"case", "case", false}, {"concern", "/concern", false}, {"documents", "/documents", false},
	{"meetings", "/meetings", false}, {"messages", "/messages", true}, {"notes", "/notes", true},
}

// memberPage is the path of one of memberPages.
func (w *longPath) memberPage(path string) string {
	switch path {
	case "":
		return "/riverside/members/"
	case "case":
		return w.memberCase()
	}
	return w.memberCase() + path
}

// clientPages are the client's pages of the case.
var clientPages = []string{"", "/meetings", "/written-statement", "/response", "/messages"}

// axeStages are the stages after which hold puts every party's pages
// through axe too: early, with the statement conveyed, and closed. axe
// takes about a second a page, and each stage opens 47 pages; every step's
// form, and every other page the walk shows, goes through axe each time.
// The walk without JavaScript holds these stages alone, without axe: its
// pages are the same as with it, and it is there to take every step's form
// without script (the table it holds after every step, as the walk with
// JavaScript does: see after).
var axeStages = []string{"appointment", "the statement conveyed", "the case closed"}

// seen opens every party's pages as they stand, each checked, and returns
// what each party could read there. shots names the members whose pages
// are saved as screenshots at this stage, with the words that name their
// part (member-case-support).
func (w *longPath) seen(stage string, shots map[string]string) map[string]string {
	w.t.Helper()
	out := map[string]string{}
	for _, m := range everyone {
		tb := w.members[m]
		var all strings.Builder
		for _, p := range memberPages {
			tb.open(w.memberPage(p.path))
			status := tb.status()
			if status != http.StatusOK && status != http.StatusForbidden {
				w.t.Fatalf("after %s, %s opens %s: %d", stage, m, p.name, status)
			}
			name, shot := stage+": "+p.name, false
			if part, ok := shots[m]; ok {
				name, shot = "member-"+p.name+"-"+part, true
			}
			tb.check(page{name: name, status: status, noShots: !shot, noAxe: !w.script || !slices.Contains(axeStages, stage)})
			all.WriteString(eval[string](tb, `document.documentElement.outerHTML`))
		}
		out[m] = all.String()
	}
	var all strings.Builder
	for _, p := range clientPages {
		w.client.open(w.clientCase + p)
		w.client.check(page{name: stage + ": the client's " + p, hidden: caseHidden, noShots: true, noAxe: !w.script || !slices.Contains(axeStages, stage)})
		all.WriteString(eval[string](w.client, `document.documentElement.outerHTML`))
	}
	out["client"] = all.String()
	return out
}

// hold opens and checks every party's pages after the stage (seen), and
// holds what they saw to the table as it stands; the walk without
// JavaScript holds the stages of axeStages alone. It is the slow, whole
// check of every page, with screenshots and axe; the table itself is held
// after every step (after), between the stages too.
func (w *longPath) hold(stage string, shots map[string]string) {
	w.t.Helper()
	if !w.script && !slices.Contains(axeStages, stage) {
		return
	}
	for _, l := range confidentiality.Leaks(w.seen(stage, shots), w.table()) {
		w.t.Errorf("after %s: %s", stage, l)
	}
}

// openReader opens the party's reading tab: a second tab in the browser
// context of the party's tab, so with the same cookies, that only reads
// pages for read, leaving the party's own tab on the page it shows and its
// pages checked as the website serves them. The website's
// Content-Security-Policy allows no fetch from its pages (connect-src
// falls back to default-src 'none': "Failed to fetch" in any of its
// pages), so this tab alone bypasses it, as only DevTools can, before it
// opens the group's page to fetch from. Like the party's tab, it runs no
// page script in the walk without JavaScript: Runtime.evaluate's fetch
// does not need it.
func (w *longPath) openReader(party string, tb *tab) {
	w.t.Helper()
	ctx, cancel := chromedp.NewContext(tb.ctx)
	w.t.Cleanup(cancel)
	if _, err := chromedp.Call(ctx, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: true}); err != nil {
		w.t.Fatalf("%s's reading tab: %v", party, err)
	}
	if !w.script {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			w.t.Fatalf("%s's reading tab: %v", party, err)
		}
	}
	load, cancelLoad := context.WithTimeout(ctx, 30*time.Second)
	defer cancelLoad()
	if _, err := chromedp.RunResponse(load, chromedp.Navigate(tb.site.String()+"/riverside/")); err != nil {
		w.t.Fatalf("%s's reading tab: %v", party, err)
	}
	w.readers[party] = ctx
}

// readPages is the script that reads pages in a reading tab, with the
// party's cookies: one fetch a path, all at once, each answer's status and
// HTML. A redirect is not followed, so that a session lost (a redirect to
// sign in) reads as status 0 rather than as the sign-in page.
const readPages = `Promise.all(%s.map(async path => {
	const r = await fetch(path, {credentials: "same-origin", redirect: "manual"});
	return {status: r.status, html: await r.text()};
}))`

// fetched is one page as readPages read it.
type fetched struct {
	Status int    `json:"status"`
	HTML   string `json:"html"`
}

// fetch reads the pages at the paths in a reading tab (readPages). It
// returns its error rather than failing the test, so that the parties'
// reading tabs can read at once.
func fetch(reader context.Context, paths []string) ([]fetched, error) {
	js, err := json.Marshal(paths)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(reader, 30*time.Second)
	defer cancel()
	pages, err := chromedp.Run(ctx, chromedp.Evaluate[[]fetched](fmt.Sprintf(readPages, js), chromedp.EvalAwaitPromise))
	if err == nil && len(pages) != len(paths) {
		err = fmt.Errorf("read %d pages of %d", len(pages), len(paths))
	}
	return pages, err
}

// read reads every party's pages of the case as they stand after the step,
// each party in its reading tab and all the parties at once (fetch),
// without moving any party's tab from the page it shows: it is cheap
// enough to do after every step, where hold opens and checks 47 pages one
// by one. It returns what each party could read. Every page answers 200,
// but a member's messages and notes, which are the client's support
// person's alone, may answer 403; the client's pages never name the
// members that caseHidden keeps from them.
func (w *longPath) read(step string) map[string]string {
	w.t.Helper()
	type party struct {
		name  string
		paths []string
		// mayForbid are the paths that may answer 403.
		mayForbid []bool
	}
	var parties []party
	for _, m := range everyone {
		p := party{name: m}
		for _, mp := range memberPages {
			p.paths, p.mayForbid = append(p.paths, w.memberPage(mp.path)), append(p.mayForbid, mp.supportOnly)
		}
		parties = append(parties, p)
	}
	client := party{name: "client"}
	for _, cp := range clientPages {
		client.paths, client.mayForbid = append(client.paths, w.clientCase+cp), append(client.mayForbid, false)
	}
	parties = append(parties, client)

	pages, errs := make([][]fetched, len(parties)), make([]error, len(parties))
	var wg sync.WaitGroup
	for i, p := range parties {
		wg.Go(func() { pages[i], errs[i] = fetch(w.readers[p.name], p.paths) })
	}
	wg.Wait()
	out := map[string]string{}
	for i, p := range parties {
		if errs[i] != nil {
			w.t.Fatalf("after %s, reading %s's pages: %v", step, p.name, errs[i])
		}
		var all strings.Builder
		for j, f := range pages[i] {
			if f.Status != http.StatusOK && !(f.Status == http.StatusForbidden && p.mayForbid[j]) {
				w.t.Errorf("after %s, %s reads %s: HTTP %d", step, p.name, p.paths[j], f.Status)
			}
			all.WriteString(f.HTML)
		}
		out[p.name] = all.String()
	}
	for _, name := range caseHidden {
		if strings.Contains(out["client"], name) {
			w.t.Errorf("after %s: the client's pages name %s", step, name)
		}
	}
	return out
}

// after holds what every party reads after the step (read) to the table as
// it stands, naming the step in every breach ("after nominate_spt by
// cal-reyes: eli-nakamura can read …"), and returns what they read.
func (w *longPath) after(step string) map[string]string {
	w.t.Helper()
	seen := w.read(step)
	for _, l := range confidentiality.Leaks(seen, w.table()) {
		w.t.Errorf("after %s: %s", step, l)
	}
	return seen
}

// walkLongPath is the walk: see longPath.
func walkLongPath(t *testing.T, sys *system, b *chrome, script bool, axe, shots string) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	w := &longPath{t: t, sys: sys, b: b, script: script, axe: axe, shots: shots, members: map[string]*tab{},
		checked: map[string]bool{}, london: london, readers: map[string]context.Context{}}
	allMembers := func(more ...string) []string { return append(slices.Clone(everyone), more...) }
	therapistSide := []string{"cal-reyes", "eli-nakamura"}

	// The client raises the concern on the form: every member reads its
	// words; nobody reads the client's address until the client has a
	// support person.
	w.secret("the concern's words", "My sessions at", allMembers()...)
	millLane := w.secret("a detail the client keeps from the practitioner", "Mill Lane", allMembers()...)
	email := w.secret("the client's e-mail address", "robin@client.example.net")
	client := b.newTab(t, sys.WebURL(), script, axe, "")
	w.client = client
	w.openReader("client", client)
	client.open("/riverside/concern")
	client.choose("practitioner-cal-reyes")
	client.typeInto("description", "My sessions at Mill Lane ended early, and then stopped.")
	client.typeInto("client-name", "Robin")
	client.typeInto("email", "robin@client.example.net")
	client.click("send")
	w.clientCase = eval[string](client, `document.getElementById("go-to-case").getAttribute("href")`)
	w.caseID = strings.TrimPrefix(w.clientCase, "/riverside/cases/")
	client.click("go-to-case")

	// Every member signs in from the mail; the practitioner's My work
	// shows the case, once casework has opened it, with their step. From
	// here every party's pages are held to the table after every step, the
	// concern first.
	for _, m := range everyone {
		w.signIn(m)
	}
	cal := w.members["cal-reyes"]
	testenv.Eventually(t, 30*time.Second, "the case in the practitioner's My work", func() bool {
		cal.open("/riverside/members/")
		return cal.has("case-" + w.caseID)
	})
	if got := cal.text("case-" + w.caseID); !strings.Contains(got, "The practitioner names a support person") {
		t.Errorf("My work shows the case as %q, without the practitioner's step", got)
	}
	w.after("the concern raised")
	w.hold("registration", nil)

	w.step("cal-reyes", "nominate_spt", func(tb *tab) { tb.pick("member", member("eli-nakamura")) })
	w.step("eli-nakamura", "answer_spt_nomination", func(tb *tab) { tb.chooseValue("outcome", "ACCEPTED") })

	// The practitioner takes no part in choosing the support people (the
	// address typed: the case offers them no link); a member holding a
	// part already cannot take another, and what was chosen is kept.
	cal.open(w.memberCase() + "/steps/appoint_spc_and_lp")
	w.check(cal, "cal-reyes", "member-step-not-yours", page{status: http.StatusConflict, see: []string{"This step is not yours to take just now"}})
	w.after("appoint_spc_and_lp opened by cal-reyes, not theirs")
	// The practitioner's support person is not offered as the client's:
	// one support person left out is the error here.
	dana := w.refused("dana-holt", "appoint_spc_and_lp", "member-step-error", func(tb *tab) {
		if slices.Contains(eval[[]string](tb, `[...document.getElementById("spc").options].map(o => o.value)`), member("eli-nakamura")) {
			t.Error("the practitioner's support person is offered as the client's")
		}
		tb.pick("lp", member("bea-lindqvist"))
	}, http.StatusBadRequest)
	if !dana.has("spc-error") || dana.value("lp") != member("bea-lindqvist") {
		t.Errorf("the appointment refused: the support person's field marked %v, the liaison person kept %q", dana.has("spc-error"), dana.value("lp"))
	}
	// The client's support person reads the client's address from the
	// appointment on.
	email.Readers = []string{"alex-morgan"}
	planted := w.step("dana-holt", "appoint_spc_and_lp", func(tb *tab) {
		tb.pick("spc", member("alex-morgan"))
		tb.pick("lp", member("bea-lindqvist"))
	})
	// The check is shown to catch a leak: the practitioner's pages as
	// they were read after the appointment, with the client's address
	// planted in them.
	planted["cal-reyes"] += "<dd>robin@client.example.net</dd>"
	if got := confidentiality.Leaks(planted, w.table()); !slices.Equal(got, []string{"cal-reyes can read the client's e-mail address"}) {
		t.Errorf("a leak planted in the practitioner's pages is reported as %q", got)
	}
	w.hold("appointment", nil)

	// The liaison person informs the link groups and proposes dates for a
	// full group meeting, one refused first; members give their
	// availability.
	w.step("bea-lindqvist", "inform_link_groups", nil)
	day := time.Now().In(london).AddDate(0, 0, 9).Format("2006-01-02")
	bea := w.refused("bea-lindqvist", "propose_group_meeting_dates", "member-step-error-times", func(tb *tab) {
		tb.slot(0, day, "14:00", "13:00")
	}, http.StatusBadRequest, "it must end after it starts")
	if bea.value("slot-0-date") != day {
		t.Errorf("the proposal refused lost the date typed: %q", bea.value("slot-0-date"))
	}
	w.step("bea-lindqvist", "propose_group_meeting_dates", func(tb *tab) {
		for i, s := range [][2]string{{"10:00", "12:00"}, {"14:00", "16:00"}, {"18:00", "20:00"}} {
			tb.slot(i, day, s[0], s[1])
		}
		tb.typeInto("location", "The group's room")
	})
	w.step("fran-okafor", "give_availability", func(tb *tab) { tb.chooseValue("times", "0"); tb.chooseValue("times", "2") })
	w.step("cal-reyes", "give_availability", func(tb *tab) { tb.chooseValue("times", "2") })
	w.step("bea-lindqvist", "confirm_group_meeting_date", func(tb *tab) {
		if got := eval[string](tb, `document.body.innerText`); !strings.Contains(got, "2 of 2 who answered can make it") {
			t.Error("confirming the date does not show how many can make each time")
		}
		tb.chooseValue("times", "2")
	})

	// The client's support person offers to meet, at a place the client
	// reads from then on; the client accepts on their meetings page.
	millLane.Readers = append(millLane.Readers, "client")
	w.step("alex-morgan", "offer_client_meeting", func(tb *tab) {
		tb.slot(0, day, "11:00", "12:00")
		tb.typeInto("location", "3 Mill Lane, the small room")
	})
	client.open(w.clientCase)
	client.click("todo-meetings")
	client.choose("answer") // the first time offered
	client.click("send-answer")
	client.check(page{name: "long-meeting-accepted", see: []string{"You have accepted a time to meet"}, hidden: caseHidden})
	w.after("the client accepts the meeting")
	alex := w.openCase("alex-morgan")
	alex.click("page-meetings")
	w.check(alex, "alex-morgan", "member-meetings-confirmed", page{see: []string{"Confirmed", "Add it to your calendar", "The client can make"}})
	if ics := alex.download(eval[string](alex, `document.querySelector('a[id^="calendar-"]').id`)); !strings.Contains(ics, "BEGIN:VCALENDAR") {
		t.Errorf("the member's calendar file is not a calendar:\n%s", ics)
	}

	// Messages and notes: the client's support person's alone.
	w.secret("a message between the client and their support person", "Tuesdays suit me best to talk.", "alex-morgan", "client")
	alex.click("back-to-case")
	alex.click("page-messages")
	alex.typeInto("text", "Thank you for meeting me. Tuesdays suit me best to talk.")
	alex.click("send-text")
	w.check(alex, "alex-morgan", "member-message-sent", page{see: []string{"Tuesdays suit me best to talk."}})
	w.after("alex-morgan's message")
	w.secret("the support person's notes", "Robin prefers calls after six.", "alex-morgan")
	alex.click("back-to-case")
	alex.click("page-notes")
	alex.typeInto("text", "Note to self: Robin prefers calls after six.")
	alex.click("send-text")
	w.check(alex, "alex-morgan", "member-note-saved", page{see: []string{"Robin prefers calls after six."}})
	w.after("alex-morgan's note")
	w.hold("the meeting and the messages", nil)

	// The written statement: from the concern's words, approved with
	// limits, conveyed.
	w.secret("the written statement in full", "ended twenty minutes early", "alex-morgan", "client")
	summary := w.secret("the written statement's shorter account", "Sessions ended early without explanation.", "alex-morgan", "client")
	w.step("alex-morgan", "write_statement", func(tb *tab) {
		if got := tb.value("concern"); got != "My sessions at Mill Lane ended early, and then stopped." {
			t.Errorf("the statement's form does not start from the concern's words: %q", got)
		}
		tb.retype("concern", "Robin's last three sessions at Mill Lane ended twenty minutes early.")
		tb.typeInto("desired-outcome", "An explanation, and an apology.")
		tb.typeInto("summary", "Sessions ended early without explanation.")
	})
	w.hold("the statement written", nil)

	// The client approves the statement, keeping "Mill Lane" from the
	// practitioner: from the approval on, the therapist's side reads it
	// nowhere, the concern and the meeting's place included (casework
	// blots it from every text they read once the client has approved).
	client.open(w.clientCase)
	client.click("todo-written-statement")
	client.choose("answer")
	client.click("continue")
	client.choose("sharing-summary")
	client.typeInto("withheld", "Mill Lane")
	client.click("continue")
	millLane.Readers = slices.DeleteFunc(millLane.Readers, func(r string) bool { return slices.Contains(therapistSide, r) })
	client.click("approve")
	client.check(page{name: "long-statement-approved", see: []string{"You have approved what your support person wrote"}, hidden: caseHidden})
	w.after("the client approves the statement")
	// Conveyed, the shorter account reaches the therapist's side.
	summary.Readers = append(summary.Readers, therapistSide...)
	w.step("alex-morgan", "convey_statement", nil)
	w.hold("the statement conveyed", map[string]string{"alex-morgan": "support", "cal-reyes": "practitioner"})

	// The practitioner responds; the response is relayed; the client asks
	// for a joint meeting.
	response := w.secret("the practitioner's response", "I should have explained why", "alex-morgan", "cal-reyes", "eli-nakamura")
	w.step("cal-reyes", "record_response", func(tb *tab) {
		tb.typeInto("text", "I am sorry. I should have explained why our sessions ended early.")
	})
	w.hold("the response recorded", nil)
	response.Readers = append(response.Readers, "client")
	w.step("alex-morgan", "relay_response", nil)
	client.open(w.clientCase)
	client.click("todo-response")
	client.choose("decision-JOINT_MEETING")
	client.click("continue")
	client.click("send")
	client.check(page{name: "long-decided", see: []string{"You have asked to meet the practitioner"}, hidden: caseHidden})
	w.after("the client decides")

	// The joint meeting: proposed, answered by all four, confirmed, held.
	w.step("alex-morgan", "arrange_joint_meeting", func(tb *tab) {
		tb.slot(0, day, "16:00", "17:00")
		tb.typeInto("location", "Video call")
	})
	client.open(w.clientCase + "/meetings")
	client.choose("slots")
	client.click("send-joint-answer")
	client.check(page{name: "long-joint-answered", see: []string{"Your answer has been sent"}, hidden: caseHidden})
	w.after("the client answers the joint meeting")
	w.step("cal-reyes", "answer_joint_meeting", func(tb *tab) { tb.chooseValue("times", "0") })
	w.step("eli-nakamura", "answer_joint_meeting", func(tb *tab) { tb.chooseValue("times", "0") })
	w.step("alex-morgan", "confirm_joint_meeting", func(tb *tab) { tb.chooseValue("times", "0") })
	w.refused("alex-morgan", "record_joint_meeting_outcome", "member-step-error-text", func(tb *tab) { tb.chooseValue("outcome", "UNRESOLVED") },
		http.StatusBadRequest, "Write what the meeting concluded")
	w.step("alex-morgan", "record_joint_meeting_outcome", func(tb *tab) {
		tb.chooseValue("outcome", "UNRESOLVED")
		tb.typeInto("text", "We heard each other; it is not resolved.")
	})
	w.hold("the joint meeting", nil)

	// The liaison person reports, records a link group's issue, the group
	// decides, and the case closes unresolved with reasons.
	w.step("bea-lindqvist", "report_progress", func(tb *tab) { tb.typeInto("text", "A joint meeting took place; it is not resolved.") })
	w.step("bea-lindqvist", "record_link_group_issue", func(tb *tab) {
		tb.typeInto("text", "The link group asks whether an outside mediator was offered.")
		tb.choose("link-group-0")
	})
	w.step("bea-lindqvist", "record_group_meeting_decision", func(tb *tab) { tb.typeInto("text", "Offer an outside mediator.") })
	w.refused("bea-lindqvist", "close_unresolved", "member-step-error-reasons", func(tb *tab) {}, http.StatusBadRequest)
	w.step("bea-lindqvist", "close_unresolved", func(tb *tab) { tb.typeInto("text", "The client declined a mediator.") })
	fran := w.members["fran-okafor"]
	fran.open("/riverside/members/")
	fran.click("closed-link")
	if got := eval[string](fran, `document.querySelector("h1").textContent + " " + (document.getElementById("closed") || {textContent: ""}).textContent`); !strings.Contains(got, "Closed cases (") || !strings.Contains(got, "Closed: not resolved") {
		t.Errorf("the closed cases at the end show %q", got)
	}
	w.hold("the case closed", map[string]string{"bea-lindqvist": "closed"})
	if script {
		w.memberPagesBesides()
	}
}

// memberPagesBesides opens the members' pages the walk does not take a
// step on, each checked as every page is (headers, words, headings, axe)
// and saved as screenshots: the member's sessions, the group's closed
// cases, the case's access log, and the admins' pages, as the demo's admin
// (the client's support person, who may read the access log) sees them.
// The pages that need an id (a member, a link group, a statement version,
// a template) open one that their list links to. Nothing is sent: a
// confirmation page (deactivate, remove, publish) is looked at, not
// confirmed.
func (w *longPath) memberPagesBesides() {
	w.t.Helper()
	alex := w.members["alex-morgan"]
	first := func(css string) string {
		href := eval[string](alex, fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => ""}).getAttribute("href")`, css))
		if href == "" {
			w.t.Fatalf("%s links to nothing that %s finds", alex.where(), css)
		}
		return href
	}
	visit := func(name, path string) {
		alex.open(path)
		w.check(alex, "alex-morgan", name, page{})
	}
	admin := "/riverside/members/admin/"
	visit("member-sessions", "/riverside/members/sessions")
	visit("member-closed-cases", "/riverside/members/closed")
	visit("member-access-log", w.memberCase()+"/access-log")
	visit("admin", admin)
	visit("admin-members", admin+"members")
	// Another member than the admin: deactivating oneself is a page of
	// its own kind ("This is you").
	member := first(`a[href="` + admin + `members/cal-reyes"]`)
	visit("admin-member-new", admin+"members/new")
	visit("admin-member", member)
	visit("admin-member-deactivate", member+"/deactivate")
	visit("admin-link-groups", admin+"link-groups")
	visit("admin-link-group-remove", first(`a[href$="/remove"]`))
	visit("admin-statement", admin+"statement")
	version := first(`a[href^="` + admin + `statement/"]:not([href$="/new"])`)
	visit("admin-statement-new", admin+"statement/new")
	visit("admin-statement-version", version)
	visit("admin-settings", admin+"settings")
	visit("admin-templates", admin+"templates")
	visit("admin-template", first(`a[href^="`+admin+`templates/"]`))
	visit("admin-deliveries", admin+"deliveries")
	visit("admin-subject-access", admin+"subject-access")
	visit("admin-subject-access-case", admin+"subject-access/"+w.caseID)
}
