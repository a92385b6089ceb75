package chaos

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/localpg"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The promises the test holds the system to.
const (
	// recoveryLimit is how soon after a dependency's return every caller
	// must work again.
	recoveryLimit = 10 * time.Second
	// backendTimeout is the gateway's BACKEND_TIMEOUT here; no request may
	// wait longer than it, plus the time to write the answer.
	backendTimeout = 10 * time.Second
	answerSlack    = time.Second
)

// harness is the running system and what the faults need to reach.
type harness struct {
	infra   *launch.Infra
	sys     *launch.System
	pgDir   string
	db      *pgxpool.Pool
	members int
	// adminCreds are the demo members' tokens.
	adminCreds []demo.Credential
}

// fault is one failure, injected while the load runs. inject returns once
// what failed is back (restarted and ready, thawed, listening), with that
// instant: the dependency's return, from which recovery is measured.
type fault struct {
	name string
	// short faults make the short form that runs inside make test.
	short bool
	// gatewayDown says the REST API itself is gone during the fault, so
	// requests find no one to answer them (a load balancer would answer
	// 503 for it).
	gatewayDown bool
	inject      func(ctx context.Context, h *harness) (time.Time, error)
}

// faults are injected one at a time, in this order.
var faults = []fault{
	{name: "kill -9 directory", inject: kill("directory")},
	{name: "kill -9 intake", short: true, inject: kill("intake")},
	{name: "kill -9 casework", inject: kill("casework")},
	{name: "kill -9 notification", short: true, inject: kill("notification")},
	{name: "kill -9 gateway", gatewayDown: true, inject: kill("gateway")},
	{name: "NATS stopped 5 s", inject: natsDown(false, 5*time.Second)},
	{name: "kill -9 NATS", short: true, inject: natsDown(true, 0)},
	{name: "PostgreSQL immediate restart", short: true, inject: postgresDown(0)},
	{name: "directory down 3 min", inject: down("directory", 3*time.Minute)},
	{name: "PostgreSQL down 25 s", inject: postgresDown(25 * time.Second)},
	{name: "SIGSTOP intake 15 s", short: true, inject: freeze("intake", 15*time.Second)},
}

// TestChaos runs the faults against the whole system under load. With
// CHAOS=full (make chaos) it runs every fault at about 20 concerns/s; else
// the short form, a few faults at 10 concerns/s, as part of make test.
func TestChaos(t *testing.T) {
	full := os.Getenv("CHAOS") == "full"
	rate, calm := 10.0, 6*time.Second
	chosen := slices.DeleteFunc(slices.Clone(faults), func(f fault) bool { return !f.short })
	if full {
		rate, calm, chosen = 20, 10*time.Second, faults
	}
	if testing.Short() {
		t.Skip("the fault test starts the whole system; not with -short")
	}
	h := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()

	loadCtx, stopLoad := context.WithCancel(ctx)
	finish, stopRetries := context.WithCancel(ctx)
	defer stopRetries()
	l := newLoad(h.sys.GatewayURL(), h.adminToken(t))
	began := time.Now()
	l.run(loadCtx, finish, rate)

	var windows []window
	wait(ctx, calm)
	for _, f := range chosen {
		w := window{fault: f, start: time.Now()}
		pending := h.pendingDeliveries(ctx)
		t.Logf("%s: injecting (%d deliveries pending)", f.name, pending)
		restored, err := f.inject(ctx, h)
		if err != nil {
			stopLoad()
			stopRetries()
			l.wait()
			t.Fatalf("%s: %v", f.name, err)
		}
		w.restored = restored
		t.Logf("%s: back after %s", f.name, restored.Sub(w.start).Round(100*time.Millisecond))
		wait(ctx, calm)
		w.end = time.Now()
		windows = append(windows, w)
	}
	stopLoad()
	t.Logf("load stopped after %s; waiting for the last concerns to be acknowledged", time.Since(began).Round(time.Second))

	// Requests still unanswered are retried until acknowledged; a client
	// would. Then everything acknowledged must settle.
	settleBy := time.Now().Add(15 * time.Minute)
	if !pollUntil(ctx, settleBy, func() bool { return l.unacknowledged() == 0 }) {
		t.Errorf("%d concerns were still unacknowledged at the deadline", l.unacknowledged())
	}
	stopRetries()
	l.wait()
	reqs, reads := l.snapshot()
	acked := acknowledged(reqs)
	t.Logf("%d concerns acknowledged; waiting for their cases and e-mails", len(acked))
	var st settled
	pollUntil(ctx, settleBy, func() bool {
		st = h.settledState(ctx, t, acked)
		return st.done()
	})

	report := analyse(windows, reqs, reads, st, h.recoveries(ctx, t, windows))
	t.Log("\n" + report.table())
	report.check(t)
	h.checkReplays(ctx, t, l, acked)
	h.checkParked(ctx, t)
}

// start builds the binaries and starts the infrastructure and the system,
// with the demo group.
func start(t *testing.T) *harness {
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
	data := testenv.OpenTempDir(t, "disputes-chaos-")
	h := &harness{pgDir: filepath.Join(data, "pg")}
	ports, err := launch.FreePorts(9)
	if err != nil {
		t.Fatal(err)
	}
	h.infra, err = launch.StartInfra(ctx, data, "", "", "", launch.InfraPorts{Postgres: ports[0], NATS: ports[1], SMTP: ports[2], MailViewer: ports[3]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.infra.Stop()
		if h.infra.Postgres != nil {
			_ = h.infra.Postgres.Remove()
		}
	})
	h.sys = &launch.System{
		BinDir:      bin,
		DatabaseURL: h.infra.DatabaseURL,
		NATSURL:     h.infra.NATSURL,
		SMTPAddr:    h.infra.SMTPAddr,
		// Faster than the concerns bring mail, so that it drains; slow
		// enough that some is always pending when a fault strikes.
		SendRate: 400,
		Ports:    launch.Ports{Directory: ports[4], Intake: ports[5], Casework: ports[6], Notification: ports[7], Gateway: ports[8]},
		LogLevel: "info",
		Settings: map[string][]string{"gateway": {"BACKEND_TIMEOUT=" + backendTimeout.String()}},
		Logs: func(name string) io.Writer {
			f, err := launch.LogFile(data, name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		},
	}
	h.sys.NewSecrets()
	t.Cleanup(func() { _ = h.sys.StopAll(15 * time.Second) })
	if err := h.sys.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	loaded, err := h.sys.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.members = len(demo.Members)
	h.adminCreds = loaded
	h.db, err = pgxpool.New(ctx, h.infra.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.db.Close)
	return h
}

// kill kills the process with SIGKILL, as a crash would, and starts it
// again at once, as a supervisor would.
func kill(name string) func(context.Context, *harness) (time.Time, error) {
	return func(ctx context.Context, h *harness) (time.Time, error) {
		h.sys.Proc(name).Kill()
		return h.restart(ctx, name)
	}
}

// down kills the process and starts it again after d.
func down(name string, d time.Duration) func(context.Context, *harness) (time.Time, error) {
	return func(ctx context.Context, h *harness) (time.Time, error) {
		h.sys.Proc(name).Kill()
		wait(ctx, d)
		return h.restart(ctx, name)
	}
}

func (h *harness) restart(ctx context.Context, name string) (time.Time, error) {
	if _, err := h.sys.Start(name); err != nil {
		return time.Time{}, err
	}
	if err := h.sys.WaitReady(ctx, name); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

// freeze stops the process with SIGSTOP for d and thaws it: it keeps its
// connections and answers nothing meanwhile.
func freeze(name string, d time.Duration) func(context.Context, *harness) (time.Time, error) {
	return func(ctx context.Context, h *harness) (time.Time, error) {
		p := h.sys.Proc(name)
		if err := p.Signal(syscall.SIGSTOP); err != nil {
			return time.Time{}, err
		}
		wait(ctx, d)
		if err := p.Signal(syscall.SIGCONT); err != nil {
			return time.Time{}, err
		}
		return time.Now(), nil
	}
}

// natsDown stops NATS (SIGTERM, or SIGKILL when hard), waits d and starts it
// again on the same store.
func natsDown(hard bool, d time.Duration) func(context.Context, *harness) (time.Time, error) {
	return func(ctx context.Context, h *harness) (time.Time, error) {
		p := h.infra.NATS.Proc()
		if hard {
			p.Kill()
		} else if err := p.Stop(30 * time.Second); err != nil {
			return time.Time{}, err
		}
		wait(ctx, d)
		if err := h.infra.NATS.Start(ctx); err != nil {
			return time.Time{}, err
		}
		return time.Now(), nil
	}
}

// postgresDown shuts PostgreSQL down at once (immediate: no checkpoint, as
// if it died), waits d and starts it again, recovering from its WAL.
func postgresDown(d time.Duration) func(context.Context, *harness) (time.Time, error) {
	return func(ctx context.Context, h *harness) (time.Time, error) {
		if err := h.infra.Postgres.Crash(); err != nil {
			return time.Time{}, err
		}
		wait(ctx, d)
		c, err := localpg.Start(ctx, h.pgDir, h.infra.Postgres.Port, localpg.Durable)
		if err != nil {
			return time.Time{}, err
		}
		h.infra.Postgres = c
		return time.Now(), nil
	}
}

// wait waits d or until ctx ends. It is the length of a fault or of a calm
// spell, not a guess at how long something takes.
func wait(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// pollUntil calls cond every half second until it holds or deadline passes.
func pollUntil(ctx context.Context, deadline time.Time, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		wait(ctx, 500*time.Millisecond)
	}
}

// adminToken is the demo group admin's token.
func (h *harness) adminToken(t *testing.T) string {
	for _, c := range h.adminCreds {
		if c.Member.Admin {
			return c.Token
		}
	}
	t.Fatal("the demo group has no admin")
	return ""
}
