package config

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main is the whole of a binary's main function: it declares the settings
// with register, parses the flags and environment, and calls run with a
// context that is cancelled on SIGINT or SIGTERM. It exits 2 for bad
// settings and 1 when run fails.
func Main(name string, register func(*Set), run func(context.Context) error) {
	set := NewSet(name, nil)
	register(set)
	if err := set.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		stop()
		os.Exit(1)
	}
}
