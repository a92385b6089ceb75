package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
)

// concernRoute is the span name of the gateway's route that registers a
// concern: the route's template, never the path.
const concernRoute = "POST /v1/{parent=groups/*}/concerns"

const intakeService = "ipn.disputes.intake.v1.IntakeService/"

// TestOneTracePerConcern starts the whole system exporting to an in-process
// OTLP receiver, posts one concern over REST and finds one trace that
// holds the gateway's request, intake's handling of it, casework's
// consumer of intake's event and its call back to intake, notification's
// consumer and every SMTP hand-off, each span parented correctly: every
// parent is in the trace and every chain of parents ends at the gateway's
// span.
func TestOneTracePerConcern(t *testing.T) {
	r := startReceiver(t)
	s := startSystemWith(t, systemOptions{Settings: r.tracingSettings()})
	marker := "CANARY" + strings.ToUpper(launch.RandomSecret()[:12])
	s.raiseConcern(t, marker)

	var problems []string
	defer func() {
		if t.Failed() {
			t.Logf("what was missing at the deadline:\n%s", strings.Join(problems, "\n"))
		}
	}()
	testenv.Eventually(t, 60*time.Second, "one trace from the gateway to every member's e-mail", func() bool {
		problems = checkConcernTrace(r.all(), len(demo.Members))
		return len(problems) == 0
	})
	shape := map[string]int{}
	var traceID string
	for _, sp := range r.all() {
		if sp.service == "gateway" && sp.name == concernRoute {
			traceID = sp.traceID
		}
	}
	for _, sp := range r.all() {
		if sp.traceID == traceID {
			shape[sp.service+" "+strings.TrimPrefix(sp.kind.String(), "SPAN_KIND_")+" "+sp.name]++
		}
	}
	t.Logf("the concern's trace %s: %v", traceID, shape)
	for _, text := range r.exported() {
		lookFor(t, "exported spans", text, []string{marker, strings.ToLower(marker)})
	}
}

// checkConcernTrace says what the spans lack of the concern's trace; none
// when it is whole.
func checkConcernTrace(spans []span, members int) (problems []string) {
	var root *span
	for i, sp := range spans {
		if sp.service == "gateway" && sp.kind == tracev1.Span_SPAN_KIND_SERVER && sp.name == concernRoute {
			if root != nil {
				return []string{"two gateway spans for " + concernRoute}
			}
			root = &spans[i]
		}
	}
	if root == nil {
		return []string{"no gateway span " + concernRoute}
	}
	if root.parentID != "" {
		problems = append(problems, "the gateway's span has a parent: the test's client sent no traceparent")
	}
	trace := map[string]span{}
	for _, sp := range spans {
		if sp.traceID == root.traceID {
			trace[sp.id] = sp
		}
	}
	// Every span's chain of parents is in the trace and ends at the root.
	for _, sp := range trace {
		at := sp
		for steps := 0; at.id != root.id; steps++ {
			parent, ok := trace[at.parentID]
			if !ok || steps > len(trace) {
				problems = append(problems, fmt.Sprintf("%s %q: parent %q of %s %q not in the trace", sp.service, sp.name, at.parentID, at.service, at.name))
				break
			}
			at = parent
		}
	}
	// under reports whether sp has an ancestor that matches.
	under := func(sp span, match func(span) bool) bool {
		for steps := 0; steps <= len(trace); steps++ {
			parent, ok := trace[sp.parentID]
			if !ok {
				return false
			}
			if match(parent) {
				return true
			}
			sp = parent
		}
		return false
	}
	is := func(service string, kind tracev1.Span_SpanKind) func(span) bool {
		return func(sp span) bool { return sp.service == service && sp.kind == kind }
	}
	count := func(match func(span) bool) int {
		n := 0
		for _, sp := range trace {
			if match(sp) {
				n++
			}
		}
		return n
	}
	checks := []struct {
		what string
		want func(int) bool
		span func(span) bool
	}{
		{"intake's span for the gateway's call", atLeast(1), func(sp span) bool {
			parent, ok := trace[sp.parentID]
			return is("intake", tracev1.Span_SPAN_KIND_SERVER)(sp) && strings.Contains(sp.name, intakeService) && ok && parent.service == "gateway"
		}},
		{"casework's consumer span", atLeast(1), is("casework", tracev1.Span_SPAN_KIND_CONSUMER)},
		{"casework's call to intake from its consumer", atLeast(1), func(sp span) bool {
			return is("casework", tracev1.Span_SPAN_KIND_CLIENT)(sp) && strings.Contains(sp.name, intakeService) &&
				under(sp, is("casework", tracev1.Span_SPAN_KIND_CONSUMER))
		}},
		{"intake's span for casework's call", atLeast(1), func(sp span) bool {
			parent, ok := trace[sp.parentID]
			return is("intake", tracev1.Span_SPAN_KIND_SERVER)(sp) && ok && parent.service == "casework"
		}},
		{"notification's consumer span", atLeast(1), is("notification", tracev1.Span_SPAN_KIND_CONSUMER)},
		{fmt.Sprintf("an SMTP hand-off under notification's consumer for each of the %d members", members), atLeast(members), func(sp span) bool {
			return sp.service == "notification" && sp.name == "smtp send" && under(sp, is("notification", tracev1.Span_SPAN_KIND_CONSUMER))
		}},
	}
	for _, c := range checks {
		if n := count(c.span); !c.want(n) {
			problems = append(problems, fmt.Sprintf("%s: %d spans", c.what, n))
		}
	}
	// Every hand-off of the test is this concern's: one outside the trace
	// lost its context on the way.
	for _, sp := range spans {
		if sp.name == "smtp send" && sp.traceID != root.traceID {
			problems = append(problems, "an SMTP hand-off in another trace, "+sp.traceID)
		}
	}
	return problems
}

func atLeast(n int) func(int) bool { return func(got int) bool { return got >= n } }
