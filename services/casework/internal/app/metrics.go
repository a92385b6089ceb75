package app

import (
	"context"
	"time"

	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/ipnmediation/disputes/services/casework/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics puts casework's own metrics on reg: how late timers fire
// (disputes_timer_lateness_seconds, observed as they fire), and, read from
// the database at each scrape on the clock now, the timers due but not
// fired (disputes_timers_due), the open cases by group and phase
// (disputes_cases_open) and the overdue ones by group
// (disputes_cases_overdue). Labels are group names and phases only.
func registerMetrics(reg prometheus.Registerer, st *store.Store, now func() time.Time) {
	lateness := prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: metrics.Namespace, Name: "timer_lateness_seconds",
		Help:    "How long after its due time a reminder or overdue timer fired.",
		Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600},
	})
	reg.MustRegister(lateness)
	st.TimerFired = func(late time.Duration) { lateness.Observe(max(late, 0).Seconds()) }
	reg.MustRegister(metrics.NewDatabaseGauges(func(ctx context.Context) ([][]metrics.Sample, error) {
		g, err := st.ReadGauges(ctx, now())
		if err != nil {
			return nil, err
		}
		var open, overdue []metrics.Sample
		for key, n := range g.Open {
			open = append(open, metrics.Sample{Labels: []string{key[0], key[1]}, Value: float64(n)})
		}
		for group, n := range g.Overdue {
			overdue = append(overdue, metrics.Sample{Labels: []string{group}, Value: float64(n)})
		}
		return [][]metrics.Sample{{{Value: float64(g.TimersDue)}}, open, overdue}, nil
	},
		metrics.Gauge{Name: "timers_due", Help: "Reminder and overdue timers whose time has come and that have not fired."},
		metrics.Gauge{Name: "cases_open", Help: "Open cases, by group and phase.", Labels: []string{"group", "phase"}},
		metrics.Gauge{Name: "cases_overdue", Help: "Open cases past their eight-week target, by group.", Labels: []string{"group"}},
	))
}
