package e2e

import (
	"context"
	"encoding/hex"
	"net"
	"sync"
	"testing"

	collectortracev1 "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/prototext"
)

// receiver is an OTLP/gRPC trace collector in the test's own process: it
// keeps every span the system's processes export to it.
type receiver struct {
	collectortracev1.UnimplementedTraceServiceServer
	addr string

	mu       sync.Mutex
	spans    []span
	requests []string // each export request as text, for the canary search
}

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
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{addr: lis.Addr().String()}
	server := grpc.NewServer()
	collectortracev1.RegisterTraceServiceServer(server, r)
	go func() { _ = server.Serve(lis) }()
	t.Cleanup(server.Stop)
	return r
}

// Export implements the OTLP trace service.
func (r *receiver) Export(_ context.Context, req *collectortracev1.ExportTraceServiceRequest) (*collectortracev1.ExportTraceServiceResponse, error) {
	text := prototext.Format(req)
	var got []span
	for _, rs := range req.GetResourceSpans() {
		service := attributes(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				got = append(got, span{
					service: service, name: s.GetName(), kind: s.GetKind(),
					traceID: hex.EncodeToString(s.GetTraceId()), id: hex.EncodeToString(s.GetSpanId()),
					parentID: hex.EncodeToString(s.GetParentSpanId()), attributes: attributes(s.GetAttributes()),
				})
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, got...)
	r.requests = append(r.requests, text)
	return &collectortracev1.ExportTraceServiceResponse{}, nil
}

func attributes(kvs []*commonv1.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	return out
}

// all returns the spans received so far.
func (r *receiver) all() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]span(nil), r.spans...)
}

// exported returns every export request received so far, as text.
func (r *receiver) exported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

// tracingSettings point every process of the system at r, with a short
// batch delay so that spans arrive within a poll or two.
func (r *receiver) tracingSettings() map[string][]string {
	env := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + r.addr, "OTEL_BSP_SCHEDULE_DELAY=100"}
	settings := map[string][]string{}
	for _, name := range []string{"directory", "intake", "casework", "notification", "gateway", "web"} {
		settings[name] = env
	}
	return settings
}
