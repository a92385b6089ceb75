package pages

import (
	"context"
	"fmt"
	"net/http"
	"time"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// day is a date as the pages write it, in UK time.
func (s *Site) day(t *timestamppb.Timestamp) string {
	return t.AsTime().In(s.london).Format("Monday 2 January 2006")
}

// memberCasePage is a case as the member's roles in it allow.
type memberCasePage struct {
	layout
	Banner    *banner
	Reference string
	// Practitioner is the name of the member the concern is about.
	Practitioner string
	Phase        string
	Closed       bool
	// Roles says which parts the member plays in the case.
	Roles string
	// ToDo are the steps the member may take now, each a link to its form
	// (Detail says when a step is optional); Waiting what the case waits
	// for from others, and who.
	ToDo    []todoLink
	Waiting []string
	People  []personRow
	Clock   clockView
	// FirstResponse says where the first-response aim stands.
	FirstResponse string
	// Pages are the case's other pages the member may open.
	Pages    []todoLink
	Timeline []memberTimelineItem
}

// personRow is one role in the case and who holds it.
type personRow struct {
	Role, Name string
}

// memberTimelineItem is one thing that happened, and who did it.
type memberTimelineItem struct {
	Time         time.Time
	Title, Actor string
	Outcome      string
}

// memberCaseView shows a case to a member.
func (s *Site) memberCaseView(w http.ResponseWriter, r *http.Request) {
	var entries []*caseworkv1.TimelineEntry
	mc, ok := s.loadMemberCaseAnd(w, r, func(ctx context.Context, token, caseName string) (err error) {
		entries, err = s.api.ListTimelineEntries(ctx, token, caseName)
		return err
	})
	if !ok {
		return
	}
	c := mc.c
	people := []string{c.GetTherapist(), c.GetSpt(), c.GetSptNominee(), c.GetSpc(), c.GetLp()}
	for _, e := range entries {
		people = append(people, e.GetActor())
	}
	names := s.memberNames(r, people...)
	closed := c.GetPhase() == procedurev1.Phase_PHASE_CLOSED
	page := memberCasePage{
		layout:       mc.layout("Concern about " + personName(names, c.GetTherapist())),
		Banner:       s.memberBannerFor(r, c),
		Reference:    c.GetReference(),
		Practitioner: personName(names, c.GetTherapist()),
		Phase:        memberPhase[c.GetPhase()],
		Closed:       closed,
		Roles:        yourRoles(c.GetCallerRoles()),
	}
	if closed {
		page.Phase = memberOutcome[c.GetOutcome()]
	}
	for _, n := range c.GetNextSteps() {
		if n.GetCallerMayTake() {
			todo := todoLink{ID: "step-" + n.GetStep(), Text: memberWords(n.GetTitle()), Path: mc.path + "/steps/" + n.GetStep()}
			if n.GetOptional() {
				todo.Detail = "If it is needed: the case does not wait for this."
			}
			page.ToDo = append(page.ToDo, todo)
			continue
		}
		if n.GetOptional() {
			continue
		}
		page.Waiting = append(page.Waiting, fmt.Sprintf("%s (%s)", memberWords(n.GetTitle()), whoActs(n.GetActors(), n.GetExcludedActors())))
	}
	for _, p := range []struct {
		role string
		name string
	}{
		{"The practitioner the concern is about", c.GetTherapist()},
		{"The practitioner's support person", c.GetSpt()},
		{"Asked to support the practitioner", c.GetSptNominee()},
		{"The client's support person", c.GetSpc()},
		{"The liaison person", c.GetLp()},
	} {
		if p.name != "" {
			page.People = append(page.People, personRow{Role: p.role, Name: personName(names, p.name)})
		}
	}
	page.Clock = s.clockView(c.GetClock(), mc.group.Weeks, !closed)
	page.Clock.Sentence = s.memberClockSentence(c.GetClock(), page.Clock, !closed)
	page.FirstResponse = s.memberFirstResponse(c.GetFirstResponseClock(), !closed)
	for _, e := range entries {
		page.Timeline = append(page.Timeline, memberTimelineItem{
			Time: e.GetCreateTime().AsTime(), Title: memberWords(e.GetTitle()), Actor: personName(names, e.GetActor()),
			Outcome: outcomeIfAny(e.GetOutcome()),
		})
	}
	page.Pages = mc.pages(s.isGroupAdmin(r, mc.signedInMember))
	s.render(w, r, http.StatusOK, "member-case", page)
}

// outcomeIfAny is an outcome's words, or "" for none.
func outcomeIfAny(code string) string {
	if code == "" {
		return ""
	}
	return outcomeLabel(code)
}

// pages are the case's other pages this member may open: the concern (for
// every member), the meetings and the documents (casework lists what the
// member's roles allow), and for the client's support person the messages
// and their notes; for them and the group's admins (admin), the access log.
func (mc *memberCase) pages(admin bool) []todoLink {
	links := []todoLink{
		{ID: "page-concern", Text: "The concern as the client registered it", Detail: "Opening it is recorded in the case's access log.", Path: mc.path + "/concern"},
		{ID: "page-meetings", Text: "Meetings", Detail: "The meetings you take part in: times offered, answers, and confirmed meetings to add to your calendar.", Path: mc.path + "/meetings"},
		{ID: "page-documents", Text: "Documents", Detail: "What has been written in the case that your part in it lets you read. Opening it is recorded in the case's access log.", Path: mc.path + "/documents"},
	}
	if mc.has(procedurev1.Role_ROLE_SPC) {
		links = append(links,
			todoLink{ID: "page-messages", Text: "Messages with the client", Detail: "Only you and the client read them.", Path: mc.path + "/messages"},
			todoLink{ID: "page-notes", Text: "Your private notes", Detail: "Only you read them.", Path: mc.path + "/notes"},
		)
	}
	if admin || mc.has(procedurev1.Role_ROLE_SPC) {
		links = append(links, todoLink{ID: "page-access-log", Text: "Who has read what", Detail: "Every read of the case's confidential part: who, what and when.", Path: mc.path + "/access-log"})
	}
	return links
}

// memberClockSentence says what the picture of the eight weeks shows, for
// members.
func (s *Site) memberClockSentence(c *caseworkv1.Clock, v clockView, open bool) string {
	deadline := s.day(c.GetDeadline())
	switch c.GetState() {
	case caseworkv1.Clock_STATE_RUNNING:
		return fmt.Sprintf("Week %d of %d. The group aims to resolve this concern by %s: %d %s left.",
			v.Week, v.Weeks, deadline, c.GetDaysLeft(), plural(int(c.GetDaysLeft()), "day", "days"))
	case caseworkv1.Clock_STATE_MET:
		return fmt.Sprintf("Resolved in week %d, within the %d weeks the group aims for.", v.Week, v.Weeks)
	case caseworkv1.Clock_STATE_MISSED:
		if open {
			return fmt.Sprintf("Past the %d weeks the group aims for: the aim was %s, %d %s ago.", v.Weeks, deadline, c.GetDaysOverdue(), plural(int(c.GetDaysOverdue()), "day", "days"))
		}
		return fmt.Sprintf("This took longer than the %d weeks the group aims for.", v.Weeks)
	case caseworkv1.Clock_STATE_STOPPED:
		return fmt.Sprintf("The case closed in week %d.", v.Week)
	}
	return v.Sentence
}

// memberFirstResponse says where the first-response aim stands, for
// members.
func (s *Site) memberFirstResponse(c *caseworkv1.Clock, open bool) string {
	if c.GetDeadline() == nil {
		return ""
	}
	switch c.GetState() {
	case caseworkv1.Clock_STATE_RUNNING:
		return "The practitioner's first response should reach the client by " + s.day(c.GetDeadline()) + "."
	case caseworkv1.Clock_STATE_MET:
		return "The practitioner's first response reached the client on " + s.day(c.GetMetTime()) + "."
	case caseworkv1.Clock_STATE_MISSED:
		if c.GetMetTime() != nil {
			return "The practitioner's first response reached the client on " + s.day(c.GetMetTime()) + ", later than the aim."
		}
		if open {
			return "The practitioner's first response is late: it should have reached the client by " + s.day(c.GetDeadline()) + "."
		}
	}
	return ""
}

// memberBannerFor is the banner after a member's step, from the
// query's done, "step": the step's id is the query's step, and its title
// is read from the case's procedure, so that nothing of the address is
// shown as it came.
func (s *Site) memberBannerFor(r *http.Request, c *caseworkv1.Case) *banner {
	q := r.URL.Query()
	switch q.Get("done") {
	case "step":
		p, err := s.api.GetProcedure(r.Context(), c.GetProcedure())
		if err != nil {
			s.logError(r.Context(), r, "reading the procedure for the banner failed", err)
			return &banner{Title: "Done", Next: "Everyone who needs to act next has been told."}
		}
		for _, st := range p.GetSteps() {
			if st.GetId() == q.Get("step") {
				return &banner{Title: "Done: " + memberWords(st.GetTitle()), Next: "Everyone who needs to act next has been told."}
			}
		}
	}
	return nil
}
