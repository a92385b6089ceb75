// Package limit counts what each client address (or other key, such as an
// e-mail address) does on the public door (concerns registered, sign-in
// attempts, sign-in links asked for) and refuses it past a limit, so that one
// sender cannot take the service from everyone else. The counts are kept by a
// Store shared by every replica and survive restarts (Postgres). Intake and
// the directory both use it.
package limit

import (
	"context"
	"fmt"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// Store counts events per bucket and key over a sliding window.
type Store interface {
	// Take records one event for key in bucket at now, unless max events
	// are already recorded for it after now-window; then it records
	// nothing and returns allowed false and the time when the oldest of the
	// counted events ages out. Concurrent calls for one key are serialised,
	// so the limit holds across replicas.
	Take(ctx context.Context, bucket, key string, max int, window time.Duration, now time.Time) (allowed bool, retry time.Time, err error)
}

// Rule is one limit: at most Max events per key within Window.
type Rule struct {
	// Bucket separates the counts of different rules.
	Bucket string
	// Max is the number of events allowed per Window; zero or less turns
	// the rule off.
	Max    int
	Window time.Duration
}

// Limiter applies a Rule.
type Limiter struct {
	Store Store
	Rule
	// Refusals, when set, counts the requests the rule refuses.
	Refusals *Refusals
}

// Refusals is disputes_rate_limit_refusals_total{limit}: the requests a
// limit refused, by the limit's bucket (concern, session,
// sign_in_link_email, sign_in_link_address). Never by key: a key is an
// address.
type Refusals struct{ counter *prometheus.CounterVec }

// NewRefusals registers the refusals' counter on reg.
func NewRefusals(reg prometheus.Registerer) *Refusals {
	r := &Refusals{counter: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Name: "rate_limit_refusals_total",
		Help: "Requests refused by a rate limit on the public door, by limit.",
	}, []string{"limit"})}
	reg.MustRegister(r.counter)
	return r
}

// Take counts one event for key at now and reports whether it is within the
// rule; when it is not, retry is when the next one will be. An empty key (a
// caller whose address is unknown) and a rule turned off are never limited.
func (l *Limiter) Take(ctx context.Context, key string, now time.Time) (allowed bool, retry time.Time, err error) {
	if l == nil || l.Store == nil || l.Max <= 0 || key == "" {
		return true, time.Time{}, nil
	}
	allowed, retry, err = l.Store.Take(ctx, l.Bucket, key, l.Max, l.Window, now)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("count %s for the address: %w", l.Bucket, err)
	}
	if !allowed && l.Refusals != nil {
		l.Refusals.counter.WithLabelValues(l.Bucket).Inc()
	}
	return allowed, retry, nil
}

// Exhausted is the refusal of a request past a limit: RESOURCE_EXHAUSTED
// with reason, a message that ends with when to try again (what, followed by
// "; try again after <time>"), that time in ErrorInfo metadata `retryTime`,
// and the wait in RetryInfo. The time is rounded up to the second, so that
// trying again at the time shown succeeds.
func Exhausted(reason, what string, retry, now time.Time) *fault.Error {
	retry = retry.Add(time.Second - time.Nanosecond).Truncate(time.Second).UTC()
	return &fault.Error{
		Kind:       fault.ResourceExhausted,
		Reason:     reason,
		Message:    fmt.Sprintf("%s; try again after %s", what, retry.Format(time.RFC3339)),
		Metadata:   map[string]string{"retryTime": retry.Format(time.RFC3339)},
		RetryDelay: max(retry.Sub(now), time.Second),
	}
}
