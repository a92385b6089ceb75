package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/localpg"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestCanaryGoesNowhere walks the whole procedure over REST with a canary in
// every confidential field of every request it sends, found from the
// contract's text declarations (canaries_test.go), checks that every
// confidential field of every REST request was carried, and then looks for
// the canaries everywhere the system writes: every message on the event
// stream, every log line of every process, every e-mail, every span the
// processes exported (to an OTLP receiver in the test) and a plain pg_dump
// of the whole database. Fields the contract marks public or group
// records are the group's own words about itself and are not looked for;
// identifiers and the honeypot cannot hold words.
func TestCanaryGoesNowhere(t *testing.T) {
	spans := startReceiver(t)
	s := startSystemWith(t, systemOptions{Settings: spans.tracingSettings()})
	marker := newMarker()
	filled := walkLongPath(t, s, marker)
	if missed := filled.uncovered(); len(missed) > 0 {
		t.Errorf("no request of the walk carried a canary in these confidential fields; extend the walk: %v", missed)
	}
	// The marker is in every canary, in upper case and in the lower case
	// of e-mail addresses; telephone numbers are made from canaries. The
	// client's access codes and session tokens must be nowhere either, and
	// the reference nowhere but the databases.
	canaries := append(filled.all(), filled.secrets...)
	if len(filled.secrets) < 4 || filled.reference == "" {
		t.Fatalf("the walk recorded no secrets to look for: %d, %q", len(filled.secrets), filled.reference)
	}
	leaving := append(slices.Clone(canaries), filled.reference)
	// Everything in flight reaches its destination first.
	testenv.Eventually(t, 60*time.Second, "every e-mail to be sent", func() bool { return countMessages(t, s.Mail) > 0 })

	t.Run("event stream", func(t *testing.T) {
		n := 0
		for _, m := range s.streamMessages(t) {
			n++
			lookFor(t, "event "+m.Subject, string(m.Data)+fmt.Sprint(m.Header), leaving)
		}
		if n < 20 {
			t.Errorf("only %d messages on the stream; the walk should have written many", n)
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
			if len(b) == 0 {
				t.Errorf("%s is empty", f)
			}
			lookFor(t, filepath.Base(f), string(b), leaving)
		}
	})
	t.Run("e-mail", func(t *testing.T) {
		// Mail to the client must be addressed to the client: their
		// address may stand in its headers, and nowhere else.
		clientAddress := strings.ToLower(marker) + "@client.example.net"
		ctx := context.Background()
		msgs, err := s.Mail.Messages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		toClient := 0
		for _, m := range msgs {
			raw, err := s.Mail.Raw(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			headers, body, _ := strings.Cut(raw, "\r\n\r\n")
			for _, to := range m.To {
				if to.Address == clientAddress {
					toClient++
					headers = strings.ReplaceAll(headers, clientAddress, "")
				}
			}
			lookFor(t, "e-mail headers "+m.Subject, headers, leaving)
			lookFor(t, "e-mail body "+m.Subject, body, leaving)
		}
		if len(msgs) == 0 || toClient == 0 {
			t.Errorf("%d e-mails, %d to the client", len(msgs), toClient)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		for _, process := range processes {
			lookFor(t, process+"'s metrics", scrapeText(t, "http://"+s.AdminAddr(process)+"/metrics"), leaving)
		}
	})
	t.Run("spans", func(t *testing.T) {
		// The walk's last spans may still be on their way; those of
		// every process that served it are there by now or soon.
		testenv.Eventually(t, 30*time.Second, "spans from the gateway and every service", func() bool {
			from := map[string]bool{}
			for _, sp := range spans.all() {
				from[sp.service] = true
			}
			return from["gateway"] && from["directory"] && from["intake"] && from["casework"] && from["notification"]
		})
		exported := spans.exported()
		for _, text := range exported {
			lookFor(t, "exported spans", text, leaving)
		}
		if len(spans.all()) < 100 {
			t.Errorf("only %d spans exported; the walk should have made many", len(spans.all()))
		}
	})
	t.Run("pg_dump", func(t *testing.T) {
		dump := pgDump(t, s.DatabaseURL)
		if !strings.Contains(dump, "CREATE TABLE casework.documents") || !strings.Contains(dump, "enc:v1:") {
			t.Fatalf("the dump does not hold the system's data (%d bytes)", len(dump))
		}
		lookFor(t, "pg_dump", dump, canaries)
	})
}

// lookFor fails the test for every canary found in text.
func lookFor(t *testing.T, where, text string, canaries []string) {
	t.Helper()
	for _, c := range canaries {
		if i := strings.Index(text, c); i >= 0 {
			t.Errorf("%s holds canary %q: …%s…", where, c, text[max(0, i-80):min(len(text), i+len(c)+40)])
		}
	}
}

type streamMessage struct {
	Subject string
	Data    []byte
	Header  nats.Header
}

// streamMessages reads every message of the system's event stream.
func (s *system) streamMessages(t *testing.T) []streamMessage {
	t.Helper()
	nc, err := nats.Connect(s.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := events.Namespace(s.EventNamespace)
	stream, err := js.Stream(ctx, ns.Stream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []streamMessage
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		out = append(out, streamMessage{Subject: m.Subject, Data: m.Data, Header: m.Header})
	}
	return out
}

// pgDump is a plain-text pg_dump of the database, as a leaked backup
// would be.
func pgDump(t *testing.T, databaseURL string) string {
	t.Helper()
	dir, err := localpg.FindBinaries()
	if err != nil {
		t.Fatalf("no pg_dump: %v", err)
	}
	out, err := exec.Command(filepath.Join(dir, "pg_dump"), "--no-owner", "--dbname", databaseURL).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("pg_dump: %v %s", err, stderr)
	}
	return string(out)
}
