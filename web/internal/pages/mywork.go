package pages

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// myWorkPage is a member's "My work": the open cases where a step is
// theirs, most urgent first, then the group's other open cases, then the
// closed ones.
type myWorkPage struct {
	layout
	Name string
	// Until is when the member's sign-in ends.
	Until time.Time
	// AdminPath is the admins' pages, for an admin; empty for the others.
	AdminPath string
	// Yours are the open cases with a step the member may take now (one
	// the case waits for: optional steps do not count).
	Yours []caseRow
	// Others are the group's other open cases; Closed its closed ones,
	// newest first.
	Others, Closed []caseRow
}

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

// urgency orders open cases: past the aim first (the longest past first),
// then by how soon the aim runs out.
func urgency(a, b *caseworkv1.Case) int {
	la, lb := a.GetClock().GetState() == caseworkv1.Clock_STATE_MISSED, b.GetClock().GetState() == caseworkv1.Clock_STATE_MISSED
	switch {
	case la && !lb:
		return -1
	case lb && !la:
		return 1
	case la && lb:
		return cmp.Compare(b.GetClock().GetDaysOverdue(), a.GetClock().GetDaysOverdue())
	}
	return cmp.Compare(a.GetClock().GetDeadline().AsTime().UnixNano(), b.GetClock().GetDeadline().AsTime().UnixNano())
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

// memberHome is the signed-in member's "My work".
func (s *Site) memberHome(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMember(w, r)
	if !ok {
		return
	}
	var cases []*caseworkv1.Case
	var listErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		cases, listErr = s.api.ListCases(r.Context(), m.sess.Token, m.group.ID)
	}()
	me, err := s.api.GetMember(r.Context(), m.sess.Member())
	<-done
	if err == nil {
		err = listErr
	}
	if err != nil {
		s.fail(w, r, m.group, err)
		return
	}
	var therapists []string
	for _, c := range cases {
		therapists = append(therapists, c.GetTherapist())
	}
	names := s.memberNames(r, therapists...)
	page := myWorkPage{layout: m.layout("My work"), Name: me.GetDisplayName(), Until: m.sess.Expiry}
	if me.GetGroupAdmin() {
		page.AdminPath = m.adminPath("")
	}
	var yours, others, closed []*caseworkv1.Case
	for _, c := range cases {
		switch {
		case c.GetPhase() == procedurev1.Phase_PHASE_CLOSED:
			closed = append(closed, c)
		case len(yourSteps(c)) > 0:
			yours = append(yours, c)
		default:
			others = append(others, c)
		}
	}
	slices.SortStableFunc(yours, urgency)
	slices.SortStableFunc(others, urgency)
	slices.SortStableFunc(closed, func(a, b *caseworkv1.Case) int {
		return b.GetCloseTime().AsTime().Compare(a.GetCloseTime().AsTime())
	})
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
	for _, c := range yours {
		page.Yours = append(page.Yours, row(c))
	}
	for _, c := range others {
		page.Others = append(page.Others, row(c))
	}
	for _, c := range closed {
		page.Closed = append(page.Closed, row(c))
	}
	s.render(w, r, http.StatusOK, "member-home", page)
}
