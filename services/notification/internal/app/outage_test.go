package app

import (
	"context"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/directory"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/mailer"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
	"github.com/ipnmediation/disputes/services/notification/internal/store"
	"github.com/ipnmediation/disputes/services/notification/migrations"
)

// serveDirectoryAt serves the fake directory on addr until stop is called
// or the test ends: a directory that can go away and come back where its
// clients look for it.
func serveDirectoryAt(t *testing.T, addr string) (stop func()) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	directoryv1.RegisterDirectoryServiceServer(srv, fakeDirectory{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return srv.Stop
}

// insertPending adds, as the consumer would have, one pending delivery of
// ConcernRegistered per active member for each of n new concerns, due now,
// and returns the concerns.
func (r running) insertPending(t *testing.T, n int) []string {
	t.Helper()
	var concerns []string
	for range n {
		concern := group + "/concerns/" + uuid.NewString()
		concerns = append(concerns, concern)
		event := uuid.NewString()
		for _, m := range riverside {
			if !m.active {
				continue
			}
			_, err := r.db.Exec(context.Background(), `INSERT INTO notification.deliveries (id, group_name, event_id, event_type, template,
				recipient, recipient_kind, facts, state, next_attempt_at, create_time)
				VALUES ($1, $2, $3, 'ipn.disputes.events.v1.ConcernRegistered', 'concern_registered', $4, 'member', $5, 'pending', now(), now())`,
				uuid.NewString(), group, event, memberName(m.id),
				map[string]string{dispatch.FactGroupName: groupDisplayName, dispatch.FactConcern: concern})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return concerns
}

// TestDirectoryOutage: deliveries are due while the directory is down, for
// longer than MAX_ATTEMPTS (here 1: a single counted failure would kill)
// times the backoff. No delivery dies or has a failure counted, the sender
// tries at most about one delivery per pause instead of hammering the
// directory, and once the directory is back every message is sent within
// 10 s, exactly once.
func TestDirectoryOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mailpit := testenv.StartMailpit(t)
	directoryAddr := testenv.FreeAddr(t)
	stop := serveDirectoryAt(t, directoryAddr)
	r := startNotification(t, options{smtpAddr: mailpit.SMTPAddr, directoryAddr: directoryAddr, maxAttempts: 1,
		retryBase: 10 * time.Millisecond, retryMax: 20 * time.Millisecond})

	stop()
	down := time.Now()
	concerns := r.insertPending(t, 5)
	const want = 30
	totals := func() (attempts, failures, dead, sent int) {
		t.Helper()
		if err := r.db.QueryRow(ctx, `SELECT coalesce(sum(attempts), 0), coalesce(sum(failures), 0),
			count(*) FILTER (WHERE state = 'dead'), count(*) FILTER (WHERE state = 'sent') FROM notification.deliveries`).
			Scan(&attempts, &failures, &dead, &sent); err != nil {
			t.Fatal(err)
		}
		return attempts, failures, dead, sent
	}
	// Five failed attempts in a row take the sender's pause to its cap.
	testenv.Eventually(t, time.Minute, "five attempts while the directory is down", func() bool {
		attempts, _, _, _ := totals()
		return attempts >= 5
	})
	attempts, failures, dead, sent := totals()
	elapsed := time.Since(down)
	if dead != 0 || failures != 0 || sent != 0 {
		t.Fatalf("while the directory is down: %d dead, %d failures counted, %d sent; want none", dead, failures, sent)
	}
	// At most one attempt per pause, the first pause being half a second.
	if most := 2 + int(elapsed/dispatch.DefaultProbeMin); attempts > most {
		t.Errorf("%d attempts in %v of outage; want at most %d", attempts, elapsed.Round(time.Millisecond), most)
	}
	var reasons []string
	rows, err := r.db.Query(ctx, `SELECT DISTINCT last_error FROM notification.deliveries WHERE attempts > 0`)
	if err != nil {
		t.Fatal(err)
	}
	if reasons, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	for _, reason := range reasons {
		if !strings.Contains(reason, "directory: get member") {
			t.Errorf("failure reason %q; want the directory's", reason)
		}
	}

	serveDirectoryAt(t, directoryAddr)
	back := time.Now()
	testenv.Eventually(t, time.Minute, "every delivery is sent", func() bool {
		_, _, _, sent := totals()
		return sent == want
	})
	took := time.Since(back)
	if took > 10*time.Second {
		t.Errorf("sending took %v after the directory's return; want at most 10s", took.Round(time.Millisecond))
	}
	t.Logf("%d attempts in %v of outage; all %d sent %v after the directory's return", attempts, elapsed.Round(time.Millisecond), want, took.Round(time.Millisecond))
	testenv.Eventually(t, time.Minute, "the mailbox holds every message", func() bool { return len(received(t, mailpit)) >= want })
	if seen := oncePerRecipient(t, mailpit, received(t, mailpit), concerns); len(seen) != want {
		t.Errorf("%d distinct messages; want %d", len(seen), want)
	}
	if _, failures, dead, _ := totals(); failures != 0 || dead != 0 {
		t.Errorf("after the outage: %d failures counted, %d dead; want none", failures, dead)
	}
}

// startMailpitKeepingCopies runs mailpit as the project does, except that
// it keeps a message whose Message-ID it already holds, so a test can count
// the hand-offs.
func startMailpitKeepingCopies(t *testing.T) *testenv.Mailpit {
	t.Helper()
	bin, err := testenv.MailpitBinary()
	if err != nil {
		t.Fatal(err)
	}
	smtpAddr, httpAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	args := slices.DeleteFunc(testenv.MailpitArgs(smtpAddr, httpAddr, filepath.Join(t.TempDir(), "mail.db")),
		func(a string) bool { return a == "--ignore-duplicate-ids" })
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	m := &testenv.Mailpit{SMTPAddr: smtpAddr, APIURL: "http://" + httpAddr}
	testenv.Eventually(t, 30*time.Second, "mailpit to start", func() bool {
		c, err := net.DialTimeout("tcp", smtpAddr, time.Second)
		if err != nil {
			return false
		}
		c.Close()
		_, err = m.Messages(context.Background())
		return err == nil
	})
	return m
}

// handOffThenRefuseDatabase hands the first message to the real mail
// server and then, before the sender can record that, waits for the test
// to take PostgreSQL away; later messages go straight through.
type handOffThenRefuseDatabase struct {
	next     dispatch.Mailer
	once     sync.Once
	handed   chan struct{} // closed after the first hand-off
	database chan struct{} // closed by the test once PostgreSQL is away
}

func (m *handOffThenRefuseDatabase) Send(ctx context.Context, mail dispatch.Mail) error {
	err := m.next.Send(ctx, mail)
	m.once.Do(func() {
		if err == nil {
			close(m.handed)
			<-m.database
		}
	})
	return err
}

// TestHandOffWhoseOutcomeIsLost: the mail server accepts a message, and
// PostgreSQL goes away before the sender can record that. The attempt was
// counted before the hand-off, so when the lease runs out the delivery is
// handed off again, and the log shows both: attempts = 2, sent; the mail
// server holds two copies with one Message-ID, which a mailbox recognises.
// Real PostgreSQL, a real directory client against the fake directory, the
// real SMTP mailer and a mailpit that keeps copies; the service's own
// sender, with a short lease.
func TestHandOffWhoseOutcomeIsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testenv.Database(t)
	pool, err := postgres.Open(ctx, dbURL, "notification", migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	deliveries := &store.Store{Pool: pool, Schema: "notification"}
	d := dispatch.Delivery{ID: uuid.NewString(), Group: group, EventID: uuid.NewString(), EventType: dispatch.EventTypeConcernRegistered,
		Template: message.ConcernRegistered, Recipient: memberName("cal-nash"), RecipientKind: dispatch.MemberRecipient, State: dispatch.Pending,
		Facts:         dispatch.Facts{dispatch.FactGroupName: groupDisplayName, dispatch.FactConcern: group + "/concerns/" + uuid.NewString()},
		NextAttemptAt: time.Now().UTC(), CreateTime: time.Now().UTC()}
	if n, err := deliveries.Add(ctx, []dispatch.Delivery{d}); err != nil || n != 1 {
		t.Fatalf("Add = %d, %v", n, err)
	}

	mailpit := startMailpitKeepingCopies(t)
	smtp, err := mailer.New(mailer.Options{Addr: mailpit.SMTPAddr, From: "IPN disputes <disputes@localhost>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mail := &handOffThenRefuseDatabase{next: smtp, handed: make(chan struct{}), database: make(chan struct{})}
	conn, err := grpcserver.Dial(testenv.ServeGRPC(t, func(s *grpc.Server) { directoryv1.RegisterDirectoryServiceServer(s, fakeDirectory{}) }),
		Name, notificationSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	templates, err := message.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.Logs{}
	sender := &dispatch.Sender{
		Queue: deliveries, Directory: directory.Client{Directory: directoryv1.NewDirectoryServiceClient(conn)}, Mailer: mail,
		Templates: templates, PublicURL: publicURL, PollInterval: 50 * time.Millisecond,
		AttemptTimeout: 2 * time.Second, Lease: 3 * time.Second, ProbeMin: 50 * time.Millisecond, ProbeMax: 200 * time.Millisecond,
		Logger: slog.New(logs),
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sender.Run(runCtx, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})

	<-mail.handed
	restore := testenv.RefuseConnections(t, ctx, dbURL)
	close(mail.database)
	testenv.Eventually(t, time.Minute, "the sender gives up recording the outcome", func() bool {
		return logs.Count("ERROR the outcome of an attempt could not be recorded") > 0
	})
	restore()

	var state string
	var attempts, failures int
	testenv.Eventually(t, time.Minute, "the delivery is sent", func() bool {
		err := pool.QueryRow(ctx, `SELECT state, attempts, failures FROM notification.deliveries WHERE id = $1`, d.ID).Scan(&state, &attempts, &failures)
		return err == nil && state == "sent"
	})
	if attempts != 2 || failures != 0 {
		t.Errorf("delivery sent after %d attempts, %d failures counted; want 2 attempts, one per hand-off, and none counted", attempts, failures)
	}
	var copies []testenv.Message
	testenv.Eventually(t, 30*time.Second, "two copies in the mail server", func() bool {
		copies = received(t, mailpit)
		return len(copies) >= 2
	})
	if len(copies) != 2 || copies[0].MessageID != d.MessageID() || copies[1].MessageID != d.MessageID() {
		var ids []string
		for _, c := range copies {
			ids = append(ids, c.MessageID)
		}
		t.Errorf("the mail server holds %d messages with Message-IDs %v; want two, both %s", len(copies), ids, d.MessageID())
	}
}
