// Command casework runs the casework service: it opens a case for every
// concern a client registers and runs the group's procedure on it. Run it
// with -help for its settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/services/casework/internal/app"
)

func main() {
	var cfg app.Config
	set := config.NewSet(app.Name, nil)
	cfg.Register(set)
	if err := set.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "casework:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "casework:", err)
		os.Exit(1)
	}
}
