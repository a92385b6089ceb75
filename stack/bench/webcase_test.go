package bench

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
)

// The demo members who act in the benchmark's case: cal-reyes is the
// therapist (every benchmark concern is about them, see practitioner).
const (
	therapistID = "cal-reyes"
	sptID       = "eli-nakamura"
	spcID       = "alex-morgan"
	lpID        = "bea-lindqvist"
	appointerID = "dana-holt"
)

// webCase is what the website's pages are measured with: a case far enough
// along that each of the client's pages has something to show, and the
// client's session cookie for it, from signing in through the website.
type webCase struct {
	// groupName is the group's name, the group page's h1.
	groupName string
	// path is the case's page, /{group}/cases/{case}.
	path string
	// cookie is the website's session cookie for the case.
	cookie *http.Cookie
}

// prepareWebCase registers concern number i, takes the members' and the client's
// steps over REST up to the practitioner's response relayed to the client
// (a meeting accepted, messages both ways, the written statement approved
// and conveyed), and signs the client in through the website's own form as
// a browser would. The client has yet to decide, so every page offers what
// it offers a client in the middle of their case.
func (e *env) prepareWebCase(b *testing.B, i int64) *webCase {
	b.Helper()
	var group struct {
		DisplayName string `json:"displayName"`
	}
	e.rest(b, http.MethodGet, "/v1/groups/"+demo.GroupID, "", nil, &group)

	var concern struct {
		Reference  string `json:"reference"`
		AccessCode string `json:"accessCode"`
		Case       string `json:"case"`
	}
	e.rest(b, http.MethodPost, "/v1/groups/"+demo.GroupID+"/concerns?requestId="+newUUID(), "", map[string]any{
		"practitioner":   practitioner,
		"description":    description(i),
		"desiredOutcome": "An apology, and an explanation of why the sessions ended early.",
		"clientName":     clientName(i),
		"clientContact":  map[string]string{"email": clientEmail(i), "phone": clientPhone(i)},
	}, &concern)

	var session struct {
		Token string `json:"token"`
	}
	e.rest(b, http.MethodPost, "/v1/clientSessions", "", map[string]string{"reference": concern.Reference, "accessCode": concern.AccessCode}, &session)
	client := session.Token
	// Waited for as the client, as the website waits: a member's read
	// while the case opens asks intake about the concern, and may find it
	// handed over before casework's own read sees the case (400
	// CONCERN_HANDED_OVER).
	e.waitOpened(b, concern.Case, client)
	therapist, spt, spc, appointer := e.token(b, therapistID), e.token(b, sptID), e.token(b, spcID), e.token(b, appointerID)
	step := func(token, name string, input map[string]any) string {
		body := map[string]any{"step": name}
		for k, v := range input {
			body[k] = v
		}
		var out struct {
			Created string `json:"created"`
		}
		e.rest(b, http.MethodPost, "/v1/"+concern.Case+":takeStep", token, body, &out)
		return out.Created
	}
	message := func(token, text string) {
		e.rest(b, http.MethodPost, "/v1/"+concern.Case+"/messages", token, map[string]string{"text": text}, nil)
	}

	step(therapist, "nominate_spt", map[string]any{"member": member(sptID)})
	step(spt, "answer_spt_nomination", map[string]any{"outcome": "ACCEPTED"})
	step(appointer, "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{"spc": member(spcID), "lp": member(lpID)}})
	meeting := step(spc, "offer_client_meeting", map[string]any{"meetingProposal": proposal(3)})
	message(spc, "Hello, I am your support person. I have offered three times to meet; choose the one that suits you, or ask for others.")
	message(client, "Thank you. Tuesday afternoon suits me best, and I would like to bring my notes from the sessions.")
	message(spc, "Of course, bring them. See you on Tuesday.")
	step(client, "answer_client_meeting", map[string]any{"outcome": "ACCEPTED", "meetingAnswer": map[string]any{"meeting": meeting, "slots": []int{1}}})
	statement := step(spc, "write_statement", map[string]any{"writtenStatement": map[string]string{
		"concern":        strings.Repeat("Over four months, several sessions ended early without an explanation, and one cancelled at short notice was charged for. ", 8),
		"desiredOutcome": "An acknowledgement of what happened, an explanation, and a refund of the cancelled session.",
		"summary":        "The client felt the endings were abrupt and the charge unfair.",
	}})
	step(client, "answer_statement", map[string]any{"outcome": "APPROVED", "statementAnswer": map[string]any{
		"document":    statement,
		"constraints": map[string]any{"sharing": "SHARING_SUMMARY_ONLY", "withheldDetails": []string{"the name of my employer"}},
	}})
	step(spc, "convey_statement", nil)
	step(therapist, "record_response", map[string]any{"text": map[string]string{"text": strings.Repeat(
		"I regret how the sessions ended and would like to explain what was happening at the time. ", 6)}})
	step(spc, "relay_response", nil)

	path, cookie := e.signIn(b, concern.Reference, concern.AccessCode)
	return &webCase{groupName: group.DisplayName, path: path, cookie: cookie}
}

// member is the resource name of a demo member.
func member(id string) string { return "groups/" + demo.GroupID + "/members/" + id }

// proposal is a meeting proposal of n one-hour slots, a day apart, from a
// week on.
func proposal(n int) map[string]any {
	start := time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Hour)
	var slots []map[string]string
	for i := range n {
		s := start.Add(time.Duration(i) * 24 * time.Hour)
		slots = append(slots, map[string]string{"startTime": s.Format(time.RFC3339), "endTime": s.Add(time.Hour).Format(time.RFC3339)})
	}
	return map[string]any{"slots": slots, "location": "the group's usual room"}
}

// token is the demo member's access token.
func (e *env) token(b *testing.B, id string) string {
	b.Helper()
	for _, c := range e.creds {
		if c.Member.ID == id {
			return c.Token
		}
	}
	b.Fatalf("no demo credential for %s", id)
	return ""
}

// rest calls the REST API as the holder of token (none when empty), and
// decodes the JSON answer into out when out is not nil; anything but a 200
// fails the benchmark.
func (e *env) rest(b *testing.B, method, path, token string, body, out any) {
	b.Helper()
	if code, answer, err := e.restCall(method, path, token, body, out); err != nil || code != http.StatusOK {
		b.Fatalf("%s %s: HTTP %d %s %v", method, path, code, truncate(answer, 300), err)
	}
}

// waitOpened waits until casework has opened the case (until then reading
// it answers 404 CASE_OPENING; anything else fails the benchmark).
func (e *env) waitOpened(b *testing.B, caseName, token string) {
	b.Helper()
	testenv.Eventually(b, time.Minute, "casework to open "+caseName, func() bool {
		code, answer, err := e.restCall(http.MethodGet, "/v1/"+caseName, token, nil, nil)
		if err != nil || code != http.StatusOK && (code != http.StatusNotFound || !strings.Contains(answer, "CASE_OPENING")) {
			b.Fatalf("reading %s: HTTP %d %s %v; want 200 or 404 CASE_OPENING", caseName, code, truncate(answer, 300), err)
		}
		return code == http.StatusOK
	})
}

// signIn signs the client in through the website's form as a browser does
// (the form, then its POST, keeping the cookies the site sets) and returns
// the path of the case it leads to and the session cookie.
func (e *env) signIn(b *testing.B, reference, accessCode string) (string, *http.Cookie) {
	b.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := e.sys.WebURL() + "/" + demo.GroupID + "/sign-in"
	resp, err := browser.Get(signIn)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: HTTP %d", signIn, resp.StatusCode)
	}
	req, err := http.NewRequest(http.MethodPost, signIn, strings.NewReader(url.Values{"reference": {reference}, "accessCode": {accessCode}}.Encode()))
	if err != nil {
		b.Fatal(err)
	}
	sameOrigin(req, e.sys.WebURL())
	resp, err = browser.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	where := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(where, "/"+demo.GroupID+"/cases/") {
		b.Fatalf("signing in through the website: HTTP %d to %q; want 303 to the case: %s", resp.StatusCode, where, truncate(string(page), 300))
	}
	cookies := jar.Cookies(req.URL)
	if len(cookies) != 1 {
		b.Fatalf("after signing in the browser holds %d cookies for the website; want its session cookie alone", len(cookies))
	}
	return where, cookies[0]
}

// sameOrigin marks a form's POST as a browser marks one sent from a page of
// the same site, which the website's cross-origin protection lets through.
func sameOrigin(req *http.Request, origin string) {
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
}
