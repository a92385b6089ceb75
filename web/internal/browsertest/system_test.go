package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system is the whole system as make run starts it, website included, on
// free ports with its own database and event stream, and the demo group.
type system struct {
	*launch.System
	root  string
	creds map[string]string // demo member id to access token
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
	ports, err := launch.FreePorts(6)
	if err != nil {
		t.Fatal(err)
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
		Ports:          launch.Ports{Directory: ports[0], Intake: ports[1], Casework: ports[2], Notification: ports[3], Gateway: ports[4], Web: ports[5]},
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
			for _, name := range launch.Processes {
				b, _ := os.ReadFile(filepath.Join(logDir, name+".log"))
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("--- %s log (tail) ---\n%s", name, b)
			}
		}
	})
	if err := sys.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	loaded, err := sys.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := &system{System: sys, root: root, creds: map[string]string{}}
	for _, c := range loaded {
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
