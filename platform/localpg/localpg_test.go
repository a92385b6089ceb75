package localpg_test

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/localpg"
	"github.com/jackc/pgx/v5"
)

// openTempDir is a temporary folder that PostgreSQL's user can enter, so
// that a cluster under it stays where it was put.
func openTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "localpg-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// start starts a cluster in dir on a free port and removes it when the test
// ends.
func start(t *testing.T, dir string, d localpg.Durability) *localpg.Cluster {
	t.Helper()
	port, err := localpg.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localpg.Start(ctx, dir, port, d)
	if err != nil {
		t.Fatalf("Start(%s, %v): %v", dir, d, err)
	}
	t.Cleanup(func() {
		if err := c.Remove(); err != nil {
			t.Errorf("Remove: %v", err)
		}
	})
	return c
}

// restart starts the cluster of c again, in the folder and on the port c was
// started with.
func restart(t *testing.T, c *localpg.Cluster, d localpg.Durability) *localpg.Cluster {
	t.Helper()
	dir := c.Dir
	if c.Link != "" {
		dir = c.Link
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	again, err := localpg.Start(ctx, dir, c.Port, d)
	if err != nil {
		t.Fatalf("Start again: %v", err)
	}
	return again
}

func connect(t *testing.T, c *localpg.Cluster) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec1(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

var durabilitySettings = []string{"fsync", "synchronous_commit", "full_page_writes"}

func TestStartRunsTheStatedDurability(t *testing.T) {
	t.Parallel()
	tests := []struct {
		durability localpg.Durability
		want       string
		// configured is what postgresql.auto.conf asks for, the
		// opposite: the stated durability must win over it.
		configured string
	}{
		{localpg.Durable, "on", "off"},
		{localpg.Fast, "off", "on"},
	}
	for _, tt := range tests {
		t.Run(tt.durability.String(), func(t *testing.T) {
			t.Parallel()
			c := start(t, filepath.Join(openTempDir(t), "pg"), tt.durability)
			conn := connect(t, c)
			for _, s := range durabilitySettings {
				exec1(t, conn, "ALTER SYSTEM SET "+s+" = "+tt.configured)
			}
			conn.Close(context.Background())
			if err := c.Stop(); err != nil {
				t.Fatal(err)
			}
			c = restart(t, c, tt.durability)
			conn = connect(t, c)
			for _, s := range durabilitySettings {
				var got string
				if err := conn.QueryRow(context.Background(), "SHOW "+s).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("SHOW %s = %s, want %s (postgresql.auto.conf says %s)", s, got, tt.want, tt.configured)
				}
			}
		})
	}
}

func TestStartRefusesAnUnstatedDurability(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(openTempDir(t), "pg")
	_, err := localpg.Start(context.Background(), dir, 1, 0)
	if err == nil || !strings.Contains(err.Error(), "durability not stated") {
		t.Fatalf("Start with no durability: error %v, want one that says durability was not stated", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("Start with no durability made %s (stat: %v); it should do nothing", dir, err)
	}
}

// A durable cluster keeps every commit it reported through a crash of
// PostgreSQL; a fast one (synchronous_commit off) loses the last ones, which
// is how six e-mails were lost in issue 12.
func TestDurableClusterKeepsReportedCommitsThroughACrash(t *testing.T) {
	t.Parallel()
	c := start(t, filepath.Join(openTempDir(t), "pg"), localpg.Durable)
	conn := connect(t, c)
	exec1(t, conn, "CREATE TABLE committed (n int PRIMARY KEY)")
	const commits = 300
	for n := 1; n <= commits; n++ {
		// One transaction each, as the services commit.
		if _, err := conn.Exec(context.Background(), "INSERT INTO committed VALUES ($1)", n); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Crash(); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	c = restart(t, c, localpg.Durable)
	var count, last int
	if err := connect(t, c).QueryRow(context.Background(), "SELECT count(*), coalesce(max(n), 0) FROM committed").Scan(&count, &last); err != nil {
		t.Fatal(err)
	}
	if count != commits || last != commits {
		t.Errorf("after a crash: %d rows, the last %d; want all %d reported commits", count, last, commits)
	}
}

// postgresUser is the user PostgreSQL runs as when the tests run as root.
func postgresUser(t *testing.T) *user.User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("runs as root only: as any other user PostgreSQL runs as that user, who can enter every folder it made, so a cluster is never kept elsewhere")
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// closedTempDir is a temporary folder of root's with mode 0700, which the
// postgres user cannot enter (as a clone under /root, or in mktemp -d).
func closedTempDir(t *testing.T, pg *user.User) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("runuser", "-u", pg.Username, "--", "test", "-x", d)
	cmd.Dir = "/"
	if cmd.Run() == nil {
		t.Fatalf("the %s user can enter %s (mode 0700, root's): the test's premise is wrong", pg.Username, d)
	}
	return d
}

func TestStartFromAFolderPostgresCannotReach(t *testing.T) {
	pg := postgresUser(t)
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"fresh", func(*testing.T, string) {}},
		{"left empty by a start that failed", func(t *testing.T, dir string) {
			// What a start before clusters were kept elsewhere left:
			// an empty folder owned by postgres that initdb could not
			// reach.
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			uid, _ := strconv.Atoi(pg.Uid)
			gid, _ := strconv.Atoi(pg.Gid)
			if err := os.Chown(dir, uid, gid); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkout := filepath.Join(closedTempDir(t, pg), "checkout")
			dir := filepath.Join(checkout, ".data", "pg")
			if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, dir)
			c := start(t, dir, localpg.Durable)

			if c.Link != dir {
				t.Errorf("Cluster.Link = %q, want %q", c.Link, dir)
			}
			if want := filepath.Join(pg.HomeDir, "disputes-localpg") + "/"; !strings.HasPrefix(c.Dir, want) {
				t.Errorf("Cluster.Dir = %s, want a folder under %s", c.Dir, want)
			}
			if !strings.Contains(filepath.Base(c.Dir), "checkout-.data-pg-") {
				t.Errorf("Cluster.Dir = %s: its name does not say whose it is", c.Dir)
			}
			if target, err := os.Readlink(dir); err != nil || target != c.Dir {
				t.Errorf("%s links to %q (%v), want %s", dir, target, err, c.Dir)
			}
			if b, err := os.ReadFile(filepath.Join(c.Dir, "linked-from")); err != nil || strings.TrimSpace(string(b)) != dir {
				t.Errorf("linked-from in the kept folder holds %q (%v), want %s", b, err, dir)
			}
			if fi, err := os.Stat(c.Dir); err != nil {
				t.Fatal(err)
			} else if owner := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)); owner != pg.Uid {
				t.Errorf("%s is owned by uid %s, want postgres (%s)", c.Dir, owner, pg.Uid)
			}

			// make run's data survives a restart: the same folder finds
			// the same cluster.
			conn := connect(t, c)
			exec1(t, conn, "CREATE TABLE kept (what text)")
			exec1(t, conn, "INSERT INTO kept VALUES ('a concern')")
			conn.Close(context.Background())
			if err := c.Stop(); err != nil {
				t.Fatal(err)
			}
			again := restart(t, c, localpg.Durable)
			if again.Dir != c.Dir {
				t.Errorf("started again in %s, want %s", again.Dir, c.Dir)
			}
			var what string
			if err := connect(t, again).QueryRow(context.Background(), "SELECT what FROM kept").Scan(&what); err != nil || what != "a concern" {
				t.Errorf("after a restart: %q, %v; want the row written before", what, err)
			}

			if err := again.Remove(); err != nil {
				t.Fatal(err)
			}
			for _, gone := range []string{dir, c.Dir} {
				if _, err := os.Lstat(gone); !os.IsNotExist(err) {
					t.Errorf("after Remove, %s is still there (%v)", gone, err)
				}
			}
		})
	}
}

// A folder of the same path as one that had a cluster kept for it, deleted
// without its kept cluster (rm -rf of a checkout, then a new clone), does
// not silently take over the old data: Start says what to do.
func TestStartRefusesAKeptClusterThatLostItsLink(t *testing.T) {
	pg := postgresUser(t)
	t.Parallel()
	dir := filepath.Join(closedTempDir(t, pg), "checkout", ".data", "pg")
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	c := start(t, dir, localpg.Durable)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Dir(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := localpg.Start(context.Background(), dir, c.Port, localpg.Durable)
	if err == nil {
		t.Fatal("Start took over a cluster kept for an earlier folder of the same path")
	}
	for _, want := range []string{"delete " + c.Dir, "ln -s " + c.Dir + " " + dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was made (%v)", dir, err)
	}
}

// A cluster already in a folder postgres cannot reach is not moved behind
// the caller's back: Start says what to do.
func TestStartRefusesAClusterPostgresCannotReach(t *testing.T) {
	pg := postgresUser(t)
	t.Parallel()
	dir := filepath.Join(closedTempDir(t, pg), "pg")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := localpg.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = localpg.Start(context.Background(), dir, port, localpg.Durable)
	if err == nil {
		t.Fatal("Start succeeded on a cluster the postgres user cannot reach")
	}
	for _, want := range []string{"cannot enter " + filepath.Dir(dir), "chmod o+x", "delete " + dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		t.Errorf("%s was changed (%v)", dir, err)
	}
}
