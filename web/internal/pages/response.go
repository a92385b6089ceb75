package pages

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"github.com/ipnmediation/disputes/web/internal/session"
	"golang.org/x/sync/errgroup"
)

// The practitioner's response reaches the client once their support person
// relays it. The client reads it in full, then decides: resolved, a
// meeting with the practitioner, or not resolved. The decision cannot be
// undone (the step is taken once), so it has a page to check it first.

// decisionOption is one answer to "does this resolve your concern?", with
// what happens next.
type decisionOption struct {
	// Value is the form's value and the step's outcome.
	Value string
	Label string
	// Next says what happens after it, under the option and on the check
	// page.
	Next string
}

// decisions are the outcomes of the step decide, in the client's words.
var decisions = []decisionOption{
	{"RESOLVED", "Yes, this resolves my concern",
		"Your support person will close your case as resolved. You can still send them a message before they do."},
	{"JOINT_MEETING", "No, and I would like to meet the practitioner",
		"Your support person will offer times for a meeting with you, the practitioner and both support people. Your support person will be with you and will help you prepare."},
	{"NOT_RESOLVED", "No, and I do not want a meeting",
		"All the members of the group, with help from two other groups in the network, will look at your concern and decide what to do next. Your support person will keep you informed."},
}

// decisionByValue is the decision with that value.
func decisionByValue(v string) (decisionOption, bool) {
	for _, d := range decisions {
		if d.Value == v {
			return d, true
		}
	}
	return decisionOption{}, false
}

// responsePage shows the practitioner's response and the decision.
type responsePage struct {
	layout
	CasePath string
	Action   string
	Banner   *banner
	// Response is the practitioner's words; Received when they reached the
	// client. Empty before they have.
	Response string
	Received time.Time
	// MayDecide: the decision is the client's to make now.
	MayDecide bool
	Options   []decisionOption
	// Chosen is the decision chosen (on the check page, or shown again).
	Chosen decisionOption
	// Decided says what the client decided, once they have.
	Decided string
	// MeetingsPath is the meetings page, once a joint meeting is being
	// arranged.
	MeetingsPath string
	FormID       string
}

// readResponse reads what the response's page shows besides the case,
// both at once since neither needs the other: the response, and the
// timeline for when it came and what the client decided. An error of
// either is the page's.
func (s *Site) readResponse(ctx context.Context, sess session.Session) ([]*caseworkv1.Document, []*caseworkv1.TimelineEntry, error) {
	var docs []*caseworkv1.Document
	var entries []*caseworkv1.TimelineEntry
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		docs, err = s.api.ListDocuments(ctx, sess.Token, sess.Case, caseworkv1.Document_KIND_THERAPIST_RESPONSE)
		return err
	})
	g.Go(func() (err error) {
		entries, err = s.api.ListTimelineEntries(ctx, sess.Token, sess.Case)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return docs, entries, nil
}

// loadResponse reads the response and what the client decided, for the
// page.
func (s *Site) loadResponse(r *http.Request, oc *openCase) (responsePage, error) {
	docs, entries, err := s.readResponse(r.Context(), oc.sess)
	if err != nil {
		return newResponsePage(oc), err
	}
	return responseFrom(oc, docs, entries), nil
}

// newResponsePage is the page before the response is read.
func newResponsePage(oc *openCase) responsePage {
	return responsePage{layout: oc.layout("The practitioner's response"), CasePath: oc.path, Action: oc.path + "/response",
		Options: decisions, MayDecide: oc.mayTake("decide"), FormID: newRequestID()}
}

// responseFrom is the page with the response and the timeline read.
func responseFrom(oc *openCase, docs []*caseworkv1.Document, entries []*caseworkv1.TimelineEntry) responsePage {
	page := newResponsePage(oc)
	if len(docs) > 0 {
		d := docs[len(docs)-1]
		page.Response = d.GetText()
		page.Received = d.GetCreateTime().AsTime()
	}
	for _, e := range entries {
		switch e.GetStep() {
		case "relay_response":
			page.Received = e.GetCreateTime().AsTime()
		case "decide":
			if d, ok := decisionByValue(e.GetOutcome()); ok {
				page.Decided = d.Label
				page.Chosen = d
			}
		case "arrange_joint_meeting":
			page.MeetingsPath = oc.path + "/meetings"
		}
	}
	if page.Response == "" {
		page.MayDecide = false
	}
	return page
}

// responseView shows the response.
func (s *Site) responseView(w http.ResponseWriter, r *http.Request) {
	var docs []*caseworkv1.Document
	var entries []*caseworkv1.TimelineEntry
	oc, err, ok := s.loadCaseWith(w, r, func(ctx context.Context, sess session.Session) (err error) {
		docs, entries, err = s.readResponse(ctx, sess)
		return err
	})
	if !ok {
		return
	}
	if err != nil {
		s.fail(w, r, oc.group, err)
		return
	}
	page := responseFrom(oc, docs, entries)
	page.Banner = bannerFor(r)
	s.render(w, r, http.StatusOK, "response", page)
}

// responseSubmit takes the decision: to the check page, back to change it,
// or sent.
func (s *Site) responseSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, 4<<10) {
		return
	}
	oc, ok := s.loadCase(w, r)
	if !ok {
		return
	}

	page, err := s.loadResponse(r, oc)
	if err != nil {
		s.fail(w, r, oc.group, err)
		return
	}
	back := oc.path + "/response"
	if !page.MayDecide {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if id := r.PostForm.Get("formId"); uuidForm.MatchString(id) {
		page.FormID = id
	}
	chosen, known := decisionByValue(r.PostForm.Get("decision"))
	page.Chosen = chosen
	switch stage := r.PostForm.Get("stage"); {
	case !known && stage != "change":
		page.Errors.add("decision", "Say whether the practitioner's response resolves your concern")
		s.render(w, r, http.StatusBadRequest, "response", page)
	case stage == "check":
		page.Title = "Check your decision before you send it"
		s.render(w, r, http.StatusOK, "decision-check", page)
	case stage == "send":
		req := &caseworkv1.TakeStepRequest{Name: oc.sess.Case, Step: "decide", Outcome: chosen.Value}
		to, _, err := s.forms.do(formID(r, oc.sess), func() (string, error) {
			if _, err := s.api.TakeStep(r.Context(), oc.sess.Token, req); err != nil {
				return "", err
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "client decided", slog.String("case", oc.sess.Case), slog.String("outcome", chosen.Value))
			return doneAt(back, "decided-"+chosen.Value), nil
		})
		if err != nil {
			s.stepFailed(w, r, oc, err, back, "Back to the practitioner's response")
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	default:
		// "change", from the check page: the question again, as answered.
		s.render(w, r, http.StatusOK, "response", page)
	}
}
