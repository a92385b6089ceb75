// Command disputesctl is the operator's command-line tool for the IPN
// disputes system: it creates groups, adds and deactivates members, links
// groups, imports and publishes ethical statements and issues and revokes
// access tokens over gRPC. `disputesctl help` lists the commands and the exit
// statuses.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ipnmediation/disputes/operator/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Lookup: os.LookupEnv})
	stop()
	os.Exit(code)
}
