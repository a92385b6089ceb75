//go:build tools

// Package promtool pins Prometheus's promtool, which make rules uses to check
// and unit-test the alerting rules in deploy/prometheus, and the PromQL parser
// that ./metricscheck holds the rules and the Grafana dashboard to
// docs/operations.md's metrics with. It is a module of its own, outside
// go.work and apart from tools/go.mod, so that Prometheus's many dependencies
// reach no other module.
package promtool

import (
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
