package pages

import (
	"log/slog"
	"net/http"
	"time"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
)

// A member's sign-ins, /{group}/members/sessions: every sign-in of theirs
// that has not ended, on this device or another, each of which they can
// end (a phone left signed in, say). Ending the one in use signs them out.

// sessionsPage lists the member's sign-ins.
type sessionsPage struct {
	layout
	Banner   *banner
	Sessions []sessionView
	FormID   string
}

// sessionView is one sign-in that has not ended.
type sessionView struct {
	ID string
	// Started, LastUsed and Ends are zero when not known.
	Started, LastUsed, Ends time.Time
	// ThisDevice marks the sign-in this page was opened with.
	ThisDevice bool
	// End is where its "End" button posts.
	End string
}

// sessionsPath is the member's sign-ins page.
func (m *signedInMember) sessionsPath() string { return m.home() + "sessions" }

// openSessions are the sessions that have not ended (revoked or expired)
// at now, as views with their "End" paths under base; current is the name
// of the session in use.
func openSessions(all []*directoryv1.MemberSession, now time.Time, current, base string) []sessionView {
	var out []sessionView
	for _, s := range all {
		if s.GetRevokeTime() != nil || s.GetExpireTime() != nil && !s.GetExpireTime().AsTime().After(now) {
			continue
		}
		id := lastSegment(s.GetName())
		v := sessionView{ID: id, ThisDevice: s.GetName() == current, End: base + "/" + id + "/end"}
		if t := s.GetCreateTime(); t != nil {
			v.Started = t.AsTime()
		}
		if t := s.GetLastUseTime(); t != nil {
			v.LastUsed = t.AsTime()
		}
		if t := s.GetExpireTime(); t != nil {
			v.Ends = t.AsTime()
		}
		out = append(out, v)
	}
	return out
}

// lastSegment is the last part of a resource name.
func lastSegment(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}

// memberSessions shows the member's sign-ins.
func (s *Site) memberSessions(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMember(w, r)
	if !ok {
		return
	}
	all, err := s.api.ListMemberSessions(r.Context(), m.sess.Token, m.sess.Member())
	if err != nil {
		s.fail(w, r, m.group, err)
		return
	}
	page := sessionsPage{layout: m.layout("Where you are signed in"), FormID: newRequestID(),
		Sessions: openSessions(all, s.now(), m.sess.MemberSession, m.sessionsPath())}
	if r.URL.Query().Get("done") == "session-ended" {
		page.Banner = &banner{Title: "You have ended that sign-in", Next: "Whoever used it is signed out within a minute. The other sign-ins are below."}
	}
	s.render(w, r, http.StatusOK, "member-sessions", page)
}

// memberSessionEnd ends one of the member's sign-ins; the one in use signs
// them out here as the sign-out button does.
func (s *Site) memberSessionEnd(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r, maxAdminForm) {
		return
	}
	m, ok := s.loadMember(w, r)
	if !ok {
		return
	}
	id := r.PathValue("session")
	if !api.ValidID(id) {
		s.notFoundIn(w, r, m.group)
		return
	}
	name := m.sess.Member() + "/sessions/" + id
	if name == m.sess.MemberSession {
		s.memberSignOut(w, r, m.group, m.sess)
		return
	}
	next, _, err := s.forms.do(formID(r, m.sess), func() (string, error) {
		err := s.api.RevokeMemberSession(r.Context(), m.sess.Token, name)
		if err != nil && !api.IsReason(err, "SESSION_REVOKED") {
			return "", err
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "member ended a sign-in", slog.String("member", m.sess.Member()))
		return doneAt(m.sessionsPath(), "session-ended"), nil
	})
	if err != nil {
		s.fail(w, r, m.group, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
