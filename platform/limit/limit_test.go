package limit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// counting is a Store that allows max events per key, forever.
type counting map[string]int

func (c counting) Take(_ context.Context, bucket, key string, max int, _ time.Duration, now time.Time) (bool, time.Time, error) {
	if c[bucket+"/"+key] >= max {
		return false, now.Add(time.Minute), nil
	}
	c[bucket+"/"+key]++
	return true, time.Time{}, nil
}

// TestRefusals checks that the refusals counter counts each refusal once,
// by the limit's bucket and never by its key (an address).
func TestRefusals(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	refusals := limit.NewRefusals(reg)
	store := counting{}
	concern := &limit.Limiter{Store: store, Rule: limit.Rule{Bucket: "concern", Max: 2, Window: time.Hour}, Refusals: refusals}
	session := &limit.Limiter{Store: store, Rule: limit.Rule{Bucket: "session", Max: 1, Window: time.Hour}, Refusals: refusals}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		limiter *limit.Limiter
		key     string
		allowed bool
	}{
		{concern, "192.0.2.1", true},
		{concern, "192.0.2.1", true},
		{concern, "192.0.2.1", false},
		{concern, "192.0.2.2", true},
		{concern, "", true}, // an unknown address is never limited
		{session, "192.0.2.1", true},
		{session, "192.0.2.1", false},
		{session, "192.0.2.1", false},
	} {
		allowed, _, err := tc.limiter.Take(context.Background(), tc.key, now)
		if err != nil || allowed != tc.allowed {
			t.Fatalf("%s for %q: allowed %v, %v; want %v", tc.limiter.Bucket, tc.key, allowed, err, tc.allowed)
		}
	}
	want := `
# HELP disputes_rate_limit_refusals_total Requests refused by a rate limit on the public door, by limit.
# TYPE disputes_rate_limit_refusals_total counter
disputes_rate_limit_refusals_total{limit="concern"} 1
disputes_rate_limit_refusals_total{limit="session"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
