package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/localpg"
)

// Mailpit is a real SMTP server (mailpit) that keeps what it receives and
// shows it through a JSON API.
type Mailpit struct {
	// SMTPAddr is where it accepts mail, host:port.
	SMTPAddr string
	// APIURL is the base of its web view and JSON API.
	APIURL string
	cmd    *exec.Cmd
}

// StartMailpit starts a mailpit of the calling test's own and stops it when
// the test ends. Mail with a Message-ID it has already stored is not stored
// again, as a mailbox provider would do.
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	bin, err := MailpitBinary()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	smtpPort, err := localpg.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	httpPort, err := localpg.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := &Mailpit{
		SMTPAddr: fmt.Sprintf("127.0.0.1:%d", smtpPort),
		APIURL:   fmt.Sprintf("http://127.0.0.1:%d", httpPort),
	}
	m.cmd = exec.Command(bin, MailpitArgs(m.SMTPAddr, fmt.Sprintf("127.0.0.1:%d", httpPort), filepath.Join(t.TempDir(), "mail.db"))...)
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("testenv: start mailpit: %v", err)
	}
	t.Cleanup(func() { _ = m.cmd.Process.Kill(); _ = m.cmd.Wait() })
	Eventually(t, 30*time.Second, "mailpit to accept SMTP connections", func() bool {
		c, err := net.DialTimeout("tcp", m.SMTPAddr, time.Second)
		if err == nil {
			c.Close()
			_, err = m.Messages(context.Background())
		}
		return err == nil
	})
	return m
}

// Stop kills the server, to test what happens while mail is down.
func (m *Mailpit) Stop() {
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
}

// MailpitArgs are the arguments the project runs mailpit with.
func MailpitArgs(smtpAddr, httpAddr, dbFile string) []string {
	return []string{
		"--smtp", smtpAddr,
		"--listen", httpAddr,
		"--smtp-auth-accept-any",
		"--smtp-auth-allow-insecure",
		"--ignore-duplicate-ids",
		"--max", "0",
		"--disable-version-check",
		"--quiet",
		"--database", dbFile,
	}
}

// Address is a mailbox in a received message.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is a received message as mailpit lists it.
type Message struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
}

// MessageBody is a received message's content.
type MessageBody struct {
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

// Messages lists every message received so far.
func (m *Mailpit) Messages(ctx context.Context) ([]Message, error) {
	var out []Message
	for start := 0; ; {
		var page struct {
			Total    int       `json:"total"`
			Messages []Message `json:"messages"`
		}
		if err := m.get(ctx, fmt.Sprintf("/api/v1/messages?start=%d&limit=500", start), &page); err != nil {
			return nil, err
		}
		out = append(out, page.Messages...)
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			return out, nil
		}
	}
}

// Body returns the content of the message with mailpit's id.
func (m *Mailpit) Body(ctx context.Context, id string) (MessageBody, error) {
	var b MessageBody
	err := m.get(ctx, "/api/v1/message/"+id, &b)
	return b, err
}

// Raw returns the message with mailpit's id as it was received, headers
// included.
func (m *Mailpit) Raw(ctx context.Context, id string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.APIURL+"/api/v1/message/"+id+"/raw", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("mailpit raw message: %s", resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func (m *Mailpit) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.APIURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mailpit %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// MailpitBinary finds the mailpit binary: $MAILPIT, then PATH, then the
// repository's .bin folder, where it is built from tools/go.mod when missing.
func MailpitBinary() (string, error) {
	return ToolBinary("MAILPIT", "mailpit", "github.com/axllent/mailpit", true)
}

// ToolBinary finds a development tool pinned in tools/go.mod: the path in the
// environment variable env, then (when searchPath) name on PATH, then the
// repository's .bin folder, building it there when missing. searchPath is
// false for tools whose system package may be too old.
func ToolBinary(env, name, pkg string, searchPath bool) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil && searchPath {
		return p, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".bin", name)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.Command("go", "install", pkg)
	cmd.Dir = filepath.Join(root, "tools")
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOBIN="+filepath.Join(root, ".bin"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w: %s", name, err, out)
	}
	return bin, nil
}

// RepoRoot is the folder holding go.work, found upwards from the working
// directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.work) not found above the working directory")
		}
		dir = parent
	}
}
