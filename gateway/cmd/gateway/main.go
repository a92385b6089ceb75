// Command gateway serves the REST API (JSON over HTTP) in front of the
// services' gRPC APIs, and the OpenAPI document that describes it. Run it
// with -help for its settings.
package main

import (
	"context"

	"github.com/ipnmediation/disputes/gateway/internal/app"
	"github.com/ipnmediation/disputes/platform/config"
)

func main() {
	var cfg app.Config
	config.Main("gateway", cfg.Register, func(ctx context.Context) error { return app.Run(ctx, cfg) })
}
