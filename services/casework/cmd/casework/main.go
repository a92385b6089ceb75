// Command casework runs the casework service: it opens a case for every
// concern a client registers and runs the group's procedure on it. Run it
// with -help for its settings.
package main

import (
	"context"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/testclock"
	"github.com/ipnmediation/disputes/services/casework/internal/app"
)

func main() {
	var cfg app.Config
	// The machine's clock, except in a build with -tags testclock, which
	// the whole-system tests use to see reminders weeks ahead.
	cfg.Now = testclock.Source()
	config.Main(app.Name, cfg.Register, func(ctx context.Context) error { return app.Run(ctx, cfg) })
}
