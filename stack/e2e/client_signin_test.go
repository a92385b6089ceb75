package e2e

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testclock"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
)

// clientLink finds a link to the website's page for a client's sign-in
// link in a mail's text, with the reference written above it.
var clientLink = regexp.MustCompile(`Reference ([0-9A-Z-]+):\s+(https?://\S+/link/([a-z2-7]+))`)

// clientLinkMail waits for a new mail with a client's sign-in links to
// address and returns its links by reference, and their secrets.
func (s *system) clientLinkMail(t *testing.T, address string, seen map[string]bool) (links, secrets map[string]string) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, 30*time.Second, "the client's sign-in links to arrive at "+address, func() bool {
		msgs, err := s.Mail.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if seen[m.ID] || !strings.HasPrefix(m.Subject, "Your link to come back to your concern") ||
				!slices.ContainsFunc(m.To, func(a testenv.Address) bool { return a.Address == address }) {
				continue
			}
			body, err := s.Mail.Body(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			seen[m.ID] = true
			links, secrets = map[string]string{}, map[string]string{}
			for _, found := range clientLink.FindAllStringSubmatch(body.Text, -1) {
				links[found[1]], secrets[found[1]] = found[2], found[3]
			}
			if len(links) == 0 {
				t.Fatalf("the mail holds no link:\n%s", body.Text)
			}
			return true
		}
		return false
	})
	return links, secrets
}

// TestClientSignsInFromTheMail: a client who gave an e-mail address asks
// for a link over REST (an unknown address gets the same answer), reads it
// in the mail under their case's reference, and with it gets a client
// session that reads their case; the link works once; one older than 15
// minutes (intake's clock moved) is expired; the sixth request within the
// hour for the address is refused. Then the canary search: the links'
// secrets and the session's token are on no message of the event stream,
// in no log line and nowhere in a pg_dump (intake keeps their SHA-256).
func TestClientSignsInFromTheMail(t *testing.T) {
	// A testclock build: intake reads a clock file of its own, which only
	// this test moves; casework's stays at real time.
	dir := t.TempDir()
	clock, caseworkClock := filepath.Join(dir, "intake-clock"), filepath.Join(dir, "casework-clock")
	for _, f := range []string{clock, caseworkClock} {
		if err := testclock.Set(f, 0); err != nil {
			t.Fatal(err)
		}
	}
	s := startSystemWith(t, systemOptions{ClockFile: caseworkClock,
		Settings: map[string][]string{"intake": {testclock.FileEnv + "=" + clock}}})
	group := "groups/" + demo.GroupID
	marker := "CANARY" + strings.ToUpper(launch.RandomSecret()[:12])
	raised := s.raiseConcern(t, marker)
	email := strings.ToLower(marker) + "@client.example.net"

	ask := func(address string) (int, string) {
		var out map[string]any
		code := s.call(t, http.MethodPost, "/v1/clientSignInLinks:request", "", map[string]any{"group": group, "email": address}, &out)
		return code, strings.Join(keysOf(out), ",")
	}
	// The same answer for the client's address, as typed in capitals, and
	// for one that is nobody's.
	codeKnown, bodyKnown := ask(strings.ToUpper(email))
	codeUnknown, bodyUnknown := ask("nobody-" + email)
	if codeKnown != http.StatusOK || codeUnknown != codeKnown || bodyKnown != bodyUnknown {
		t.Fatalf("asking: HTTP %d %q for the client, %d %q for nobody; want the same 200", codeKnown, bodyKnown, codeUnknown, bodyUnknown)
	}
	seen := map[string]bool{}
	links, secrets := s.clientLinkMail(t, email, seen)
	secret := secrets[raised.Reference]
	if want := s.WebURL() + "/" + demo.GroupID + "/link/" + secret; len(links) != 1 || links[raised.Reference] != want {
		t.Fatalf("links %v; want one, %s, under the reference %s", links, want, raised.Reference)
	}

	var session struct {
		Token string `json:"token"`
		Case  string `json:"case"`
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]any{"linkSecret": secret}, &session); code != http.StatusOK ||
		!strings.HasPrefix(session.Token, "ipncs_") || session.Case != raised.Case {
		t.Fatalf("client session from the link: HTTP %d %+v; want one for %s", code, session, raised.Case)
	}
	s.openedCase(t, session.Token, session.Case)

	// Once only, and the answer says why.
	var again struct {
		Details []statusDetail `json:"details"`
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]any{"linkSecret": secret}, &again); code != http.StatusBadRequest ||
		!slices.ContainsFunc(again.Details, hasReason("SIGN_IN_LINK_USED")) {
		t.Errorf("the link used again: HTTP %d %+v; want 400 SIGN_IN_LINK_USED", code, again)
	}

	// A second link: the website's page for it uses nothing on a GET (mail
	// scanners fetch links); 16 minutes on, by intake's clock, it is
	// expired.
	if code, _ := ask(email); code != http.StatusOK {
		t.Fatalf("asking for a second link: HTTP %d", code)
	}
	secondLinks, secondSecrets := s.clientLinkMail(t, email, seen)
	second := secondSecrets[raised.Reference]
	resp, err := http.Get(secondLinks[raised.Reference])
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the website's page for the link: HTTP %d", resp.StatusCode)
	}
	if err := testclock.Set(clock, 16*time.Minute); err != nil {
		t.Fatal(err)
	}
	var expired struct {
		Details []statusDetail `json:"details"`
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]any{"linkSecret": second}, &expired); code != http.StatusBadRequest ||
		!slices.ContainsFunc(expired.Details, hasReason("SIGN_IN_LINK_EXPIRED")) {
		t.Errorf("the link after 16 minutes: HTTP %d %+v; want 400 SIGN_IN_LINK_EXPIRED", code, expired)
	}
	if err := testclock.Set(clock, 0); err != nil {
		t.Fatal(err)
	}

	// Five requests per address and hour (two made above), then a refusal.
	for i := range 3 {
		if code, _ := ask(email); code != http.StatusOK {
			t.Fatalf("request %d within the limit: HTTP %d", i+3, code)
		}
	}
	var refused struct {
		Details []statusDetail `json:"details"`
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSignInLinks:request", "", map[string]any{"group": group, "email": email}, &refused); code != http.StatusTooManyRequests ||
		!slices.ContainsFunc(refused.Details, hasReason("TOO_MANY_SIGN_IN_LINKS")) {
		t.Errorf("the sixth request: HTTP %d %+v; want 429 TOO_MANY_SIGN_IN_LINKS", code, refused)
	}

	tokenSecret := session.Token[strings.LastIndex(session.Token, "_")+1:]
	s.searchForSecrets(t, []string{secret, second, session.Token, tokenSecret}, "client_sign_in_links", "client_sessions")
}

// keysOf lists a JSON object's keys, sorted: what an answer holds, not
// its values.
func keysOf(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
