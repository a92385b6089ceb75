// Command gateway serves the REST API (JSON over HTTP) in front of the
// services' gRPC APIs, and the OpenAPI document that describes it. Run it
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

	"github.com/ipnmediation/disputes/gateway/internal/app"
	"github.com/ipnmediation/disputes/platform/config"
)

func main() {
	var cfg app.Config
	set := config.NewSet("gateway", nil)
	cfg.Register(set)
	if err := set.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}
