// Command intake runs the intake service: the public "raise a concern" form
// of every group, and the hand-over of concerns to casework. Run it with
// -help for its settings.
package main

import (
	"context"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/services/intake/internal/app"
)

func main() {
	var cfg app.Config
	config.Main(app.Name, cfg.Register, func(ctx context.Context) error { return app.Run(ctx, cfg) })
}
