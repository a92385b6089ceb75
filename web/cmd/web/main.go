// Command web serves the website: the pages through which clients raise a
// concern and follow it, rendered on the server from the public REST API.
// Run it with -help for its settings.
package main

import (
	"context"
	// Dates are shown in UK time; the container image has no time zone
	// database of its own.
	_ "time/tzdata"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/web/internal/app"
)

func main() {
	var cfg app.Config
	config.Main(app.Name, cfg.Register, func(ctx context.Context) error { return app.Run(ctx, cfg) })
}
