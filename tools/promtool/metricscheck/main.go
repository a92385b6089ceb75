// Command metricscheck holds the Grafana dashboard and the alerting rules in
// deploy/ to the metric catalogue in docs/operations.md, so that neither reads
// a metric or a label the processes do not serve. make rules runs it:
//
//	go run ./metricscheck -catalogue docs/operations.md -dashboard deploy/grafana/disputes.json -rules deploy/prometheus/alerts.yaml
//
// The catalogue is the table of metrics in docs/operations.md: each row starts
// with the metric's name in backticks, then its type, then its labels in
// backticks ("`go_*`" stands for every metric with that prefix). Every
// expression is parsed with Prometheus's own PromQL parser (Grafana's
// $__rate_interval and friends replaced by a duration first); each metric it
// selects must be in the catalogue (a histogram's as name_bucket, name_sum or
// name_count), and each label it matches on or groups by must be one of the
// metric's labels, job, instance or le. The dashboard must also be valid JSON
// with schemaVersion 39 or later and a Prometheus datasource variable that
// every query uses.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// metric is one row of the catalogue.
type metric struct {
	kind   string
	labels map[string]bool
}

type catalogue struct {
	names    map[string]metric
	prefixes []string // from rows such as `go_*`
}

// Labels every series has once scraped, or that every histogram bucket has.
var implicit = map[string]bool{"job": true, "instance": true, "le": true, "__name__": true}

var (
	rowRE   = regexp.MustCompile("^\\|\\s*`([a-zA-Z_:][a-zA-Z0-9_:]*\\*?)`\\s*\\|\\s*([a-z]+)\\s*\\|([^|]*)\\|")
	labelRE = regexp.MustCompile("`([a-zA-Z_][a-zA-Z0-9_]*)`")
	// Grafana's variables of a time range, which the parser does not know.
	grafanaVarRE = regexp.MustCompile(`\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?`)
)

func readCatalogue(path string) (*catalogue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &catalogue{names: map[string]metric{}}
	s := bufio.NewScanner(f)
	for s.Scan() {
		m := rowRE.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		name, kind := m[1], m[2]
		switch kind {
		case "counter", "gauge", "histogram", "runtime":
		default:
			return nil, fmt.Errorf("%s: %s: type %q is not counter, gauge, histogram or runtime", path, name, kind)
		}
		if p, ok := strings.CutSuffix(name, "*"); ok {
			c.prefixes = append(c.prefixes, p)
			continue
		}
		labels := map[string]bool{}
		for _, l := range labelRE.FindAllStringSubmatch(m[3], -1) {
			labels[l[1]] = true
		}
		c.names[name] = metric{kind: kind, labels: labels}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	if len(c.names) == 0 {
		return nil, fmt.Errorf("%s: no metric table found (rows such as | `disputes_ready` | gauge | | ... |)", path)
	}
	return c, nil
}

// lookup finds the catalogue's row of a selected series name: the name itself,
// or a histogram's with its _bucket, _sum or _count suffix.
func (c *catalogue) lookup(name string) (metric, bool) {
	if m, ok := c.names[name]; ok {
		return m, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if m, ok := c.names[base]; ok && m.kind == "histogram" {
				return m, true
			}
		}
	}
	for _, p := range c.prefixes {
		if strings.HasPrefix(name, p) {
			return metric{kind: "runtime"}, true
		}
	}
	return metric{}, false
}

// checkExpr parses one expression and returns what is wrong with it.
func (c *catalogue) checkExpr(p parser.Parser, expr string) []string {
	expr = grafanaVarRE.ReplaceAllString(expr, "5m")
	node, err := p.ParseExpr(expr)
	if err != nil {
		return []string{fmt.Sprintf("does not parse: %v", err)}
	}
	var problems []string
	// The labels that any metric of the expression has: what grouping may use.
	known := map[string]bool{}
	for l := range implicit {
		known[l] = true
	}
	var groupings [][]string
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			name := n.Name
			if name == "" {
				problems = append(problems, "a selector without a metric name")
				return nil
			}
			m, ok := c.lookup(name)
			if !ok {
				problems = append(problems, fmt.Sprintf("metric %s is not in the catalogue", name))
				return nil
			}
			for l := range m.labels {
				known[l] = true
			}
			for _, lm := range n.LabelMatchers {
				if implicit[lm.Name] || m.kind == "runtime" || m.labels[lm.Name] {
					continue
				}
				problems = append(problems, fmt.Sprintf("metric %s has no label %s", name, lm.Name))
			}
		case *parser.AggregateExpr:
			groupings = append(groupings, n.Grouping)
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				groupings = append(groupings, n.VectorMatching.MatchingLabels, n.VectorMatching.Include)
			}
		}
		return nil
	})
	for _, g := range groupings {
		for _, l := range g {
			if !known[l] {
				problems = append(problems, fmt.Sprintf("groups by %s, a label none of its metrics has", l))
			}
		}
	}
	return problems
}

// dashboardExprs checks the dashboard's frame and returns its expressions,
// each with where it is.
func dashboardExprs(path string) (map[string]string, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var d struct {
		SchemaVersion int `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Type  string `json:"type"`
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, nil, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	var problems []string
	if d.SchemaVersion < 39 {
		problems = append(problems, fmt.Sprintf("schemaVersion is %d, not 39 or later", d.SchemaVersion))
	}
	dsVar := ""
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = v.Name
		}
	}
	if dsVar == "" {
		problems = append(problems, "no datasource variable of type prometheus in templating.list")
	}
	exprs := map[string]string{}
	type target struct {
		Expr       string `json:"expr"`
		RefID      string `json:"refId"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	}
	type panel struct {
		Title      string            `json:"title"`
		Type       string            `json:"type"`
		Targets    []target          `json:"targets"`
		Panels     []json.RawMessage `json:"panels"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	}
	var walk func(raw []json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				problems = append(problems, fmt.Sprintf("a panel does not decode: %v", err))
				continue
			}
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				problems = append(problems, fmt.Sprintf("panel %q has no query", p.Title))
			}
			for _, t := range p.Targets {
				where := fmt.Sprintf("dashboard panel %q query %s", p.Title, t.RefID)
				ds := t.Datasource
				if ds == nil {
					ds = p.Datasource
				}
				if ds == nil || (ds.UID != "${"+dsVar+"}" && ds.UID != "$"+dsVar) {
					problems = append(problems, where+": its datasource is not ${"+dsVar+"}")
				}
				if strings.TrimSpace(t.Expr) == "" {
					problems = append(problems, where+": no expression")
					continue
				}
				exprs[where] = t.Expr
			}
		}
	}
	walk(d.Panels)
	return exprs, problems, nil
}

func rulesExprs(path string, p parser.Parser) (map[string]string, []string, error) {
	groups, errs := rulefmt.ParseFile(path, false, model.UTF8Validation, p, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("%v", errs)
	}
	exprs := map[string]string{}
	var problems []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			where := fmt.Sprintf("rule group %s alert %s", g.Name, r.Alert)
			exprs[where] = r.Expr
			for l := range r.Labels {
				if l != "severity" {
					problems = append(problems, where+": label "+l+" (alerts add only severity)")
				}
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if r.Alert != "" && r.Annotations[a] == "" {
					problems = append(problems, where+": no "+a+" annotation")
				}
			}
		}
	}
	return exprs, problems, nil
}

func main() {
	cataloguePath := flag.String("catalogue", "docs/operations.md", "the Markdown file whose table lists the metrics")
	dashboardPath := flag.String("dashboard", "", "a Grafana dashboard JSON file to check")
	rulesPath := flag.String("rules", "", "a Prometheus rules file to check")
	flag.Parse()
	c, err := readCatalogue(*cataloguePath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "metricscheck:", err)
		os.Exit(1)
	}
	p := parser.NewParser(parser.Options{})
	exprs := map[string]string{}
	var problems []string
	for _, src := range []struct {
		path string
		read func(string) (map[string]string, []string, error)
	}{
		{*dashboardPath, dashboardExprs},
		{*rulesPath, func(path string) (map[string]string, []string, error) { return rulesExprs(path, p) }},
	} {
		if src.path == "" {
			continue
		}
		e, probs, err := src.read(src.path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "metricscheck:", err)
			os.Exit(1)
		}
		for _, pr := range probs {
			problems = append(problems, src.path+": "+pr)
		}
		for where, expr := range e {
			exprs[src.path+": "+where] = expr
		}
	}
	for where, expr := range exprs {
		for _, pr := range c.checkExpr(p, expr) {
			problems = append(problems, where+": "+pr)
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		for _, pr := range problems {
			fmt.Fprintln(os.Stderr, pr)
		}
		os.Exit(1)
	}
	fmt.Printf("%d expressions read only metrics and labels of %s (%d metrics)\n", len(exprs), *cataloguePath, len(c.names))
}
