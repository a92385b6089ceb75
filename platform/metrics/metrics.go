// Package metrics is the Prometheus equipment every process of the system
// shares: a registry with the Go runtime's and the process's collectors, the
// admin server that serves it on /metrics, RED metrics for HTTP routes and
// gRPC calls, readiness as a gauge, and gauges read from the database when
// Prometheus scrapes.
//
// The rule for every metric, here and in the services: a label carries a
// group's name or an enum value, never anything that identifies a person or
// a case, and never text a person typed. docs/operations.md lists every
// metric; the whole-system metrics test fails on one it does not list.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ipnmediation/disputes/platform/httpserver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes the system's own metrics: disputes_outbox_pending.
const Namespace = "disputes"

// Off is the admin address that turns the admin port off: ADMIN_ADDR=off.
// (An empty setting means the default address, as for every setting.)
const Off = "off"

// scrapeTimeout bounds what one scrape may spend on the database and on
// readiness checks: Prometheus's default scrape timeout is 10 s, and a
// gauge that cannot be read in time is left out rather than hold the rest.
const scrapeTimeout = 3 * time.Second

// NewRegistry returns a registry with the Go runtime's and the process's
// collectors, which every process exports.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Serve serves reg's metrics on GET /metrics at addr until ctx is done.
// This is the admin port: it is kept apart from the public one so that a
// reverse proxy or an Ingress never exposes it. Off (or an empty addr)
// serves nothing, and Serve just waits for ctx.
func Serve(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger) error {
	if addr == "" || addr == Off {
		<-ctx.Done()
		return nil
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin port: listen on %s: %w", addr, err)
	}
	return ServeListener(ctx, lis, reg, log)
}

// ServeListener is Serve on a listener the caller opened.
func ServeListener(ctx context.Context, lis net.Listener, reg *prometheus.Registry, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError,
		Timeout:           2 * scrapeTimeout,
		EnableOpenMetrics: false,
	}))
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      4 * scrapeTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("metrics served on the admin port", slog.String("addr", lis.Addr().String()), slog.String("path", "/metrics"))
	return httpserver.Serve(ctx, server, lis, time.Second, log)
}

// Ready is the disputes_ready gauge: 1 when ready says the process is
// ready at the time of the scrape, 0 when not. ready is the process's own
// readiness (what gRPC health or /readyz answers), so that the gauge and the
// probes never disagree; it gets a context bounded by the scrape's timeout.
func Ready(ready func(context.Context) bool) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "ready",
		Help:      "1 when the process is ready (its database, stream or backends are reachable), 0 when not.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		if ready(ctx) {
			return 1
		}
		return 0
	})
}

// Sample is one value of a gauge read at scrape time, with its label values
// in the order the gauge declares its labels.
type Sample struct {
	Labels []string
	Value  float64
}

// Gauge describes a gauge whose values are read when Prometheus scrapes,
// typically by one SQL query: counts of rows by state, the age of the oldest
// row. Reading at scrape keeps the figure exact across restarts and
// replicas, where a gauge kept in memory would start from nothing.
type Gauge struct {
	// Name is the metric's name after the namespace: outbox_pending.
	Name string
	// Help says what one unit is and what the labels mean.
	Help string
	// Labels are the label names; every Sample carries a value for each.
	Labels []string
}

// DatabaseGauges is a collector for gauges read together at scrape time by
// read, for example with one query that groups by state. A failure of read
// is reported to Prometheus as an invalid metric for each gauge, which fails
// that scrape's gauges loudly rather than reporting zeros that look healthy.
type DatabaseGauges struct {
	descs []*prometheus.Desc
	read  func(ctx context.Context) ([][]Sample, error)
}

// NewDatabaseGauges returns a collector of gauges whose samples read gives,
// one slice per gauge in the order given.
func NewDatabaseGauges(read func(ctx context.Context) ([][]Sample, error), gauges ...Gauge) *DatabaseGauges {
	d := &DatabaseGauges{read: read}
	for _, g := range gauges {
		d.descs = append(d.descs, prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", g.Name), g.Help, g.Labels, nil))
	}
	return d
}

// Describe sends the gauges' descriptions.
func (d *DatabaseGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range d.descs {
		ch <- desc
	}
}

// Collect reads the gauges' values.
func (d *DatabaseGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	values, err := d.read(ctx)
	if err == nil && len(values) != len(d.descs) {
		err = errors.New("metrics: a database gauge read returned the wrong number of gauges")
	}
	for i, desc := range d.descs {
		if err != nil {
			ch <- prometheus.NewInvalidMetric(desc, fmt.Errorf("read %s: %w", desc.String(), err))
			continue
		}
		for _, s := range values[i] {
			m, merr := prometheus.NewConstMetric(desc, prometheus.GaugeValue, s.Value, s.Labels...)
			if merr != nil {
				m = prometheus.NewInvalidMetric(desc, merr)
			}
			ch <- m
		}
	}
}
