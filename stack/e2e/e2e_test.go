// Package e2e runs the real binaries as separate processes against real
// PostgreSQL, NATS and SMTP servers and walks the system from the website's
// form to every member's inbox.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/localpg"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/stack/demo"
	"github.com/ipnmediation/disputes/stack/launch"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system starts every binary against the test's own database, event
// namespace and mail server, and loads the demo group.
type system struct {
	*launch.System
	mail  *testenv.Mailpit
	creds []demo.Credential
}

func startSystem(t *testing.T) *system {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := t.TempDir()
	if err := launch.Build(ctx, root, bin); err != nil {
		t.Fatal(err)
	}
	var ports []int
	for range 5 {
		p, err := localpg.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, p)
	}
	mail := testenv.StartMailpit(t)
	logDir := t.TempDir()
	sys := &launch.System{
		BinDir:         bin,
		DatabaseURL:    testenv.Database(t),
		NATSURL:        testenv.NATS(t),
		EventNamespace: string(testenv.Namespace(t)),
		SMTPAddr:       mail.SMTPAddr,
		SendRate:       40,
		Ports:          launch.Ports{Directory: ports[0], Intake: ports[1], Casework: ports[2], Notification: ports[3], Gateway: ports[4]},
		LogLevel:       "info",
		Logs: func(name string) io.Writer {
			f, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		},
	}
	sys.NewSecrets()
	t.Cleanup(func() {
		if err := sys.StopAll(15 * time.Second); err != nil {
			t.Errorf("graceful stop: %v", err)
		}
		if t.Failed() {
			for _, name := range append(append([]string(nil), launch.Services...), "gateway") {
				b, _ := os.ReadFile(filepath.Join(logDir, name+".log"))
				t.Logf("--- %s log (tail) ---\n%s", name, tail(string(b), 4000))
			}
		}
	})
	if err := sys.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(sys.Addr("directory"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	creds, err := demo.Load(ctx, directoryv1.NewDirectoryServiceClient(conn), sys.OperatorToken)
	if err != nil {
		t.Fatal(err)
	}
	return &system{System: sys, mail: mail, creds: creds}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// call sends a JSON request to the REST API and decodes the JSON answer.
func (s *system) call(t *testing.T, method, path, token string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.GatewayURL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

type concernReply struct {
	Name       string `json:"name"`
	Reference  string `json:"reference"`
	AccessCode string `json:"accessCode"`
}

// raiseConcern posts the website's form; every free-text field carries
// marker so the test can look for it where it must not be.
func (s *system) raiseConcern(t *testing.T, marker string) concernReply {
	t.Helper()
	var out concernReply
	code := s.call(t, http.MethodPost, "/v1/groups/"+demo.GroupID+"/concerns", "", map[string]any{
		"practitioner":  "groups/" + demo.GroupID + "/members/cal-reyes",
		"description":   "I felt unheard in our sessions " + marker,
		"clientName":    "Client " + marker,
		"clientContact": map[string]string{"email": strings.ToLower(marker) + "@client.example.net"},
	}, &out)
	if code != http.StatusOK || out.Reference == "" || out.AccessCode == "" || out.Name == "" {
		t.Fatalf("raise concern: HTTP %d, %+v", code, out)
	}
	return out
}

func (s *system) token(id string) string {
	for _, c := range s.creds {
		if c.Member.ID == id {
			return c.Token
		}
	}
	return ""
}

var concernName = regexp.MustCompile(`groups/[a-z0-9-]+/concerns/[a-z0-9-]+`)

// inbox maps each recipient address to the concerns named in the mail they
// received, one entry per message.
func (s *system) inbox(t *testing.T, forbidden []string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	msgs, err := s.mail.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, m := range msgs {
		raw, err := s.mail.Raw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range forbidden {
			if strings.Contains(raw, f) {
				t.Errorf("e-mail %q to %v carries confidential text %q", m.Subject, m.To, f)
			}
		}
		body, err := s.mail.Body(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		name := concernName.FindString(body.Text)
		for _, to := range m.To {
			out[to.Address] = append(out[to.Address], name)
		}
	}
	return out
}

func countMessages(t *testing.T, m *testenv.Mailpit) int {
	msgs, err := m.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

func TestWalkingSkeleton(t *testing.T) {
	s := startSystem(t)
	members := len(demo.Members)

	// The website's form: a concern is registered without any account.
	marker := "CANARY" + strings.ToUpper(launch.RandomSecret()[:12])
	first := s.raiseConcern(t, marker)

	// Casework opens the case from intake's event.
	var cases struct {
		Cases []struct {
			Name      string `json:"name"`
			Concern   string `json:"concern"`
			Reference string `json:"reference"`
			Phase     string `json:"phase"`
			Clock     struct {
				Deadline string `json:"deadline"`
			} `json:"clock"`
		} `json:"cases"`
	}
	testenv.Eventually(t, 30*time.Second, "casework to open the case", func() bool {
		code := s.call(t, http.MethodGet, "/v1/groups/"+demo.GroupID+"/cases", s.token("bea-lindqvist"), nil, &cases)
		return code == http.StatusOK && len(cases.Cases) == 1
	})
	c := cases.Cases[0]
	if c.Concern != first.Name || c.Reference != first.Reference || c.Phase != "PHASE_REGISTERED" || c.Clock.Deadline == "" {
		t.Errorf("opened case = %+v, want it for %s", c, first.Name)
	}
	if code := s.call(t, http.MethodGet, "/v1/groups/"+demo.GroupID+"/cases", "", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("cases without credentials: HTTP %d, want 401", code)
	}

	// Notification tells every active member, without the concern's words.
	testenv.Eventually(t, 60*time.Second, "an e-mail to every member", func() bool {
		return countMessages(t, s.mail) >= members
	})
	inbox := s.inbox(t, []string{marker, strings.ToLower(marker)})
	for _, p := range demo.Members {
		if got := inbox[p.Email]; len(got) != 1 || got[0] != first.Name {
			t.Errorf("%s received %v, want one e-mail about %s", p.Email, got, first.Name)
		}
	}

	// A burst of 50 concerns; notification is killed (-9) while it is
	// delivering them and started again. Nothing may be lost or doubled.
	const burst = 50
	names := map[string]bool{first.Name: true}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.raiseConcern(t, fmt.Sprintf("%sB%02d", marker, i))
			mu.Lock()
			names[r.Name] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	total := (burst + 1) * members
	testenv.Eventually(t, 60*time.Second, "delivery of the burst to be under way", func() bool {
		return countMessages(t, s.mail) >= members+40
	})
	if n := countMessages(t, s.mail); n >= total {
		t.Fatalf("all %d messages were delivered before the kill; the test would prove nothing", n)
	}
	s.Proc("notification").Kill()
	if _, err := s.Start("notification"); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitReady(context.Background(), "notification"); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 3*time.Minute, fmt.Sprintf("all %d e-mails", total), func() bool {
		return countMessages(t, s.mail) >= total
	})

	inbox = s.inbox(t, []string{marker, strings.ToLower(marker)})
	for _, p := range demo.Members {
		seen := map[string]int{}
		for _, name := range inbox[p.Email] {
			seen[name]++
		}
		for name := range names {
			if seen[name] != 1 {
				t.Errorf("%s received %d e-mails about %s, want exactly 1", p.Email, seen[name], name)
			}
		}
		if len(inbox[p.Email]) != len(names) {
			t.Errorf("%s received %d e-mails, want %d", p.Email, len(inbox[p.Email]), len(names))
		}
	}

	// The delivery log agrees: one sent delivery per member and concern.
	sent := 0
	for token := ""; ; {
		var page struct {
			Deliveries []struct {
				State string `json:"state"`
			} `json:"deliveries"`
			NextPageToken string `json:"nextPageToken"`
		}
		path := "/v1/groups/" + demo.GroupID + "/deliveries?pageSize=200&pageToken=" + token
		if code := s.call(t, http.MethodGet, path, s.token("alex-morgan"), nil, &page); code != http.StatusOK {
			t.Fatalf("delivery log: HTTP %d", code)
		}
		for _, d := range page.Deliveries {
			if d.State == "STATE_SENT" {
				sent++
			}
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if sent != total {
		t.Errorf("delivery log shows %d sent, want %d", sent, total)
	}
}
