package e2e

import (
	"testing"

	"github.com/ipnmediation/disputes/stack/tracesink"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
)

// receiver is an OTLP/gRPC trace collector in the test's own process
// (tracesink): it keeps every span the system's processes export to it.
type receiver struct{ sink *tracesink.Sink }

// span is one exported span with the name of the process that made it.
type span struct {
	service, name         string
	traceID, id, parentID string
	kind                  tracev1.Span_SpanKind
	attributes            map[string]string
}

// startReceiver serves a receiver on a free port until the test ends.
func startReceiver(t testing.TB) *receiver {
	t.Helper()
	sink, err := tracesink.Start(tracesink.Options{Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sink.Stop)
	return &receiver{sink: sink}
}

// all returns the spans received so far.
func (r *receiver) all() []span {
	var out []span
	for _, s := range r.sink.Spans() {
		out = append(out, span{
			service: s.Service, name: s.Name, traceID: s.TraceID, id: s.ID, parentID: s.ParentID,
			kind: tracev1.Span_SpanKind(tracev1.Span_SpanKind_value[s.Kind]), attributes: s.Attributes,
		})
	}
	return out
}

// exported returns every export request received so far, as text.
func (r *receiver) exported() []string { return r.sink.Requests() }

// tracingSettings point every process of the system at r, with a short
// batch delay so that spans arrive within a poll or two.
func (r *receiver) tracingSettings() map[string][]string {
	settings := map[string][]string{}
	for _, name := range processes {
		settings[name] = r.sink.Env()
	}
	return settings
}
