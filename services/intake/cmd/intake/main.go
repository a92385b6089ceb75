// Command intake runs the intake service: the public "raise a concern" form
// of every group, and the hand-over of concerns to casework. Run it with
// -help for its settings.
package main

import (
	"context"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/testclock"
	"github.com/ipnmediation/disputes/services/intake/internal/app"
)

func main() {
	var cfg app.Config
	// The machine's clock, except in a build with -tags testclock, which
	// a whole-system test moves to see a sign-in link expire.
	cfg.Now = testclock.Source()
	config.Main(app.Name, cfg.Register, func(ctx context.Context) error { return app.Run(ctx, cfg) })
}
