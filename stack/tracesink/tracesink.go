// Package tracesink is an OpenTelemetry trace collector (OTLP over gRPC)
// that runs inside the program that starts the system: make run's local
// collector, which writes each span as a line of JSON to a file, and the
// tests' and benchmarks', which keep the spans in memory to look through or
// only count them. It is for a developer's machine and for tests; a
// deployment points OTEL_EXPORTER_OTLP_ENDPOINT at a real collector.
package tracesink

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	collectortracev1 "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonv1 "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/prototext"
)

// Span is one exported span, with the name of the process that made it.
type Span struct {
	Service    string            `json:"service"`
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	TraceID    string            `json:"traceId"`
	ID         string            `json:"spanId"`
	ParentID   string            `json:"parentSpanId,omitempty"`
	Start      time.Time         `json:"start"`
	Duration   time.Duration     `json:"durationNs"`
	Status     string            `json:"status,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Options say what the sink does with what it receives.
type Options struct {
	// Addr is where it listens; a free port on 127.0.0.1 when empty.
	Addr string
	// Lines, when set, gets each span as a line of JSON.
	Lines io.Writer
	// Keep keeps every span and every export request in memory (Spans,
	// Requests): for tests, whose systems live a minute.
	Keep bool
}

// Sink is a running collector.
type Sink struct {
	collectortracev1.UnimplementedTraceServiceServer
	opts   Options
	addr   string
	server *grpc.Server

	mu       sync.Mutex
	count    int64
	spans    []Span
	requests []string
}

// Start listens and serves until Stop.
func Start(opts Options) (*Sink, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("trace collector: listen on %s: %w", addr, err)
	}
	s := &Sink{opts: opts, addr: lis.Addr().String(), server: grpc.NewServer()}
	collectortracev1.RegisterTraceServiceServer(s.server, s)
	go func() { _ = s.server.Serve(lis) }()
	return s, nil
}

// Stop stops serving; the processes' last spans may be refused.
func (s *Sink) Stop() { s.server.Stop() }

// Addr is where the sink listens.
func (s *Sink) Addr() string { return s.addr }

// Env is what a process needs to export its spans here: the endpoint, and a
// short batch delay so that spans arrive within moments of their end.
func (s *Sink) Env() []string {
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + s.addr, "OTEL_BSP_SCHEDULE_DELAY=100"}
}

// Export implements the OTLP trace service.
func (s *Sink) Export(_ context.Context, req *collectortracev1.ExportTraceServiceRequest) (*collectortracev1.ExportTraceServiceResponse, error) {
	var got []Span
	for _, rs := range req.GetResourceSpans() {
		service := attributes(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				start := time.Unix(0, int64(sp.GetStartTimeUnixNano())).UTC()
				got = append(got, Span{
					Service: service, Name: sp.GetName(), Kind: sp.GetKind().String(),
					TraceID: hex.EncodeToString(sp.GetTraceId()), ID: hex.EncodeToString(sp.GetSpanId()),
					ParentID: hex.EncodeToString(sp.GetParentSpanId()),
					Start:    start, Duration: time.Duration(sp.GetEndTimeUnixNano() - sp.GetStartTimeUnixNano()),
					Status: sp.GetStatus().GetCode().String(), Attributes: attributes(sp.GetAttributes()),
				})
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count += int64(len(got))
	if s.opts.Keep {
		s.spans = append(s.spans, got...)
		s.requests = append(s.requests, prototext.Format(req))
	}
	if s.opts.Lines != nil {
		enc := json.NewEncoder(s.opts.Lines)
		for _, sp := range got {
			if err := enc.Encode(sp); err != nil {
				return nil, fmt.Errorf("write span: %w", err)
			}
		}
	}
	return &collectortracev1.ExportTraceServiceResponse{}, nil
}

// Count is how many spans have arrived.
func (s *Sink) Count() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Spans returns the spans kept so far (Options.Keep).
func (s *Sink) Spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

// Requests returns every export request kept so far (Options.Keep), as
// text, whole: for a search through everything that left the processes.
func (s *Sink) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func attributes(kvs []*commonv1.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv.GetKey()] = text(kv.GetValue())
	}
	return out
}

// text is an attribute's value as text, whatever its type.
func text(v *commonv1.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonv1.AnyValue_StringValue:
		return x.StringValue
	case *commonv1.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonv1.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonv1.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	}
	return prototext.Format(v)
}
