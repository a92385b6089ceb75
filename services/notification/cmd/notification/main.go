// Command notification runs the notification service: it turns dispute
// events into e-mail to the people concerned and keeps a log of every
// delivery. Run it with -help for its settings.
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
	"github.com/ipnmediation/disputes/services/notification/internal/app"
)

func main() {
	var cfg app.Config
	set := config.NewSet(app.Name, nil)
	cfg.Register(set)
	if err := set.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "notification:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "notification:", err)
		os.Exit(1)
	}
}
