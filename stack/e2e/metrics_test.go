package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// processes are the system's processes, each with an admin port.
var processes = []string{"directory", "intake", "casework", "notification", "gateway", "web"}

// TestMetricsOfEveryProcess scrapes /metrics on every process's admin port
// before and after one concern goes through the system, and checks that the
// counters of every stage moved, that every process is ready, and that no
// metric or label is outside the list docs/operations.md documents (so that
// nothing that identifies a person or a case can creep into a label).
func TestMetricsOfEveryProcess(t *testing.T) {
	s := startSystem(t)
	documented := documentedMetrics(t)
	before := s.scrapeAll(t)

	marker := newMarker()
	s.raiseConcern(t, marker)
	resp, err := http.Get(s.WebURL() + "/" + demo.GroupID + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	members := len(demo.Members) - 1 // all but the practitioner concerned
	var after map[string]map[string]*dto.MetricFamily
	moved := func(process, name string, match map[string]string) float64 {
		return sum(after[process][name], match) - sum(before[process][name], match)
	}
	// E-mails go out at the system's pace; every count below has moved
	// once the last one is handed off.
	testenv.Eventually(t, 2*time.Minute, "every member's e-mail handed off and counted", func() bool {
		after = s.scrapeAll(t)
		return moved("notification", "disputes_delivery_attempts_total", map[string]string{"outcome": "sent"}) >= float64(members)
	})

	for _, c := range []struct {
		process, name string
		match         map[string]string
		atLeast       float64
	}{
		{"gateway", "disputes_http_requests_total", map[string]string{"method": "POST", "code": "200"}, 1},
		{"gateway", "grpc_client_handled_total", map[string]string{"grpc_method": "CreateConcern", "grpc_code": "OK"}, 1},
		{"intake", "grpc_server_handled_total", map[string]string{"grpc_method": "CreateConcern", "grpc_code": "OK"}, 1},
		{"intake", "disputes_outbox_published_total", nil, 1},
		{"directory", "grpc_server_handled_total", map[string]string{"grpc_code": "OK"}, 1},
		{"casework", "disputes_events_received_total", map[string]string{"event": "concern.registered"}, 1},
		{"casework", "disputes_events_applied_total", map[string]string{"event": "concern.registered"}, 1},
		{"notification", "disputes_events_applied_total", nil, 1},
		{"notification", "disputes_smtp_handoff_seconds", nil, float64(members)},
		{"web", "disputes_http_requests_total", map[string]string{"route": "/{group}/{$}", "code": "200"}, 1},
	} {
		if got := moved(c.process, c.name, c.match); got < c.atLeast {
			t.Errorf("%s: %s%v moved by %v during the walk, want at least %v", c.process, c.name, c.match, got, c.atLeast)
		}
	}
	if open := sum(after["casework"]["disputes_cases_open"], map[string]string{"group": demo.GroupID}); open < 1 {
		t.Errorf("casework: disputes_cases_open for %s is %v, want at least 1", demo.GroupID, open)
	}
	if sent := sum(after["notification"]["disputes_deliveries"], map[string]string{"state": "sent", "channel": "email"}); sent < float64(members) {
		t.Errorf("notification: disputes_deliveries sent by e-mail is %v, want at least %d", sent, members)
	}

	for _, process := range processes {
		if ready := sum(after[process]["disputes_ready"], nil); ready != 1 {
			t.Errorf("%s: disputes_ready is %v, want 1", process, ready)
		}
		for name, family := range after[process] {
			labels, ok := documented.labels(name)
			if !ok {
				t.Errorf("%s: metric %s is not in docs/operations.md's list", process, name)
				continue
			}
			for _, m := range family.GetMetric() {
				for _, l := range m.GetLabel() {
					if !slices.Contains(labels, l.GetName()) {
						t.Errorf("%s: %s has label %s, which docs/operations.md does not list for it", process, name, l.GetName())
					}
				}
			}
		}
	}
}

// scrapeAll reads every process's metrics.
func (s *system) scrapeAll(t *testing.T) map[string]map[string]*dto.MetricFamily {
	t.Helper()
	all := map[string]map[string]*dto.MetricFamily{}
	for _, process := range processes {
		all[process] = scrapeMetrics(t, "http://"+s.AdminAddr(process)+"/metrics")
	}
	return all
}

// scrapeText reads one process's metrics as text, for the canary test.
func scrapeText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scrapeMetrics reads one process's metrics and parses them as Prometheus
// does.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	text := scrapeText(t, url)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return families
}

// sum adds the values of the family's series whose labels include match:
// counters, gauges, and a histogram's count of observations.
func sum(f *dto.MetricFamily, match map[string]string) float64 {
	var total float64
	for _, m := range f.GetMetric() {
		ok := true
		for name, want := range match {
			found := false
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == name && l.GetValue() == want)
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

// documentedList is docs/operations.md's list of metrics: each name (or
// prefix, for go_* and process_*) with the labels it may carry.
type documentedList map[string][]string

// labels returns the labels a metric may carry; ok is false for a metric
// that is not documented.
func (d documentedList) labels(name string) ([]string, bool) {
	if labels, ok := d[name]; ok {
		return labels, true
	}
	for prefix, labels := range d {
		if p, ok := strings.CutSuffix(prefix, "*"); ok && strings.HasPrefix(name, p) {
			return labels, true
		}
	}
	return nil, false
}

// metricRow is a row of the table of metrics: | `name` | type | labels | meaning |.
var metricRow = regexp.MustCompile("^\\| `([a-z_*]+)` \\| [a-z ]+ \\|([^|]*)\\|")

func documentedMetrics(t *testing.T) documentedList {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	list := documentedList{}
	for _, line := range strings.Split(string(b), "\n") {
		m := metricRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var labels []string
		for _, l := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[2], -1) {
			labels = append(labels, l[1])
		}
		list[m[1]] = labels
	}
	// The Go and process collectors' own labels, and the quantiles of
	// their summaries.
	list["go_*"] = append(list["go_*"], "version", "quantile")
	list["process_*"] = append(list["process_*"], "version")
	if len(list) < 20 {
		t.Fatalf("docs/operations.md lists only %d metrics; its table's format changed?", len(list))
	}
	return list
}
