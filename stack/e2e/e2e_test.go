// Package e2e runs the real binaries as separate processes against real
// PostgreSQL, NATS and SMTP servers: it walks the system from the website's
// form to every member's inbox (e2e_test.go), drives the operator CLI
// against the running services (cli_test.go), walks the whole procedure
// over REST checking what each party reads, and that the therapist's side
// reads nothing the client withheld (procedure_test.go, and with mutual
// TLS in tls_test.go), looks for a canary from every confidential field of
// the contract everywhere the system writes (canary_test.go,
// canaries_test.go), moves casework's clock through eight weeks of
// reminders (reminder_test.go, a -tags testclock build), runs two
// deployments side by side that exchange a link group notice
// (federation_test.go), calls every method of every process as every kind
// of caller against the contract's declarations (callers_test.go), sends
// the longest description the contract allows (longtext_test.go) and
// fuzzes the public concern form (fuzz_test.go).
package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
	"github.com/jackc/pgx/v5"
)

type concernReply struct {
	Name       string `json:"name"`
	Reference  string `json:"reference"`
	AccessCode string `json:"accessCode"`
	// Case is the case the concern becomes.
	Case string `json:"case"`
}

// phoneFor is a telephone number as unique as marker, for the client's
// contact details.
func phoneFor(marker string) string {
	sum := sha256.Sum256([]byte(marker))
	return fmt.Sprintf("+44 7700 %06d", binary.BigEndian.Uint32(sum[:4])%1000000)
}

// raiseConcern posts the website's form; every free-text field carries
// marker so the test can look for it where it must not be.
func (s *system) raiseConcern(t *testing.T, marker string) concernReply {
	t.Helper()
	return s.raiseConcernWith(t, marker, nil)
}

// raiseConcernWith is raiseConcern with a canary in every confidential
// field of the form, when cn is not nil.
func (s *system) raiseConcernWith(t *testing.T, marker string, cn *canaries) concernReply {
	t.Helper()
	var out concernReply
	var body any = map[string]any{
		"practitioner":  "groups/" + demo.GroupID + "/members/cal-reyes",
		"description":   "I felt unheard in our sessions " + marker,
		"clientName":    "Client " + marker,
		"clientContact": map[string]string{"email": strings.ToLower(marker) + "@client.example.net", "phone": phoneFor(marker)},
	}
	if cn != nil {
		body = cn.fill(t, "ipn.disputes.intake.v1.Concern", body)
	}
	code := s.call(t, http.MethodPost, "/v1/groups/"+demo.GroupID+"/concerns", "", body, &out)
	if code != http.StatusOK || out.Reference == "" || out.AccessCode == "" || out.Name == "" {
		t.Fatalf("raise concern: HTTP %d, %+v", code, out)
	}
	return out
}

// caseNamePattern matches the resource name of a case, as a message quotes it: the case
// a concern becomes, even in the message about the concern just registered.
var caseNamePattern = regexp.MustCompile(`groups/[a-z0-9-]+/cases/[a-z0-9-]+`)

// inbox maps each recipient address to the cases named in the mail they
// received, one entry per message.
func (s *system) inbox(t *testing.T, forbidden []string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	msgs, err := s.Mail.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, m := range msgs {
		raw, err := s.Mail.Raw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range forbidden {
			if strings.Contains(raw, f) {
				t.Errorf("e-mail %q to %v carries confidential text %q", m.Subject, m.To, f)
			}
		}
		body, err := s.Mail.Body(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		name := caseNamePattern.FindString(body.Text)
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
			Statement string `json:"ethicalStatement"`
			Clock     struct {
				Deadline string `json:"deadline"`
			} `json:"clock"`
		} `json:"cases"`
	}
	testenv.Eventually(t, 30*time.Second, "casework to open the case", func() bool {
		code := s.call(t, http.MethodGet, "/v1/groups/"+demo.GroupID+"/cases", s.Token("bea-lindqvist"), nil, &cases)
		return code == http.StatusOK && len(cases.Cases) == 1
	})
	c := cases.Cases[0]
	if c.Concern != first.Name || c.Reference != first.Reference || c.Phase != "PHASE_REGISTERED" || c.Clock.Deadline == "" ||
		c.Statement != "groups/"+demo.GroupID+"/statements/1" {
		t.Errorf("opened case = %+v, want it for %s", c, first.Name)
	}
	if code := s.call(t, http.MethodGet, "/v1/groups/"+demo.GroupID+"/cases", "", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("cases without credentials: HTTP %d, want 401", code)
	}

	// Intake let go of the client's words once casework had them.
	testenv.Eventually(t, 30*time.Second, "intake to hand the concern over", func() bool {
		conn, err := pgx.Connect(context.Background(), s.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var description string
		if err := conn.QueryRow(context.Background(), `SELECT description FROM intake.concerns WHERE reference = $1`, first.Reference).Scan(&description); err != nil {
			t.Fatal(err)
		}
		return description == ""
	})

	// The client comes back through the website with what they were given,
	// typed loosely, also now that casework has the concern; a wrong code is
	// refused like an unknown reference.
	var clientSession struct {
		Token   string `json:"token"`
		Concern string `json:"concern"`
	}
	signIn := map[string]any{"reference": strings.ToLower(first.Reference), "accessCode": strings.ReplaceAll(first.AccessCode, "-", " ")}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", signIn, &clientSession); code != http.StatusOK ||
		!strings.HasPrefix(clientSession.Token, "ipncs_") || clientSession.Concern != first.Name {
		t.Errorf("client session: HTTP %d, %+v", code, clientSession)
	}
	for _, wrong := range []map[string]any{
		{"reference": first.Reference, "accessCode": "0000-0000-0000-0000-0000-0000-00"},
		{"reference": "ZZZZ-ZZZZ", "accessCode": first.AccessCode},
	} {
		if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", wrong, nil); code != http.StatusUnauthorized {
			t.Errorf("client session with a wrong code or reference: HTTP %d, want 401", code)
		}
	}

	// Notification tells every active member, without the concern's words.
	testenv.Eventually(t, 60*time.Second, "an e-mail to every member", func() bool {
		return countMessages(t, s.Mail) >= members
	})
	inbox := s.inbox(t, []string{marker, strings.ToLower(marker)})
	for _, p := range demo.Members {
		if got := inbox[p.Email]; len(got) != 1 || got[0] != first.Case {
			t.Errorf("%s received %v, want one e-mail about %s", p.Email, got, first.Case)
		}
	}

	// A burst of 50 concerns; notification is killed (-9) while it is
	// delivering them and started again. Nothing may be lost or doubled.
	const burst = 50
	names := map[string]bool{first.Case: true}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.raiseConcern(t, fmt.Sprintf("%sB%02d", marker, i))
			mu.Lock()
			names[r.Case] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	total := (burst + 1) * members
	testenv.Eventually(t, 60*time.Second, "delivery of the burst to be under way", func() bool {
		return countMessages(t, s.Mail) >= members+40
	})
	if n := countMessages(t, s.Mail); n >= total {
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
		return countMessages(t, s.Mail) >= total
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
	// A mail reaches the mailbox a moment before its delivery is recorded
	// sent, so the log is read until it has caught up (or the wait ends).
	// A sender killed between the mail server's acceptance and that record
	// leaves its delivery claimed until the claim's lease runs out (the
	// attempt's timeout and 30 s: 90 s by default), when it is sent again
	// under the same Message-ID and recorded: the wait covers the lease.
	sentDeliveries := func() int {
		sent := 0
		for token := ""; ; {
			var page struct {
				Deliveries []struct {
					State string `json:"state"`
				} `json:"deliveries"`
				NextPageToken string `json:"nextPageToken"`
			}
			path := "/v1/groups/" + demo.GroupID + "/deliveries?pageSize=200&pageToken=" + token
			if code := s.call(t, http.MethodGet, path, s.Token("alex-morgan"), nil, &page); code != http.StatusOK {
				t.Fatalf("delivery log: HTTP %d", code)
			}
			for _, d := range page.Deliveries {
				if d.State == "STATE_SENT" {
					sent++
				}
			}
			if token = page.NextPageToken; token == "" {
				return sent
			}
		}
	}
	testenv.Eventually(t, 2*time.Minute, fmt.Sprintf("the delivery log to show %d sent", total), func() bool { return sentDeliveries() >= total })
	if sent := sentDeliveries(); sent != total {
		t.Errorf("delivery log shows %d sent, want %d", sent, total)
	}
}
