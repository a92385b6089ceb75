// Package testenv gives tests the real components the services run on:
// PostgreSQL, NATS JetStream and an SMTP server. It uses DATABASE_URL and
// NATS_URL when they are set and otherwise starts its own (a private
// PostgreSQL cluster, an embedded JetStream server), once per test binary.
// Each test gets its own database and its own event namespace, so tests and
// test packages can run in parallel against the same servers.
//
// A package that uses it calls Main from its TestMain so that what was
// started is stopped at the end.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/localpg"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/jackc/pgx/v5"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

var (
	mu       sync.Mutex
	stops    []func()
	pgAdmin  string // URL of a database to run CREATE DATABASE on
	natsURL  string
	scratch  string
	setupErr error
)

// Main runs the package's tests and then stops whatever testenv started.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	if scratch != "" {
		os.RemoveAll(scratch)
	}
	mu.Unlock()
	os.Exit(code)
}

func scratchDir() (string, error) {
	if scratch == "" {
		d, err := os.MkdirTemp("", "disputes-testenv-")
		if err != nil {
			return "", err
		}
		// The PostgreSQL user must be able to reach folders below it.
		if err := os.Chmod(d, 0o755); err != nil {
			return "", err
		}
		scratch = d
	}
	return scratch, nil
}

func postgresAdminURL() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if pgAdmin != "" {
		return pgAdmin, nil
	}
	if u := os.Getenv("DATABASE_URL"); u != "" {
		pgAdmin = u
		return pgAdmin, nil
	}
	dir, err := scratchDir()
	if err != nil {
		return "", err
	}
	port, err := localpg.FreePort()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Fast: every test's data is thrown away. A test that crashes
	// PostgreSQL and counts what survived starts a localpg.Durable cluster
	// of its own.
	c, err := localpg.Start(ctx, filepath.Join(dir, "pg"), port, localpg.Fast)
	if err != nil {
		return "", err
	}
	// Remove, not Stop: a cluster kept outside the scratch folder (as root
	// with a TMPDIR the postgres user cannot enter) would outlive it.
	stops = append(stops, func() { _ = c.Remove() })
	pgAdmin = c.URL("postgres")
	return pgAdmin, nil
}

// Database creates an empty database for the calling test and returns its
// URL; it is dropped when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	admin, err := postgresAdminURL()
	if err != nil {
		t.Fatalf("testenv: PostgreSQL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("testenv: connect to PostgreSQL: %v", err)
	}
	defer conn.Close(context.Background())
	name := "t_" + strings.ToLower(sanitize(t.Name(), 30)) + "_" + randomHex(4)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("testenv: DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// NATS returns the URL of a NATS server with JetStream: NATS_URL, or an
// embedded server started once for the test binary.
func NATS(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if natsURL != "" {
		return natsURL
	}
	if u := os.Getenv("NATS_URL"); u != "" {
		natsURL = u
		return natsURL
	}
	dir, err := scratchDir()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  filepath.Join(dir, "nats"),
		NoSigs:    true,
	})
	if err != nil {
		t.Fatalf("testenv: NATS: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		t.Fatal("testenv: embedded NATS did not start")
	}
	stops = append(stops, func() { ns.Shutdown(); ns.WaitForShutdown() })
	natsURL = ns.ClientURL()
	return natsURL
}

// Namespace returns an event namespace of the calling test's own, so its
// events and consumers never meet another test's.
func Namespace(t testing.TB) events.Namespace {
	return events.Namespace("t" + randomHex(6))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sanitize(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
		if b.Len() >= max {
			break
		}
	}
	return b.String()
}

// Eventually polls cond until it returns true or the deadline passes, and
// fails the test then with msg. Tests wait with it instead of sleeping.
func Eventually(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// EncryptionKeys returns a fresh random key for a service's ENCRYPTION_KEYS,
// with its id as the current key.
func EncryptionKeys(t testing.TB) config.Keys {
	t.Helper()
	id := "test-" + randomHex(4)
	setting, err := sealed.NewKeySetting(id)
	if err != nil {
		t.Fatal(err)
	}
	return config.Keys{EncryptionKeys: setting, EncryptionKeyID: id}
}

// RefuseConnections takes the database at url away from its users, as a
// PostgreSQL that is down or restarting does: it ends every connection to it
// and refuses new ones, until the returned function (or the end of the test)
// lets them in again. It works from the cluster's "postgres" database, as
// the owner of the test's database: a database cannot refuse connections to
// itself, and the rest of the cluster, other tests' databases, stays up.
func RefuseConnections(t testing.TB, ctx context.Context, url string) (restore func()) {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	name := cfg.Database
	db := pgx.Identifier{name}.Sanitize()
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		restored = true
		if _, err := admin.Exec(context.Background(), "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true"); err != nil {
			t.Errorf("let connections in again: %v", err)
		}
		admin.Close(context.Background())
	}
	t.Cleanup(restore)
	return restore
}

// OpenTempDir returns a new folder under the system's temporary folder that
// other users may enter, which t.TempDir's may not: as root, a private
// PostgreSQL cluster runs as the postgres user, which must reach its data
// there (or localpg keeps the cluster under that user's home, where it would
// outlive the test). It is removed when the test ends, unless the test
// failed, so that the logs in it can be read; its name is logged then.
func OpenTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s for its logs", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}
