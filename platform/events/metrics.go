package events

import (
	"context"

	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what a service's consumers are handed and what becomes of
// it, by consumer and by kind of event (`<aggregate>.<event>`, such as
// concern.registered; never the group or the case):
// disputes_events_received_total,
// disputes_events_redelivered_total, disputes_events_applied_total and
// disputes_events_parked_total, and the disputes_events_parked gauge of the
// events parked now, read from the park at scrape time.
type Metrics struct {
	received, redelivered, applied, parked *prometheus.CounterVec
}

// NewMetrics registers the consumers' metrics on reg; the parked gauge
// reads pool.
func NewMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) *Metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metrics.Namespace, Name: name, Help: help}, []string{"consumer", "event"})
	}
	m := &Metrics{
		received:    counter("events_received_total", "Events a consumer was handed, first deliveries and redeliveries, by consumer and kind of event."),
		redelivered: counter("events_redelivered_total", "Events a consumer was handed again after a failure or a lost acknowledgement."),
		applied:     counter("events_applied_total", "Events a consumer applied (or found applied before), by consumer and kind of event."),
		parked:      counter("events_parked_total", "Events a consumer gave up on and parked for the operator, by consumer and kind of event."),
	}
	reg.MustRegister(m.received, m.redelivered, m.applied, m.parked)
	reg.MustRegister(metrics.NewDatabaseGauges(func(ctx context.Context) ([][]metrics.Sample, error) {
		rows, err := pool.Query(ctx, `SELECT consumer, count(*) FROM parked_events GROUP BY consumer`)
		if err != nil {
			return nil, err
		}
		samples, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (metrics.Sample, error) {
			var consumer string
			var n int64
			err := r.Scan(&consumer, &n)
			return metrics.Sample{Labels: []string{consumer}, Value: float64(n)}, err
		})
		return [][]metrics.Sample{samples}, err
	}, metrics.Gauge{Name: "events_parked", Help: "Events parked now, waiting for a retry or the operator, by consumer.", Labels: []string{"consumer"}}))
	return m
}

func (m *Metrics) delivered(consumer string, msg Message) {
	if m == nil {
		return
	}
	ev := Kind(msg.Subject)
	m.received.WithLabelValues(consumer, ev).Inc()
	if msg.Attempts > 1 {
		m.redelivered.WithLabelValues(consumer, ev).Inc()
	}
}

func (m *Metrics) appliedOne(consumer string, msg Message) {
	if m != nil {
		m.applied.WithLabelValues(consumer, Kind(msg.Subject)).Inc()
	}
}

func (m *Metrics) parkedOne(consumer string, msg Message) {
	if m != nil {
		m.parked.WithLabelValues(consumer, Kind(msg.Subject)).Inc()
	}
}
