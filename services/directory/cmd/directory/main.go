// Command directory serves IPN groups, members, link groups and member
// sign-in. Run it with -help for its settings.
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
	"github.com/ipnmediation/disputes/services/directory/internal/app"
)

func main() {
	var cfg app.Config
	set := config.NewSet("directory", nil)
	cfg.Register(set)
	if err := set.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "directory:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "directory:", err)
		os.Exit(1)
	}
}
