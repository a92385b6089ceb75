package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ipnmediation/disputes/platform/localpg"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/jackc/pgx/v5"
)

// Infra is what the services run on: PostgreSQL, NATS and an SMTP server,
// either given (through their URLs) or started here.
type Infra struct {
	DatabaseURL string
	NATSURL     string
	SMTPAddr    string
	// MailViewerURL is the web view of received mail, when mailpit was
	// started here.
	MailViewerURL string
	// Postgres is the private cluster StartInfra started; nil when
	// DatabaseURL was given. The fault tests crash and restart it.
	Postgres *localpg.Cluster
	// NATS is the NATS server StartInfra started; nil when NATSURL was
	// given. The fault tests stop, kill and restart it.
	NATS *NATSServer

	stops []func()
}

// NATSServer is a nats-server process with JetStream that can be stopped and
// started again on the same port and store.
type NATSServer struct {
	bin  string
	args []string
	addr string
	logs io.Writer

	mu   sync.Mutex
	proc *Proc
}

// Start starts the server and waits until it takes connections.
func (n *NATSServer) Start(ctx context.Context) error {
	p, err := StartProc("nats", n.bin, n.args, nil, n.logs)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.proc = p
	n.mu.Unlock()
	return waitPort(ctx, n.addr, p)
}

// Proc is the running server's process.
func (n *NATSServer) Proc() *Proc {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc
}

// InfraPorts are the ports of what Infra starts itself.
type InfraPorts struct {
	Postgres, NATS, SMTP, MailViewer int
}

// DefaultInfraPorts are make run's; none collides with PostgreSQL on 5432 or
// NATS on 4222 that may already be running.
var DefaultInfraPorts = InfraPorts{Postgres: 7132, NATS: 7142, SMTP: 7125, MailViewer: 7181}

// StartInfra uses databaseURL, natsURL and smtpAddr when set and otherwise
// starts a private durable PostgreSQL cluster, a NATS server with JetStream
// and mailpit, keeping their data under dataDir (the cluster in dataDir/pg,
// or, as root when the postgres user cannot reach dataDir, in a folder of
// that user's that dataDir/pg links to: see localpg.Start).
func StartInfra(ctx context.Context, dataDir, databaseURL, natsURL, smtpAddr string, ports InfraPorts) (*Infra, error) {
	in := &Infra{DatabaseURL: databaseURL, NATSURL: natsURL, SMTPAddr: smtpAddr}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	if in.DatabaseURL == "" {
		// Durable: make run's cases and deliveries must survive a crash
		// of PostgreSQL or of the machine, as in production.
		c, err := localpg.Start(ctx, filepath.Join(dataDir, "pg"), ports.Postgres, localpg.Durable)
		if err != nil {
			return nil, err
		}
		in.Postgres = c
		in.stops = append(in.stops, func() { _ = in.Postgres.Stop() })
		if err := createDatabase(ctx, c.URL("postgres"), "disputes"); err != nil {
			in.Stop()
			return nil, err
		}
		in.DatabaseURL = c.URL("disputes")
	}
	if in.NATSURL == "" {
		bin, err := testenv.ToolBinary("NATS_SERVER", "nats-server", "github.com/nats-io/nats-server/v2", false)
		if err != nil {
			in.Stop()
			return nil, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", ports.NATS)
		in.NATS = &NATSServer{
			bin:  bin,
			args: []string{"-a", "127.0.0.1", "-p", fmt.Sprint(ports.NATS), "-js", "-sd", filepath.Join(dataDir, "nats")},
			addr: addr,
			logs: logFile(dataDir, "nats"),
		}
		if err := in.NATS.Start(ctx); err != nil {
			in.Stop()
			return nil, err
		}
		in.stops = append(in.stops, func() { _ = in.NATS.Proc().Stop(10 * time.Second) })
		in.NATSURL = "nats://" + addr
	}
	if in.SMTPAddr == "" {
		bin, err := testenv.MailpitBinary()
		if err != nil {
			in.Stop()
			return nil, err
		}
		smtp := fmt.Sprintf("127.0.0.1:%d", ports.SMTP)
		web := fmt.Sprintf("127.0.0.1:%d", ports.MailViewer)
		p, err := StartProc("mailpit", bin, testenv.MailpitArgs(smtp, web, filepath.Join(dataDir, "mail.db")), nil, logFile(dataDir, "mailpit"))
		if err != nil {
			in.Stop()
			return nil, err
		}
		in.stops = append(in.stops, func() { _ = p.Stop(10 * time.Second) })
		if err := waitPort(ctx, smtp, p); err != nil {
			in.Stop()
			return nil, err
		}
		in.SMTPAddr = smtp
		in.MailViewerURL = "http://" + web
	}
	return in, nil
}

// Stop stops what StartInfra started, last first.
func (in *Infra) Stop() {
	for i := len(in.stops) - 1; i >= 0; i-- {
		in.stops[i]()
	}
	in.stops = nil
}

func createDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

func waitPort(ctx context.Context, addr string, p *Proc) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited: %v (see its log under .data/logs)", p.Name, p.Err())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New(p.Name + " did not start listening on " + addr)
}

// LogFile opens (appending) the log of a process under dataDir/logs.
func LogFile(dataDir, name string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Join(dataDir, "logs"), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(dataDir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
}

func logFile(dataDir, name string) *os.File {
	f, err := LogFile(dataDir, name)
	if err != nil {
		return os.Stderr
	}
	return f
}
