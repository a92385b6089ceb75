package outbox

import (
	"context"

	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is what the relay exports: disputes_outbox_published_total and
// disputes_outbox_publish_errors_total, counted as it works, and the
// disputes_outbox_pending and disputes_outbox_oldest_age_seconds gauges,
// read from the outbox at scrape time. An event waiting long in the outbox
// is an e-mail, a case or a timer that waits too.
type Metrics struct {
	published, errors prometheus.Counter
}

// NewMetrics registers the relay's metrics on reg; the gauges read pool.
func NewMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) *Metrics {
	m := &Metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "outbox_published_total",
			Help: "Events the relay published to NATS and removed from the outbox."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: "outbox_publish_errors_total",
			Help: "Attempts to publish an event to NATS that failed; the event stays in the outbox and is tried again."}),
	}
	reg.MustRegister(m.published, m.errors)
	reg.MustRegister(metrics.NewDatabaseGauges(func(ctx context.Context) ([][]metrics.Sample, error) {
		var n int64
		var age float64
		err := pool.QueryRow(ctx, `SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 FROM outbox`).Scan(&n, &age)
		return [][]metrics.Sample{{{Value: float64(n)}}, {{Value: max(age, 0)}}}, err
	},
		metrics.Gauge{Name: "outbox_pending", Help: "Events written but not yet published to NATS."},
		metrics.Gauge{Name: "outbox_oldest_age_seconds", Help: "Age of the oldest event not yet published to NATS; 0 when there is none."},
	))
	return m
}

func (m *Metrics) publishedSome(n int) {
	if m != nil {
		m.published.Add(float64(n))
	}
}

func (m *Metrics) failedOne() {
	if m != nil {
		m.errors.Inc()
	}
}
