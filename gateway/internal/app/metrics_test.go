package app

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetrics checks the admin port: the REST requests are counted by the
// route's path template, never by the path (which names the group and the
// case), the calls to the services by method and code, and readiness is a
// gauge.
func TestMetrics(t *testing.T) {
	t.Parallel()
	admin := deadAddr(t)
	s := startSystem(t, func(c *Config) { c.AdminAddr = admin })

	for _, path := range []string{"/v1/groups/g/cases/c1", "/v1/groups/g/cases/c1", "/v1/no/such/route"} {
		do(t, "GET", s.url+path, map[string]string{"Authorization": "Bearer member-token-1"}, nil)
	}
	families := scrape(t, "http://"+admin+"/metrics")

	requests := map[string]float64{}
	for _, m := range families["disputes_http_requests_total"].GetMetric() {
		requests[label(m, "route")+" "+label(m, "method")+" "+label(m, "code")] += m.GetCounter().GetValue()
	}
	for key, want := range map[string]float64{
		"/v1/{name=groups/*/cases/*} GET 200": 2,
		"unmatched GET 404":                   1,
	} {
		if requests[key] != want {
			t.Errorf("disputes_http_requests_total %s: got %v, want %v (all: %v)", key, requests[key], want, requests)
		}
	}
	for key := range requests {
		if strings.Contains(key, "/g/") || strings.Contains(key, "c1") {
			t.Errorf("a request's path leaked into a label: %s", key)
		}
	}

	var calls float64
	for _, m := range families["grpc_client_handled_total"].GetMetric() {
		if label(m, "grpc_service") == "ipn.disputes.casework.v1.CaseworkService" && label(m, "grpc_method") == "GetCase" && label(m, "grpc_code") == "OK" {
			calls += m.GetCounter().GetValue()
		}
	}
	if calls != 2 {
		t.Errorf("grpc_client_handled_total for GetCase OK: got %v, want 2", calls)
	}
	if ready := families["disputes_ready"].GetMetric(); len(ready) != 1 || ready[0].GetGauge().GetValue() != 1 {
		t.Errorf("disputes_ready: %v, want one gauge at 1", ready)
	}
}

// scrape reads a Prometheus text exposition.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return families
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
