package pages

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
)

// myWorkPage is a member's "My work": the open cases waiting for a step of
// theirs, most urgent first, then the group's other open cases, then the
// closed ones. Each list shows a page of its most urgent (or newest)
// cases with how many there are, and pages on: a group with a thousand
// open cases gets a page of the same size as one with ten.
type myWorkPage struct {
	layout
	Name string
	// Until is when the member's sign-in ends.
	Until time.Time
	// AdminPath is the admins' pages, for an admin; empty for the others.
	AdminPath string
	// Yours and Others are the two lists.
	Yours, Others caseSection
	// ClosedPath is the page of the closed cases.
	ClosedPath string
}

// closedCasesPage is the group's closed cases, newest first, a page at a
// time: kept off My work, which is for what is open.
type closedCasesPage struct {
	layout
	Closed caseSection
}

// caseSection is one list of My work.
type caseSection struct {
	Rows []caseRow
	// Total is how many cases the list holds.
	Total int
	// More is the link to the list's next page; Start back to its first,
	// when this is not the first.
	More, Start string
}

// myWorkLists are My work's two lists: the query parameter that carries
// each one's page token, how much of it a page shows, and what it asks
// the API for. Ten of each: the most urgent fit on a phone's screen, and a
// page costs the same for ten open cases or a thousand.
var myWorkLists = []struct {
	param string
	list  api.CaseList
}{
	{"yours", api.CaseList{Awaiting: "AWAITING_CALLER", ByDeadline: true, Size: 10}},
	{"others", api.CaseList{Awaiting: "AWAITING_OTHERS", ByDeadline: true, Size: 10}},
}

// closedList is the page of closed cases.
var closedList = api.CaseList{Closed: true, Size: 25}

// caseRow is one case in a list of the member's page.
type caseRow struct {
	ID, Path, Reference string
	// Practitioner is the name of the member the concern is about.
	Practitioner string
	Phase        string
	// Steps are the titles of the steps the member may take now, as the
	// procedure words them.
	Steps []string
	// Roles are the member's parts in the case, in a few words.
	Roles string
	// Clock is the eight-week aim in a few words; Late marks a case past
	// it, Soon one within a week of it.
	Clock      string
	Late, Soon bool
}

// yourSteps are the titles of the steps of c the member may take now and
// the case waits for.
func yourSteps(c *caseworkv1.Case) []string {
	var titles []string
	for _, n := range c.GetNextSteps() {
		if n.GetCallerMayTake() && !n.GetOptional() && !slices.Contains(titles, memberWords(n.GetTitle())) {
			titles = append(titles, memberWords(n.GetTitle()))
		}
	}
	return titles
}

// memberHome is the signed-in member's "My work": its three lists and the
// member's name, read at the same time.
func (s *Site) memberHome(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMember(w, r)
	if !ok {
		return
	}
	pages := make([]api.CasePage, len(myWorkLists))
	errs := make([]error, len(myWorkLists))
	var wg sync.WaitGroup
	for i, l := range myWorkLists {
		l.list.PageToken = r.URL.Query().Get(l.param)
		wg.Add(1)
		go func() {
			defer wg.Done()
			pages[i], errs[i] = s.api.ListCases(r.Context(), m.sess.Token, m.group.ID, l.list)
		}()
	}
	me, err := s.api.GetMember(r.Context(), m.sess.Member())
	wg.Wait()
	for i, e := range errs {
		if api.IsReason(e, "INVALID_FIELDS") && r.URL.Query().Get(myWorkLists[i].param) != "" {
			// A page token from an old link: start again from the top.
			http.Redirect(w, r, m.home(), http.StatusSeeOther)
			return
		}
		err = cmp.Or(err, e)
	}
	if err != nil {
		s.fail(w, r, m.group, err)
		return
	}
	page := myWorkPage{layout: m.layout("My work"), Name: me.GetDisplayName(), Until: m.sess.Expiry, ClosedPath: m.home() + "closed"}
	if me.GetGroupAdmin() {
		page.AdminPath = m.adminPath("")
	}
	// The two lists are read at the same time, and a step taken in
	// between can move a case from one to the other: it is shown once,
	// where the first list put it.
	pages[1].Cases = slices.DeleteFunc(pages[1].Cases, func(c *caseworkv1.Case) bool {
		return slices.ContainsFunc(pages[0].Cases, func(y *caseworkv1.Case) bool { return y.GetName() == c.GetName() })
	})
	sections := s.caseSections(r, m, m.home(), pages, []string{"yours", "others"})
	page.Yours, page.Others = sections[0], sections[1]
	s.render(w, r, http.StatusOK, "member-home", page)
}

// closedCases is the page of the group's closed cases.
func (s *Site) closedCases(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMember(w, r)
	if !ok {
		return
	}
	l := closedList
	l.PageToken = r.URL.Query().Get("closed")
	p, err := s.api.ListCases(r.Context(), m.sess.Token, m.group.ID, l)
	if api.IsReason(err, "INVALID_FIELDS") && l.PageToken != "" {
		http.Redirect(w, r, m.home()+"closed", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, m.group, err)
		return
	}
	sections := s.caseSections(r, m, m.home()+"closed", []api.CasePage{p}, []string{"closed"})
	s.render(w, r, http.StatusOK, "member-closed", closedCasesPage{layout: m.layout("Closed cases"), Closed: sections[0]})
}

// caseSections are the lists of cases read (pages), each with its rows,
// its total and its links to page on (at path, the list's page token in
// the query parameter of params' same place).
func (s *Site) caseSections(r *http.Request, m *signedInMember, path string, pages []api.CasePage, params []string) []caseSection {
	var therapists []string
	for _, p := range pages {
		for _, c := range p.Cases {
			therapists = append(therapists, c.GetTherapist())
		}
	}
	names := s.memberNames(r, therapists...)
	row := func(c *caseworkv1.Case) caseRow {
		id := c.GetName()[len("groups/"+m.group.ID+"/cases/"):]
		open := c.GetPhase() != procedurev1.Phase_PHASE_CLOSED
		row := caseRow{
			ID: id, Path: m.casePath(id), Reference: c.GetReference(),
			Practitioner: personName(names, c.GetTherapist()),
			Phase:        memberPhase[c.GetPhase()], Steps: yourSteps(c), Roles: shortRoles(c.GetCallerRoles()),
			Clock: clockShort(c.GetClock(), open),
			Late:  open && c.GetClock().GetState() == caseworkv1.Clock_STATE_MISSED,
		}
		row.Soon = open && !row.Late && c.GetClock().GetState() == caseworkv1.Clock_STATE_RUNNING && c.GetClock().GetDaysLeft() <= 7
		if !open {
			row.Phase = memberOutcome[c.GetOutcome()]
		}
		return row
	}
	out := make([]caseSection, len(pages))
	for i, p := range pages {
		sec := &out[i]
		sec.Total = p.Total
		for _, c := range p.Cases {
			sec.Rows = append(sec.Rows, row(c))
		}
		param := params[i]
		if p.Next != "" {
			sec.More = path + "?" + url.Values{param: {p.Next}}.Encode() + "#" + param
		}
		if r.URL.Query().Get(param) != "" {
			sec.Start = path + "#" + param
		}
	}
	return out
}
