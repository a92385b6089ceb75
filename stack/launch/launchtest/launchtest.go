// Package launchtest starts the whole system for a test, as make run starts
// it, on free ports with a database, an event stream and a mail catcher of
// the test's own, and the demo group loaded: what the end-to-end tests, the
// website's system and browser tests and the chaos test share. Everything it
// starts stops when the test ends; on a failure the test log gets the tail
// of each process's log.
package launchtest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testclock"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
)

// Options change how Start runs the system.
type Options struct {
	// MutualTLS runs every process with mutual TLS between them, with
	// throwaway certificates.
	MutualTLS bool
	// ClockFile, when set, runs casework on a clock the test moves with
	// testclock.Set(ClockFile, offset): the binaries are built with -tags
	// testclock, and casework looks for due timers four times a second.
	ClockFile string
	// BinDir holds binaries already built (by Build, with the same
	// ClockFile choice); empty builds them afresh.
	BinDir string
	// Ports are where the processes listen; free ports when zero.
	Ports launch.Ports
	// Settings are more environment variables, by process.
	Settings map[string][]string
}

// System is the running system, with what the test needs to reach it.
type System struct {
	*launch.System
	// Mail is the mail catcher the system sends to.
	Mail *testenv.Mailpit
	// LogDir holds each process's log, <name>.log.
	LogDir string
	// Demo are the demo group's members and their access tokens.
	Demo []demo.Credential
}

// Token is the access token of the demo member with the given id, or "".
func (s *System) Token(id string) string {
	for _, c := range s.Demo {
		if c.Member.ID == id {
			return c.Token
		}
	}
	return ""
}

// logTail is how much of each process's log a failed test shows.
const logTail = 4000

// Build builds the binaries into a folder of the test's own, with -tags
// testclock when the test moves casework's clock, and returns the folder.
func Build(t testing.TB, testClock bool) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var tags []string
	if testClock {
		tags = []string{"testclock"}
	}
	bin := t.TempDir()
	if err := launch.BuildTagged(ctx, root, bin, tags); err != nil {
		t.Fatal(err)
	}
	return bin
}

// FreePorts returns distinct free ports for one system, every process's.
func FreePorts(t testing.TB) launch.Ports {
	t.Helper()
	ports, err := launch.FreePorts(6)
	if err != nil {
		t.Fatal(err)
	}
	return launch.Ports{Directory: ports[0], Intake: ports[1], Casework: ports[2], Notification: ports[3], Gateway: ports[4], Web: ports[5]}
}

// Start starts the whole system for t and loads the demo group.
func Start(t testing.TB, opts Options) *System {
	t.Helper()
	bin := opts.BinDir
	if bin == "" {
		bin = Build(t, opts.ClockFile != "")
	}
	ports := opts.Ports
	if ports == (launch.Ports{}) {
		ports = FreePorts(t)
	}
	settings := map[string][]string{}
	for name, env := range opts.Settings {
		settings[name] = append(settings[name], env...)
	}
	if opts.ClockFile != "" {
		settings["casework"] = append(settings["casework"], testclock.FileEnv+"="+opts.ClockFile, "TIMER_INTERVAL=250ms")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	mail := testenv.StartMailpit(t)
	logDir := t.TempDir()
	sys := &launch.System{
		BinDir:         bin,
		DatabaseURL:    testenv.Database(t),
		NATSURL:        testenv.NATS(t),
		EventNamespace: string(testenv.Namespace(t)),
		SMTPAddr:       mail.SMTPAddr,
		SendRate:       40,
		Ports:          ports,
		// Every process serves its metrics, so that the tests can read
		// them (and the canary test look through them).
		AdminPorts: FreePorts(t),
		Settings:   settings,
		LogLevel:   "info",
		Logs: func(name string) io.Writer {
			f, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			return f
		},
	}
	if opts.MutualTLS {
		sys.TLSDir = t.TempDir()
	}
	sys.NewSecrets()
	t.Cleanup(func() {
		if err := sys.StopAll(15 * time.Second); err != nil {
			t.Errorf("graceful stop: %v", err)
		}
		if t.Failed() {
			for _, name := range launch.Processes {
				b, _ := os.ReadFile(filepath.Join(logDir, name+".log"))
				if len(b) > logTail {
					b = b[len(b)-logTail:]
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
	return &System{System: sys, Mail: mail, LogDir: logDir, Demo: loaded}
}
