// Command directory serves IPN groups, members, link groups, ethical
// statements and member sign-in. Run it with -help for its settings.
package main

import (
	"context"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/services/directory/internal/app"
)

func main() {
	var cfg app.Config
	config.Main(app.Name, cfg.Register, func(ctx context.Context) error { return app.Run(ctx, cfg) })
}
