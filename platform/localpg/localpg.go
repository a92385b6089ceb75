// Package localpg runs a private PostgreSQL cluster in a folder, for `make
// run` and for tests on a machine where no DATABASE_URL is given. It uses the
// PostgreSQL server binaries installed on the machine (Debian's postgresql
// package).
//
// The caller states how durable the cluster is (Durable or Fast): make run's
// must keep what it reported committed, while most tests throw their data
// away and need speed.
//
// PostgreSQL refuses to run as root, so when the caller is root the cluster
// runs as the unprivileged "postgres" user, which must be able to enter every
// folder above the cluster. When it cannot (a checkout under /root, or in a
// 0700 temporary folder), the cluster is kept in a folder of its own under
// that user's home and the folder the caller named becomes a link to it; see
// Start.
package localpg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Durability says whether the cluster waits for the disk before it reports a
// commit. Start has no default: each caller states it.
type Durability int

const (
	// Durable keeps fsync, synchronous_commit and full_page_writes on (and
	// says so on the command line, so no configuration file can turn them
	// off): a commit the cluster has reported survives a crash of
	// PostgreSQL or of the machine. For make run, and for tests that crash
	// PostgreSQL and count what survived.
	Durable Durability = iota + 1
	// Fast turns all three off: a commit is reported before its WAL is
	// written, so a crash of PostgreSQL loses the last commits and a crash
	// of the machine may leave the cluster corrupt. For tests whose data is
	// thrown away at the end.
	Fast
)

func (d Durability) String() string {
	switch d {
	case Durable:
		return "durable"
	case Fast:
		return "fast"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

// settings are the server options that make d what it says.
func (d Durability) settings() (string, error) {
	switch d {
	case Durable:
		return "-c fsync=on -c synchronous_commit=on -c full_page_writes=on", nil
	case Fast:
		return "-c fsync=off -c synchronous_commit=off -c full_page_writes=off", nil
	}
	return "", fmt.Errorf("localpg: durability not stated (%v): pass localpg.Durable or localpg.Fast", d)
}

// keptLinkFile, in a folder Start keeps a cluster in on behalf of a folder
// the server's user cannot reach, holds the path of the link to it, so that
// a person (and make clean) can tell whose it is.
const keptLinkFile = "linked-from"

// keptParent is the folder, under the server user's home, that holds the
// clusters kept there.
const keptParent = "disputes-localpg"

// Cluster is a running private PostgreSQL cluster.
type Cluster struct {
	// Dir holds the data folder, the socket and the server's log: the
	// folder Start was given, or the folder it keeps the cluster in when
	// the server's user cannot reach that one.
	Dir string
	// Link is the folder Start was given when Dir is kept elsewhere (it is
	// then a link to Dir); empty otherwise.
	Link string
	// Port is the TCP port on 127.0.0.1.
	Port int
	bin  string
	as   *user.User // nil: the current user
}

// FindBinaries returns the folder holding initdb and pg_ctl: from PATH, or
// the newest of Debian's versioned folders.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// A link on the PATH (as Debian's /usr/local/bin ones) points into
		// the real binary folder, which holds pg_dump and the rest too.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package or set DATABASE_URL")
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// for a server the caller is about to start.
func FreePort() (int, error) {
	// A port the kernel hands out for outgoing connections may be taken by
	// one between this check and the caller's listen, so the port is
	// drawn from below the ephemeral range, where only listeners go.
	low := ephemeralLow()
	for range 100 {
		port := 10000 + rand.IntN(low-10000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ephemeralLow is the first port of the kernel's range for outgoing
// connections, 32768 when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil || low <= 11000 {
		return 32768
	}
	return low
}

// Start initialises dir when it holds no cluster yet and starts PostgreSQL on
// port with the stated durability, waiting until it accepts connections. A
// cluster already running in dir (left by an earlier run) is stopped first.
//
// As root, the cluster runs as the "postgres" user. When that user cannot
// enter the folders above dir, Start keeps the cluster in
// ~postgres/disputes-localpg/<a name made from dir's path> instead, owned by
// that user, and makes dir a link to it; a later Start with the same dir
// finds the same cluster through the link. Cluster.Remove deletes both.
func Start(ctx context.Context, dir string, port int, durability Durability) (*Cluster, error) {
	settings, err := durability.settings()
	if err != nil {
		return nil, err
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Port: port, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs an unprivileged user: %w", err)
		}
		c.as = u
		if err := c.place(ctx, dir); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := c.chown(c.Dir, true); err != nil {
		return nil, err
	}
	data := c.dataDir()
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		args := []string{"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions"}
		if durability == Fast {
			// A durable cluster's files must be on disk before its first
			// commit is; a throwaway one's need not.
			args = append(args, "--no-sync")
		}
		if err := c.run(ctx, "initdb", args...); err != nil {
			return nil, fmt.Errorf("initdb: %w", err)
		}
	}
	// A cluster left running by a killed run would hold the folder.
	_ = c.run(ctx, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 %s -c max_connections=300", port, c.Dir, settings)
	if err := c.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(c.Dir, "postgres.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return nil, fmt.Errorf("pg_ctl start: %w", err)
	}
	return c, nil
}

// place sets c.Dir (and c.Link) to where the cluster for dir lives, so that
// c.as can enter every folder above it.
func (c *Cluster) place(ctx context.Context, dir string) error {
	if target, err := os.Readlink(dir); err == nil {
		// Linked by an earlier Start, or by a person who put the
		// cluster elsewhere on purpose: either way it lives there.
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(dir), target)
		}
		c.Dir, c.Link = target, dir
		// Made again when a person deleted it but not the link.
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return c.mustReach(ctx, filepath.Dir(target), dir)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	ok, err := c.canEnter(ctx, parent)
	if err != nil || ok {
		return err
	}
	if fi, err := os.Lstat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is in the way of the PostgreSQL cluster: it is not a folder", dir)
		}
		if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err == nil {
			return fmt.Errorf("PostgreSQL runs as the %q user (it refuses to run as root), who cannot enter %s, and a cluster is already in %s: "+
				"let that user enter the folders above it (chmod o+x on each), or delete %[3]s to start with an empty one",
				c.as.Username, parent, dir)
		}
		// A folder without a cluster, left by a start that failed
		// before clusters were kept elsewhere: the link takes its place.
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("PostgreSQL runs as the %q user, who cannot enter %s; the cluster would be kept elsewhere and linked from %s, but that folder is not empty (%v): delete it",
				c.as.Username, parent, dir, err)
		}
	}
	home := c.as.HomeDir
	if ok, err := c.canEnter(ctx, home); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("PostgreSQL runs as the %q user (it refuses to run as root), who can enter neither %s nor its home %s: "+
			"put the checkout in a folder that user can enter (every folder above it with o+x), or set DATABASE_URL to a PostgreSQL of your own",
			c.as.Username, parent, home)
	}
	kept := filepath.Join(home, keptParent, keptName(dir))
	if _, err := os.Stat(filepath.Join(kept, "data", "PG_VERSION")); err == nil {
		// Kept for a folder of the same path that was deleted without
		// make clean (a checkout removed and cloned again): its data
		// belongs to the old one, whose encryption keys went with it.
		return fmt.Errorf("%s holds a cluster kept for an earlier %s that is gone (it no longer links there): "+
			"delete %[1]s to start with an empty cluster, or link to it (ln -s %[1]s %[2]s) to use that data again",
			kept, dir)
	}
	if err := os.MkdirAll(kept, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(kept, keptLinkFile), []byte(dir+"\n"), 0o644); err != nil {
		return err
	}
	// The shared parent itself only: walking it would meet the files of
	// other clusters kept there, running or being removed.
	for _, f := range []string{filepath.Join(home, keptParent), kept} {
		if err := c.chown(f, false); err != nil {
			return err
		}
	}
	if err := os.Symlink(kept, dir); err != nil {
		return fmt.Errorf("link %s to the cluster kept in %s: %w", dir, kept, err)
	}
	c.Dir, c.Link = kept, dir
	return nil
}

// mustReach fails with what to do when c.as cannot enter folder, which holds
// the cluster linked from link.
func (c *Cluster) mustReach(ctx context.Context, folder, link string) error {
	ok, err := c.canEnter(ctx, folder)
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("PostgreSQL runs as the %q user (it refuses to run as root), who cannot enter %s, where %s links to: "+
		"let that user enter it (chmod o+x on each folder above), or delete the link to start with an empty cluster",
		c.as.Username, folder, link)
}

// canEnter reports whether c.as may enter folder (and every folder above
// it). Asking the system as that user, rather than reading mode bits, also
// honours access control lists.
func (c *Cluster) canEnter(ctx context.Context, folder string) (bool, error) {
	cmd := exec.CommandContext(ctx, "runuser", "-u", c.as.Username, "--", "test", "-d", folder, "-a", "-x", folder)
	// The caller's working folder may be closed to that user too.
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 && len(out) == 0 {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check whether the %q user can enter %s: %w: %s", c.as.Username, folder, err, bytes.TrimSpace(out))
	}
	return true, nil
}

var unsafeInName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// keptName names the folder that keeps the cluster for dir: the end of dir's
// path, readable (the checkout's folder, .data, pg), and a hash of all of
// it, so that two checkouts never share a cluster and the same one always
// finds its own. Short, because the server's socket lives in that folder and
// a socket's path may be at most 107 bytes.
func keptName(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	readable := unsafeInName.ReplaceAllString(dir, "-")
	if len(readable) > 40 {
		readable = readable[len(readable)-40:]
	}
	readable = strings.TrimLeft(readable, "-.")
	return readable + "-" + hex.EncodeToString(sum[:4])
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

// URL is the connection URL of database db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Stop shuts the cluster down quickly and cleanly: connections are ended
// and a checkpoint is written.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-m", "fast", "-w", "stop")
}

// Crash stops the cluster at once, as if PostgreSQL had died: an immediate
// shutdown, with no checkpoint and no last write of the WAL buffers. The
// next Start recovers from the WAL; what survives is what the cluster's
// durability promised.
func (c *Cluster) Crash() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-m", "immediate", "-w", "stop")
}

// Remove stops the cluster and deletes it: its folder, and the link to it
// when it was kept elsewhere.
func (c *Cluster) Remove() error {
	if err := c.Stop(); err != nil && c.running() {
		// Deleting the files under a running server would leave it
		// holding the port with nothing behind it.
		return err
	}
	if c.Link != "" {
		if err := os.Remove(c.Link); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.RemoveAll(c.Dir)
}

// running reports whether a server runs in the cluster's data folder.
func (c *Cluster) running() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// pg_ctl status fails (exit status 3) when no server runs.
	return c.run(ctx, "pg_ctl", "-D", c.dataDir(), "status") == nil
}

// chown gives dir, and everything in it when deep, to the user the server
// runs as.
func (c *Cluster) chown(dir string, deep bool) error {
	if c.as == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.as.Uid)
	gid, _ := strconv.Atoi(c.as.Gid)
	if !deep {
		return os.Lchown(dir, uid, gid)
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = os.Lchown(p, uid, gid)
		}
		// A server still running in dir (left by a killed run, stopped
		// only after this) removes its temporary files as it goes.
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	})
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) error {
	path := filepath.Join(c.bin, tool)
	var cmd *exec.Cmd
	if c.as != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.as.Username, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = c.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
