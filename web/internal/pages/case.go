package pages

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// casePage is the client's case, in plain words.
type casePage struct {
	layout
	// Banner says what the step the client just took did, if it led here.
	Banner    *banner
	Reference string
	Closed    bool
	// Standing says where the case stands.
	Standing string
	// ToDo are the steps the client may take now, each with the page where
	// they take it; NextSteps what others do next, each saying who.
	ToDo      []todoLink
	NextSteps []string
	// Pages are the case's other pages that have something to show: the
	// meetings, the written statement, the response, the messages.
	Pages []todoLink
	// SupportPerson is the name of the client's support person, once
	// appointed.
	SupportPerson string
	Clock         clockView
	// FirstResponse says when the practitioner's first response is due or
	// came; empty when there is nothing to say.
	FirstResponse string
	Timeline      []timelineItem
	// WithdrawPath is the withdraw page; empty once the case is closed.
	WithdrawPath string
}

// todoLink is a link to one of the case's pages: Text is the link, Detail
// what the client does or finds there; Path is empty for a step the website
// has no page for (a later version of the procedure).
type todoLink struct {
	ID, Text, Detail, Path string
}

// casePageLinks are the case's pages, each shown once the timeline has a
// step after which it has something to show (none: always, while the case
// is open).
var casePageLinks = []struct {
	page, text, detail string
	after              []string
}{
	{"meetings", "Meetings", "The times your support person offered, and meetings arranged.", []string{"offer_client_meeting", "arrange_joint_meeting"}},
	{"written-statement", "What your support person wrote", "Your concern, and the outcome you would like, in writing.", []string{"write_statement"}},
	{"response", "The practitioner's response", "What the practitioner said about your concern.", []string{"relay_response"}},
	{"messages", "Messages with your support person", "Read and send messages. Only you and your support person can read them.", nil},
}

// timelineItem is one thing that happened.
type timelineItem struct {
	Time     time.Time
	Sentence string
}

// clockView is the eight-week aim as a picture: one box per week, the
// weeks gone filled, this week marked.
type clockView struct {
	// Week is the week the case is in (from 1), or was in when it closed;
	// never more than Weeks.
	Week, Weeks int
	Boxes       []weekBox
	// Sentence says what the picture shows.
	Sentence string
	// Late is true when the aim has passed before the case ended.
	Late bool
}

// weekBox is one week of the picture.
type weekBox struct {
	N int
	// State is past, now or later: a CSS class.
	State string
}

// openingPage is shown while casework is still opening the case.
type openingPage struct {
	layout
	CasePath string
}

// withdrawPage asks the client to confirm.
type withdrawPage struct {
	layout
	CasePath string
}

// clientCase reads the session for the case the path names. When there is
// none, it answers (sign-in, or "you have been signed out") and returns
// false.
func (s *Site) clientCase(w http.ResponseWriter, r *http.Request) (*groupView, session.Session, bool) {
	id := r.PathValue("case")
	if !api.ValidID(r.PathValue("group")) || !api.ValidID(id) {
		s.notFound(w, r)
		return nil, session.Session{}, false
	}
	g, ok := s.loadGroup(w, r)
	if !ok {
		return nil, session.Session{}, false
	}
	sess, err := s.sessions.Read(r)
	switch {
	case errors.Is(err, session.ErrNoSession):
		// A link from an e-mail, in a browser not signed in: sign in,
		// which leads back to the client's case.
		http.Redirect(w, r, "/"+g.ID+"/sign-in", http.StatusSeeOther)
		return nil, session.Session{}, false
	case err != nil:
		s.sessionEnded(w, r, g)
		return nil, session.Session{}, false
	case sess.IsMember() && sess.Group() == g.ID:
		// A member following a link from an e-mail: the case as their
		// part in it lets them see it.
		http.Redirect(w, r, "/"+g.ID+"/members/cases/"+id, http.StatusSeeOther)
		return nil, session.Session{}, false
	case sess.Case != "groups/"+g.ID+"/cases/"+id:
		// Signed in for another case: the reference and code of this
		// one open it.
		http.Redirect(w, r, "/"+g.ID+"/sign-in", http.StatusSeeOther)
		return nil, session.Session{}, false
	}
	return g, sess, true
}

// getCase reads the case, waiting up to openingWait while casework is still
// opening it (a second or so after registration).
func (s *Site) getCase(ctx context.Context, sess session.Session) (*caseworkv1.Case, error) {
	deadline := s.now().Add(s.openingWait)
	for {
		c, err := s.api.GetCase(ctx, sess.Token, sess.Case)
		if !api.IsReason(err, "CASE_OPENING") || !s.now().Before(deadline) {
			return c, err
		}
		wait := 250 * time.Millisecond
		if e, _ := api.AsError(err); e.RetryAfter > 0 && e.RetryAfter < wait {
			wait = e.RetryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// sessionRead is a read of a page of the client's case that needs only
// the session, made while the case itself is read.
type sessionRead func(ctx context.Context, sess session.Session) error

// getCaseWith is getCase with read (nil for none) made at the same time,
// since neither needs the other's answer: a page of the case waits for one
// call's time rather than two. It returns the case, read's error, and the
// case's error; when the case cannot be read, read's error is dropped (the
// page answers for the case, as when the reads went one after the other).
// A read made while the case was still being opened is made again once it
// is open.
func (s *Site) getCaseWith(ctx context.Context, sess session.Session, read sessionRead) (*caseworkv1.Case, error, error) {
	if read == nil {
		c, err := s.getCase(ctx, sess)
		return c, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readDone := make(chan error, 1)
	go func() { readDone <- read(ctx, sess) }()
	c, err := s.getCase(ctx, sess)
	if err != nil {
		cancel()
		<-readDone
		return nil, nil, err
	}
	readErr := <-readDone
	if api.IsReason(readErr, "CASE_OPENING") {
		readErr = read(ctx, sess)
	}
	return c, readErr, nil
}

// casePage shows the client's case.
func (s *Site) casePage(w http.ResponseWriter, r *http.Request) {
	g, sess, ok := s.clientCase(w, r)
	if !ok {
		return
	}
	casePath := "/" + g.ID + "/cases/" + sess.CaseID()
	var entries []*caseworkv1.TimelineEntry
	c, err, caseErr := s.getCaseWith(r.Context(), sess, func(ctx context.Context, sess session.Session) (err error) {
		entries, err = s.api.ListTimelineEntries(ctx, sess.Token, sess.Case)
		return err
	})
	if api.IsReason(caseErr, "CASE_OPENING") {
		s.render(w, r, http.StatusOK, "opening", openingPage{layout: layout{Title: "We are setting up your case", Group: g, SignedIn: true}, CasePath: casePath})
		return
	}
	if caseErr != nil {
		s.fail(w, r, g, caseErr)
		return
	}
	if err != nil {
		s.fail(w, r, g, err)
		return
	}
	page := casePage{
		layout:    layout{Title: "Your concern", Group: g, SignedIn: true},
		Reference: c.GetReference(),
		Closed:    c.GetPhase() == procedurev1.Phase_PHASE_CLOSED,
		Banner:    bannerFor(r),
	}
	if page.Closed {
		page.Standing = closedSentence[c.GetOutcome()]
	} else {
		page.Standing = phaseSentence[c.GetPhase()]
		page.WithdrawPath = casePath + "/withdraw"
	}
	answered := answeredJointMeeting(entries)
	for _, n := range c.GetNextSteps() {
		words, known := nextSteps[n.GetStep()]
		if known && words.Hidden {
			continue
		}
		if n.GetStep() == "answer_joint_meeting" && answered {
			// The client may change their answer until the time is
			// confirmed (on the meetings page), but has nothing left to do.
			continue
		}
		sentence := words.Sentence
		if !known {
			sentence = clientWords(n.GetTitle())
		}
		if n.GetCallerMayTake() {
			todo := todoLink{ID: "todo-" + words.Page, Text: sentence, Detail: words.Yours}
			if words.Page != "" {
				todo.Text, todo.Path = words.Do, casePath+"/"+words.Page
			}
			if !slices.ContainsFunc(page.ToDo, func(t todoLink) bool { return t.Path == todo.Path && t.Text == todo.Text }) {
				page.ToDo = append(page.ToDo, todo)
			}
		} else {
			page.NextSteps = append(page.NextSteps, sentence)
		}
	}
	page.SupportPerson = s.supportPersonName(r, c)
	page.Clock = s.clockView(c.GetClock(), g.Weeks, !page.Closed)
	page.FirstResponse = s.firstResponse(c.GetFirstResponseClock(), !page.Closed)
	taken := map[string]bool{}
	for _, e := range entries {
		page.Timeline = append(page.Timeline, timelineItem{Time: e.GetCreateTime().AsTime(), Sentence: doneSentence(e)})
		taken[e.GetStep()] = true
		if e.GetTitle() == "A message was sent" {
			taken["message"] = true
		}
	}
	for _, l := range casePageLinks {
		shown := len(l.after) == 0 && (!page.Closed || taken["message"])
		for _, step := range l.after {
			shown = shown || taken[step]
		}
		if shown {
			page.Pages = append(page.Pages, todoLink{ID: "page-" + l.page, Text: l.text, Detail: l.detail, Path: casePath + "/" + l.page})
		}
	}
	s.render(w, r, http.StatusOK, "case", page)
}

// supportPersonName is the name of the client's support person, or ""
// before one is appointed or when it cannot be read (the pages then say
// "your support person" without it).
func (s *Site) supportPersonName(r *http.Request, c *caseworkv1.Case) string {
	spc := c.GetSpc()
	if spc == "" {
		return ""
	}
	// A member's name is public: read without the client's session, which
	// the directory does not know.
	m, err := s.api.GetMember(r.Context(), spc)
	if err != nil {
		s.logError(r.Context(), r, "reading the support person's name failed", err)
		return ""
	}
	return m.GetDisplayName()
}

// answeredJointMeeting reports whether the client has said which times
// they can make since the latest times were offered for the meeting with
// the practitioner.
func answeredJointMeeting(entries []*caseworkv1.TimelineEntry) bool {
	answered := false
	for _, e := range entries {
		switch e.GetStep() {
		case "arrange_joint_meeting":
			answered = false
		case "answer_joint_meeting":
			answered = answered || e.GetActor() == "client"
		}
	}
	return answered
}

// clockView draws the overall clock: which week of how many.
func (s *Site) clockView(c *caseworkv1.Clock, groupWeeks int, open bool) clockView {
	v := clockView{Weeks: groupWeeks}
	start := c.GetStartTime().AsTime()
	if c.GetStartTime() == nil || c.GetDeadline() == nil {
		v.Week = 1
	} else {
		day := 24 * time.Hour
		if d := c.GetDeadline().AsTime().Sub(start); d > 0 {
			v.Weeks = max(1, int((d+3*day)/(7*day)))
		}
		end := s.now()
		if c.GetStopTime() != nil {
			end = c.GetStopTime().AsTime()
		}
		v.Week = min(v.Weeks, max(0, int(end.Sub(start)/(7*day)))+1)
	}
	for n := 1; n <= v.Weeks; n++ {
		state := "later"
		switch {
		case n < v.Week:
			state = "past"
		case n == v.Week:
			state = "now"
		}
		v.Boxes = append(v.Boxes, weekBox{N: n, State: state})
	}
	deadline := c.GetDeadline().AsTime().In(s.london).Format("Monday 2 January 2006")
	switch c.GetState() {
	case caseworkv1.Clock_STATE_RUNNING:
		v.Sentence = fmt.Sprintf("The group aims to resolve your concern within %d weeks, by %s. There %s %d %s left.",
			v.Weeks, deadline, plural(int(c.GetDaysLeft()), "is", "are"), c.GetDaysLeft(), plural(int(c.GetDaysLeft()), "day", "days"))
	case caseworkv1.Clock_STATE_MET:
		v.Sentence = fmt.Sprintf("Your concern was resolved in week %d, within the %d weeks the group aims for.", v.Week, v.Weeks)
	case caseworkv1.Clock_STATE_MISSED:
		v.Late = true
		if open {
			v.Sentence = fmt.Sprintf("This is taking longer than the %d weeks the group aims for: the aim was %s. The group has been told. Your support person can tell you more.", v.Weeks, deadline)
		} else {
			v.Sentence = fmt.Sprintf("This took longer than the %d weeks the group aims for.", v.Weeks)
		}
	case caseworkv1.Clock_STATE_STOPPED:
		v.Sentence = fmt.Sprintf("The case closed in week %d.", v.Week)
	default:
		v.Sentence = fmt.Sprintf("The group aims to resolve your concern within %d weeks.", v.Weeks)
	}
	return v
}

// firstResponse says when the practitioner's first response is due, or
// when it came.
func (s *Site) firstResponse(c *caseworkv1.Clock, open bool) string {
	if c == nil || c.GetDeadline() == nil {
		return ""
	}
	deadline := c.GetDeadline().AsTime().In(s.london).Format("Monday 2 January 2006")
	switch c.GetState() {
	case caseworkv1.Clock_STATE_RUNNING:
		return "The group aims to bring you the practitioner's first response by " + deadline + "."
	case caseworkv1.Clock_STATE_MET:
		return "The practitioner's first response reached you on " + c.GetMetTime().AsTime().In(s.london).Format("Monday 2 January 2006") + "."
	case caseworkv1.Clock_STATE_MISSED:
		if c.GetMetTime() != nil {
			return "The practitioner's first response reached you on " + c.GetMetTime().AsTime().In(s.london).Format("Monday 2 January 2006") + ", later than the group aims for."
		}
		if open {
			return "The practitioner's first response is taking longer than the group aims for: it was due by " + deadline + "."
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// withdrawForm says what withdrawing means and asks to confirm.
func (s *Site) withdrawForm(w http.ResponseWriter, r *http.Request) {
	g, sess, ok := s.clientCase(w, r)
	if !ok {
		return
	}
	casePath := "/" + g.ID + "/cases/" + sess.CaseID()
	s.render(w, r, http.StatusOK, "withdraw", withdrawPage{layout: layout{Title: "Withdraw your concern", Group: g, SignedIn: true}, CasePath: casePath})
}

// stepProblemPage explains why a step could not be taken.
type stepProblemPage struct {
	layout
	Explanation string
	// CasePath is where the link leads back to: the case, or the page the
	// step was taken from; BackText names it ("Back to your case" when
	// empty).
	CasePath, BackText string
}

// withdrawSubmit withdraws the concern and goes back to the case, which
// then says so.
func (s *Site) withdrawSubmit(w http.ResponseWriter, r *http.Request) {
	g, sess, ok := s.clientCase(w, r)
	if !ok {
		return
	}
	casePath := "/" + g.ID + "/cases/" + sess.CaseID()
	// No etag: the client may withdraw whatever has happened since the page
	// was read. A second press finds the case closed, which is what it
	// wanted.
	_, err := s.api.TakeStep(r.Context(), sess.Token, &caseworkv1.TakeStepRequest{Name: sess.Case, Step: "withdraw", Outcome: "WITHDRAWN"})
	e, isAPI := api.AsError(err)
	switch {
	case err == nil:
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "client withdrew", slog.String("case", sess.Case))
	case isAPI && e.Reason == "CASE_CLOSED":
	case isAPI && slices.Contains([]string{"STEP_NOT_READY", "STEP_OVER", "AWAITING_ANSWER"}, e.Reason):
		s.render(w, r, http.StatusConflict, "step-problem", stepProblemPage{
			layout:      layout{Title: "You cannot withdraw just now", Group: g, SignedIn: true},
			Explanation: notReadyWords(e.Message),
			CasePath:    casePath,
		})
		return
	default:
		s.fail(w, r, g, err)
		return
	}
	http.Redirect(w, r, casePath, http.StatusSeeOther)
}
