// Command notification runs the notification service: it turns dispute
// events into e-mail to the people concerned and keeps a log of every
// delivery. Run it with -help for its settings.
package main

import (
	"context"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/services/notification/internal/app"
)

func main() {
	var cfg app.Config
	config.Main(app.Name, cfg.Register, func(ctx context.Context) error { return app.Run(ctx, cfg) })
}
