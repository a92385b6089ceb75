package pages

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/web/internal/api"
	"github.com/ipnmediation/disputes/web/internal/session"
)

// The members' pages live under /{group}/members/: "My work", each case
// as the member's roles in it allow, and the form of each step open to
// them. Every read is made with the member's session token, so what a page
// shows is what casework answers that member, and nothing the website
// decides by itself: the confidentiality table is casework's to keep. The
// pages only choose not to ask for what a role never reads (the messages,
// for anyone but the client's support person), so that no read is logged
// for nothing.

// signedInMember is a member's request: their group and session.
type signedInMember struct {
	group *groupView
	sess  session.Session
}

// layout is the frame of a member's page.
func (m *signedInMember) layout(title string) layout {
	return layout{Title: title, Group: m.group, SignedIn: true, Member: true}
}

// home is the member's "My work" page.
func (m *signedInMember) home() string { return "/" + m.group.ID + "/members/" }

// casePath is the member's page of the case with that id.
func (m *signedInMember) casePath(id string) string { return m.home() + "cases/" + id }

// loadMember reads the member's session for the group the path names.
// Without one (or with a client's), it sends them to the members' sign-in
// page; an ended one says so. It answers and returns false when it cannot
// go on.
func (s *Site) loadMember(w http.ResponseWriter, r *http.Request) (*signedInMember, bool) {
	g, ok := s.loadGroup(w, r)
	if !ok {
		return nil, false
	}
	sess, err := s.sessions.Read(r)
	switch {
	case errors.Is(err, session.ErrNoSession) || err == nil && (!sess.IsMember() || sess.Group() != g.ID):
		http.Redirect(w, r, "/"+g.ID+"/members/sign-in", http.StatusSeeOther)
		return nil, false
	case err != nil:
		s.sessionEnded(w, r, g)
		return nil, false
	}
	return &signedInMember{group: g, sess: sess}, true
}

// memberCase is a case as one of the member's pages reads it.
type memberCase struct {
	*signedInMember
	c *caseworkv1.Case
	// id is the case's id; path its page for the member.
	id, path string
}

// name is the case's resource name.
func (mc *memberCase) name() string { return mc.c.GetName() }

// has reports whether the member holds one of roles in the case.
func (mc *memberCase) has(roles ...procedurev1.Role) bool {
	for _, r := range mc.c.GetCallerRoles() {
		for _, want := range roles {
			if r == want {
				return true
			}
		}
	}
	return false
}

// mayTake reports whether the member may take step now.
func (mc *memberCase) mayTake(step string) bool {
	for _, n := range mc.c.GetNextSteps() {
		if n.GetStep() == step && n.GetCallerMayTake() {
			return true
		}
	}
	return false
}

// owns reports whether name is a resource of this case in collection
// ("meetings", "documents").
func (mc *memberCase) owns(collection, name string) bool {
	id, ok := strings.CutPrefix(name, mc.name()+"/"+collection+"/")
	return ok && api.ValidID(id)
}

// loadMemberCase reads the case the path names with the member's session,
// and read (nil for none) at the same time. A case still being opened is
// read again for a few seconds. It answers and returns false when it
// cannot go on; read's error is returned for the page to answer.
func (s *Site) loadMemberCase(w http.ResponseWriter, r *http.Request, read func(ctx context.Context, token, caseName string) error) (*memberCase, error, bool) {
	id := r.PathValue("case")
	if !api.ValidID(r.PathValue("group")) || !api.ValidID(id) {
		s.notFound(w, r)
		return nil, nil, false
	}
	m, ok := s.loadMember(w, r)
	if !ok {
		return nil, nil, false
	}
	caseName := "groups/" + m.group.ID + "/cases/" + id
	sess := session.Session{Token: m.sess.Token, Case: caseName}
	var sr sessionRead
	if read != nil {
		sr = func(ctx context.Context, sess session.Session) error { return read(ctx, sess.Token, sess.Case) }
	}
	c, readErr, err := s.getCaseWith(r.Context(), sess, sr)
	if api.IsReason(err, "CASE_OPENING") {
		s.render(w, r, http.StatusOK, "opening", openingPage{layout: m.layout("This case is being set up"), CasePath: m.casePath(id)})
		return nil, nil, false
	}
	if err != nil {
		s.fail(w, r, m.group, err)
		return nil, nil, false
	}
	return &memberCase{signedInMember: m, c: c, id: id, path: m.casePath(id)}, readErr, true
}

// loadMemberCaseAnd is loadMemberCase for a page that cannot be shown
// without its read: when read fails, it answers for that too.
func (s *Site) loadMemberCaseAnd(w http.ResponseWriter, r *http.Request, read func(ctx context.Context, token, caseName string) error) (*memberCase, bool) {
	mc, err, ok := s.loadMemberCase(w, r, read)
	if !ok {
		return nil, false
	}
	if err != nil {
		s.fail(w, r, mc.group, err)
		return nil, false
	}
	return mc, true
}

// memberNames reads members' display names, each once, at the same time:
// a page that names the case's people waits for one read, not one per
// person. A name that cannot be read is left out (the page then says
// "a member"), and logged.
func (s *Site) memberNames(r *http.Request, names ...string) map[string]string {
	out := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] || !strings.HasPrefix(n, "groups/") {
			continue
		}
		seen[n] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := s.api.GetMember(r.Context(), n)
			if err != nil {
				s.logError(r.Context(), r, "reading a member's name failed", err)
				return
			}
			mu.Lock()
			out[n] = m.GetDisplayName()
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// personName is who did something, as a member reads it: a member's name,
// "the client", a link group, or "the system" for casework's own entries.
func personName(names map[string]string, who string) string {
	switch {
	case who == "client":
		return "The client"
	case who == "casework" || who == "":
		return "The system"
	case strings.Contains(who, "/linkGroups/"):
		return "A link group"
	}
	if n, ok := names[who]; ok && n != "" {
		return n
	}
	return "A member"
}
