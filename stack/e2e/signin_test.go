package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
)

// signInLink finds a link to the website's sign-in page in a mail's text.
var signInLink = regexp.MustCompile(`https?://\S+/sign-in/([A-Za-z0-9_-]+)`)

// signInMail waits for the sign-in mail to address and returns the link
// and its secret; mails about other things are left alone.
func (s *system) signInMail(t *testing.T, address string, skip map[string]bool) (link, secret string) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, 30*time.Second, "the sign-in link to arrive at "+address, func() bool {
		msgs, err := s.Mail.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if skip[m.ID] || !strings.HasPrefix(m.Subject, "Your link to sign in") ||
				!slices.ContainsFunc(m.To, func(a testenv.Address) bool { return a.Address == address }) {
				continue
			}
			body, err := s.Mail.Body(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			found := signInLink.FindStringSubmatch(body.Text)
			if found == nil {
				t.Fatalf("the sign-in mail holds no link:\n%s", body.Text)
			}
			skip[m.ID] = true
			link, secret = found[0], found[1]
			return true
		}
		return false
	})
	return link, secret
}

// TestMemberSignsInFromTheMail: a member asks for a link over REST, reads it
// in the mail, signs in with it and reads a case with the member session's
// token; the link works once; ending the session ends its access. Then the
// canary search: the link's secret and the session's token are on no
// message of the event stream, in no log line of any process, and nowhere
// in a plain pg_dump of the database (the directory keeps their SHA-256).
func TestMemberSignsInFromTheMail(t *testing.T) {
	s := startSystem(t)
	member := demo.Members[1]
	group := "groups/" + demo.GroupID
	marker := "CANARY" + strings.ToUpper(launch.RandomSecret()[:12])
	caseName := s.openedCase(t, s.Token(member.ID), s.raiseConcern(t, marker).Case)

	// Ask, as the website does: no credentials, the group and the address
	// as the member types it. An unknown address gets the same answer.
	for _, email := range []string{strings.ToUpper(member.Email), "nobody@riverside.example.org"} {
		if code := s.call(t, http.MethodPost, "/v1/signInLinks:request", "", map[string]any{"group": group, "email": email}, nil); code != http.StatusOK {
			t.Fatalf("asking for a link for %s: HTTP %d", email, code)
		}
	}
	seen := map[string]bool{}
	link, secret := s.signInMail(t, member.Email, seen)
	if want := s.WebURL() + "/" + demo.GroupID + "/sign-in/" + secret; link != want {
		t.Errorf("link %s; want %s", link, want)
	}

	var session struct {
		Name       string `json:"name"`
		Token      string `json:"token"`
		ExpireTime string `json:"expireTime"`
	}
	if code := s.call(t, http.MethodPost, "/v1/memberSessions", "", map[string]any{"secret": secret}, &session); code != http.StatusOK ||
		!strings.HasPrefix(session.Token, "ipnms_") || !strings.HasPrefix(session.Name, group+"/members/"+member.ID+"/sessions/") {
		t.Fatalf("member session: HTTP %d %+v", code, session)
	}
	var read struct {
		Name string `json:"name"`
	}
	if code := s.call(t, http.MethodGet, "/v1/"+caseName, session.Token, nil, &read); code != http.StatusOK || read.Name != caseName {
		t.Errorf("reading the case with the member session: HTTP %d %+v", code, read)
	}

	// Once only, and the answer says why.
	var again struct {
		Details []statusDetail `json:"details"`
	}
	if code := s.call(t, http.MethodPost, "/v1/memberSessions", "", map[string]any{"secret": secret}, &again); code != http.StatusBadRequest ||
		!slices.ContainsFunc(again.Details, hasReason("SIGN_IN_LINK_USED")) {
		t.Errorf("the link used again: HTTP %d %+v; want 400 SIGN_IN_LINK_USED", code, again)
	}

	// The member sees the session, without its token, and ends it.
	var list struct {
		MemberSessions []map[string]any `json:"memberSessions"`
	}
	if code := s.call(t, http.MethodGet, "/v1/"+group+"/members/"+member.ID+"/sessions", session.Token, nil, &list); code != http.StatusOK ||
		len(list.MemberSessions) != 1 || list.MemberSessions[0]["name"] != session.Name || list.MemberSessions[0]["token"] != nil && list.MemberSessions[0]["token"] != "" {
		t.Errorf("the member's sessions: HTTP %d %+v", code, list)
	}
	if code := s.call(t, http.MethodPost, "/v1/"+session.Name+":revoke", session.Token, map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("revoking the session: HTTP %d", code)
	}
	// The other services may trust a cached answer for 15 seconds.
	testenv.Eventually(t, 30*time.Second, "the ended session to stop reading the case", func() bool {
		return s.call(t, http.MethodGet, "/v1/"+caseName, session.Token, nil, nil) == http.StatusUnauthorized
	})
	if code := s.call(t, http.MethodGet, "/v1/"+group+"/members/"+member.ID+"/sessions", session.Token, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("the directory with the ended session: HTTP %d; want 401", code)
	}

	// The canary search. A second link, whose page the website shows, must
	// be nowhere either, nor its session's token.
	if code := s.call(t, http.MethodPost, "/v1/signInLinks:request", "", map[string]any{"group": group, "email": member.Email}, nil); code != http.StatusOK {
		t.Fatalf("asking for a second link: HTTP %d", code)
	}
	secondLink, second := s.signInMail(t, member.Email, seen)
	// The website's page for the link, fetched as a mail scanner would,
	// uses nothing: the link still signs in afterwards.
	resp, err := http.Get(secondLink)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="sign-in"`) {
		t.Errorf("the website's page for the link: HTTP %d", resp.StatusCode)
	}
	var secondSession struct {
		Token string `json:"token"`
	}
	if code := s.call(t, http.MethodPost, "/v1/memberSessions", "", map[string]any{"secret": second}, &secondSession); code != http.StatusOK {
		t.Errorf("the link after the website showed its page: HTTP %d; want it still good", code)
	}
	// The session token whole, and its secret part alone
	// (ipnms_<id>_<secret>).
	tokenSecret := session.Token[strings.LastIndex(session.Token, "_")+1:]
	secrets := []string{secret, second, session.Token, tokenSecret, secondSession.Token}
	s.searchForSecrets(t, secrets, "sign_in_links", "member_sessions")
	// The sending was logged, naming the member only.
	b, err := os.ReadFile(filepath.Join(s.LogDir, "notification.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "sign-in link sent") || !strings.Contains(string(b), group+"/members/"+member.ID) {
		t.Error("notification's log does not say that the link was sent to the member")
	}
}

// searchForSecrets is the canary search of the sign-in tests: each of
// secrets (40 characters or more, so that no chance match can hide a real
// one) is on no message of the event stream, in no log line of any
// process, and nowhere in a plain pg_dump of the database, which must hold
// the named tables (where the secrets' hashes are).
func (s *system) searchForSecrets(t *testing.T, secrets []string, tables ...string) {
	t.Helper()
	for _, sec := range secrets {
		if len(sec) < 40 {
			t.Fatalf("%q is too short to search for", sec)
		}
	}
	t.Run("event stream", func(t *testing.T) {
		n := 0
		for _, m := range s.streamMessages(t) {
			n++
			lookFor(t, "event "+m.Subject, string(m.Data)+strings.Join(headerValues(m.Header), " "), secrets)
		}
		if n == 0 {
			t.Error("nothing on the stream; the concern should have written events")
		}
	})
	t.Run("logs", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(s.LogDir, "*.log"))
		if err != nil || len(files) < 5 {
			t.Fatalf("log files %v: %v", files, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lookFor(t, filepath.Base(f), string(b), secrets)
		}
	})
	t.Run("pg_dump", func(t *testing.T) {
		dump := pgDump(t, s.DatabaseURL)
		for _, table := range tables {
			if !strings.Contains(dump, table) {
				t.Fatalf("the dump does not hold %s (%d bytes)", table, len(dump))
			}
		}
		lookFor(t, "pg_dump", dump, secrets)
	})
}

// headerValues flattens a message's headers for searching.
func headerValues(h map[string][]string) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k)
		out = append(out, vs...)
	}
	return out
}
