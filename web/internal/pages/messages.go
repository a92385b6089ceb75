package pages

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// maxMessageForm bounds a posted message: the longest message, each
// character up to four bytes percent-encoded, and room for the rest.
const maxMessageForm = maxLongText*4*3 + 16<<10

// messagesPage is the conversation between the client and their support
// person, newest last, and the form to write.
type messagesPage struct {
	layout
	CasePath string
	Action   string
	Banner   *banner
	Messages []messageView
	// SupportPerson is their name, once appointed.
	SupportPerson string
	// MayWrite: the case is open.
	MayWrite bool
	// ThreadUnavailable: the messages could not be read just now.
	ThreadUnavailable bool
	// Text is what the client typed, shown again after an error.
	Text   string
	FormID string
}

// messageView is one message.
type messageView struct {
	// From is "You" or "Your support person" (with their name).
	From string
	Mine bool
	Time time.Time
	Text string
}

// loadMessages reads the conversation for the page.
func (s *Site) loadMessages(r *http.Request, oc *openCase) (messagesPage, error) {
	page := newMessagesPage(oc)
	msgs, err := s.api.ListMessages(r.Context(), oc.sess.Token, oc.sess.Case)
	if err != nil {
		return page, err
	}
	return s.messagesFrom(r, oc, page, msgs), nil
}

// messagesFrom is the page with the messages read.
func (s *Site) messagesFrom(r *http.Request, oc *openCase, page messagesPage, msgs []*caseworkv1.Message) messagesPage {
	page.SupportPerson = s.supportPersonName(r, oc.c)
	for _, m := range msgs {
		v := messageView{Time: m.GetCreateTime().AsTime(), Text: m.GetText()}
		if m.GetSenderRole() == procedurev1.Role_ROLE_CLIENT {
			v.From, v.Mine = "You", true
		} else {
			v.From = "Your support person"
			if page.SupportPerson != "" && m.GetSender() == oc.c.GetSpc() {
				v.From = page.SupportPerson + ", your support person"
			}
		}
		page.Messages = append(page.Messages, v)
	}
	return page
}

// newMessagesPage is the page before the messages are read.
func newMessagesPage(oc *openCase) messagesPage {
	return messagesPage{layout: oc.layout("Messages with your support person"), CasePath: oc.path, Action: oc.path + "/messages",
		MayWrite: !oc.closed(), FormID: newRequestID()}
}

// messagesView shows the conversation.
func (s *Site) messagesView(w http.ResponseWriter, r *http.Request) {
	var msgs []*caseworkv1.Message
	oc, err, ok := s.loadCaseWith(w, r, func(ctx context.Context, sess session.Session) (err error) {
		msgs, err = s.api.ListMessages(ctx, sess.Token, sess.Case)
		return err
	})
	if !ok {
		return
	}
	if err != nil {
		s.fail(w, r, oc.group, err)
		return
	}
	page := s.messagesFrom(r, oc, newMessagesPage(oc), msgs)
	page.Banner = bannerFor(r)
	s.render(w, r, http.StatusOK, "messages", page)
}

// messageSubmit sends a message, once, and shows the conversation with it.
// What the client wrote is never lost: should the API fail, the page comes
// back with it.
func (s *Site) messageSubmit(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxMessageForm) {
		return
	}
	text := multiLine(r.PostForm.Get("text"))
	notSent := func(oc *openCase, page messagesPage, err error) {
		s.logError(r.Context(), r, "sending a message failed", err)
		page.Text, page.MayWrite = text, true
		if id := r.PostForm.Get("formId"); uuidForm.MatchString(id) {
			page.FormID = id
		}
		page.Errors.add("message", notSentWords("your message"))
		w.Header().Set("Retry-After", "30")
		s.render(w, r, http.StatusServiceUnavailable, "messages", page)
	}
	oc, ok := s.loadCaseKeeping(w, r, func(oc *openCase, err error) {
		notSent(oc, messagesPage{layout: oc.layout("Messages with your support person"), CasePath: oc.path, Action: oc.path + "/messages", ThreadUnavailable: true}, err)
	})
	if !ok {
		return
	}
	var errs formErrors
	switch n := utf8.RuneCountInString(text); {
	case strings.TrimSpace(text) == "":
		errs.add("message", "Write your message")
	case n > maxLongText:
		errs.add("message", fmt.Sprintf("Your message must be %s characters or fewer: it has %s now. You can send it in parts", thousands(maxLongText), thousands(n)))
	}
	if errs.Any() || oc.closed() {
		page, err := s.loadMessages(r, oc)
		if err != nil {
			s.fail(w, r, oc.group, err)
			return
		}
		page.Errors, page.Text = errs, text
		if id := r.PostForm.Get("formId"); uuidForm.MatchString(id) {
			page.FormID = id
		}
		status := http.StatusBadRequest
		if !errs.Any() {
			status = http.StatusConflict
		}
		s.render(w, r, status, "messages", page)
		return
	}
	to, _, err := s.forms.do(formID(r, oc.sess), func() (string, error) {
		if _, err := s.api.CreateMessage(r.Context(), oc.sess.Token, oc.sess.Case, strings.TrimSpace(text)); err != nil {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "client sent a message", slog.String("case", oc.sess.Case))
		return doneAt(oc.path+"/messages", "message-sent") + "#last-message", nil
	})
	if unsent(err) {
		// The page again, with the thread if it can be read.
		page, lerr := s.loadMessages(r, oc)
		page.ThreadUnavailable = lerr != nil
		notSent(oc, page, err)
		return
	}
	if err != nil {
		s.stepFailed(w, r, oc, err, oc.path+"/messages", "Back to your messages")
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
