package browsertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
	"github.com/ipnmediation/disputes/stack/launch/launchtest"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system is the whole system as make run starts it, website included, on
// free ports with its own database and event stream, and the demo group.
type system struct {
	*launch.System
	root  string
	creds map[string]string // demo member id to access token
	// mail is the mail catcher the system sends to: the members' sign-in
	// links are read from it.
	mail *testenv.Mailpit
	// mailTaken are the mails whose sign-in link a walk has used: two
	// walks at once sign the same members in.
	mailMu    sync.Mutex
	mailTaken map[string]bool
}

func startSystem(t *testing.T) *system {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	started := launchtest.Start(t, launchtest.Options{})
	s := &system{System: started.System, root: root, creds: map[string]string{}, mail: started.Mail, mailTaken: map[string]bool{}}
	for _, c := range started.Demo {
		s.creds[c.Member.ID] = c.Token
	}
	return s
}

// member is a demo member's id in the resource name the API takes.
func member(id string) string { return "groups/" + demo.GroupID + "/members/" + id }

// rest calls the REST API as a demo member (or, with no member, as anybody),
// for the members' steps the website has no pages for yet; it fails the
// test unless the API answers 200.
func (s *system) rest(t *testing.T, memberID, method, path string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.GatewayURL()+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if memberID != "" {
		req.Header.Set("Authorization", "Bearer "+s.creds[memberID])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s as %s: %d %s", method, path, memberID, resp.StatusCode, out)
	}
}

// step takes a step of the procedure on the case as a demo member.
func (s *system) step(t *testing.T, memberID, caseName, step string, input map[string]any) {
	t.Helper()
	body := map[string]any{"step": step}
	for k, v := range input {
		body[k] = v
	}
	s.rest(t, memberID, http.MethodPost, "/v1/"+caseName+":takeStep", body)
}

// caseOpened waits until casework has opened the case, as a member reads
// it, so that the members' first step finds it.
func (s *system) caseOpened(t *testing.T, caseName string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, "casework opening "+caseName, func() bool {
		req, _ := http.NewRequest(http.MethodGet, s.GatewayURL()+"/v1/"+caseName, nil)
		req.Header.Set("Authorization", "Bearer "+s.creds["fran-okafor"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}
