package app

import (
	"context"
	"time"

	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// deliveryMetrics are notification's own metrics: deliveries by state and
// channel (disputes_deliveries, counted at scrape), attempts by outcome
// (disputes_delivery_attempts_total) and the time of each SMTP hand-off
// (disputes_smtp_handoff_seconds). Labels are enums only.
type deliveryMetrics struct {
	attempts *prometheus.CounterVec
	handoffs prometheus.Histogram
}

func newDeliveryMetrics() *deliveryMetrics {
	return &deliveryMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Name: "delivery_attempts_total",
			Help: "Attempts to deliver a message, by channel (email, grpc) and outcome: sent, failed (tried again later) or dead (given up).",
		}, []string{"channel", "outcome"}),
		handoffs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Name: "smtp_handoff_seconds",
			Help:    "Time to hand one message to the mail server, from dialling to its acceptance.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
	}
}

// handedOff is mailer.Options.HandedOff.
func (m *deliveryMetrics) handedOff(d time.Duration) { m.handoffs.Observe(d.Seconds()) }

// attempted is dispatch.Sender.Attempted.
func (m *deliveryMetrics) attempted(next dispatch.Delivery) {
	outcome := "failed"
	switch next.State {
	case dispatch.Sent:
		outcome = "sent"
	case dispatch.Dead:
		outcome = "dead"
	}
	m.attempts.WithLabelValues(channelLabel(string(next.Channel)), outcome).Inc()
}

// register puts the metrics on reg, with the deliveries' gauge read from
// deliveries at each scrape.
func (m *deliveryMetrics) register(reg prometheus.Registerer, deliveries *store.Store) {
	reg.MustRegister(m.attempts, m.handoffs)
	reg.MustRegister(metrics.NewDatabaseGauges(func(ctx context.Context) ([][]metrics.Sample, error) {
		counts, err := deliveries.CountByState(ctx)
		if err != nil {
			return nil, err
		}
		var samples []metrics.Sample
		for key, n := range counts {
			samples = append(samples, metrics.Sample{Labels: []string{key[0], channelLabel(key[1])}, Value: float64(n)})
		}
		return [][]metrics.Sample{samples}, nil
	}, metrics.Gauge{Name: "deliveries", Help: "Deliveries by state (pending, sent, dead) and channel (email, grpc; unknown before the first attempt).", Labels: []string{"state", "channel"}}))
}

// channelLabel names a delivery's channel, "unknown" before its first
// attempt decides it.
func channelLabel(c string) string {
	if c == "" {
		return "unknown"
	}
	return c
}
