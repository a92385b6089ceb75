package tracing

import (
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"google.golang.org/grpc"
)

// grpcOptions are the same for servers and clients: health checks are not
// traced (every few seconds from every prober, they would bury the
// concerns' traces), no message events (a message's size says nothing an
// operator needs), the W3C propagator only, and no metrics from otelgrpc:
// the process's metrics are Prometheus's, on the admin port.
func grpcOptions() []otelgrpc.Option {
	return []otelgrpc.Option{
		otelgrpc.WithFilter(filters.Not(filters.HealthCheck())),
		otelgrpc.WithMessageEvents(),
		otelgrpc.WithPropagators(Propagator),
		otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
	}
}

// ServerOption traces every call a gRPC server takes, as a child of the
// caller's span when the call carries a traceparent.
func ServerOption() grpc.ServerOption {
	return grpc.StatsHandler(otelgrpc.NewServerHandler(grpcOptions()...))
}

// DialOption traces every call made on a client connection and passes the
// trace context on in the call's metadata.
func DialOption() grpc.DialOption {
	return grpc.WithStatsHandler(otelgrpc.NewClientHandler(grpcOptions()...))
}
