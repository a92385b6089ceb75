// Command disputes-local runs the whole system on this machine for `make
// run`: PostgreSQL, NATS and a mail catcher (or the ones named by
// DATABASE_URL, NATS_URL and SMTP_ADDR), the four services, the gateway and
// the website as separate processes, and the demo group. Ctrl-C stops
// everything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
)

func main() {
	var opts launch.LocalOptions
	set := config.NewSet("disputes-local", nil)
	set.String(&opts.DatabaseURL, "database-url", "DATABASE_URL", "", "PostgreSQL to use; a private durable cluster in .data/pg (or linked from there, see docs/configuration.md) when empty")
	set.String(&opts.NATSURL, "nats-url", "NATS_URL", "", "NATS server (JetStream) to use; a local one when empty")
	set.String(&opts.SMTPAddr, "smtp-addr", "SMTP_ADDR", "", "SMTP server for outgoing mail; a local mail catcher (mailpit) when empty")
	set.String(&opts.OperatorToken, "operator-token", "OPERATOR_TOKEN", "", "operator's bearer secret; kept in .data/operator-token when empty")
	set.String(&opts.LogLevel, "log-level", "LOG_LEVEL", "info", "log level of the services")
	set.Bool(&opts.MutualTLS, "mutual-tls", "MUTUAL_TLS", false, "mutual TLS between the processes, with a throwaway CA and certificates under .data/tls")
	set.Bool(&opts.Traces, "traces", "TRACES", false, "collect every process's traces into .data/traces.jsonl (a collector in this process, on "+launch.TracesAddr+")")
	if err := set.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "disputes-local:", err)
		os.Exit(2)
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "disputes-local:", err)
		os.Exit(1)
	}
	opts.Root = root
	opts.DataDir = filepath.Join(root, ".data")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := launch.RunLocal(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "disputes-local:", err)
		os.Exit(1)
	}
}
