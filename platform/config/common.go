package config

import "time"

// Service holds the settings every service binary has.
type Service struct {
	// GRPCAddr is where the gRPC server listens.
	GRPCAddr string
	// DatabaseURL is the PostgreSQL connection string.
	DatabaseURL string
	// DatabaseSchema is the service's own schema.
	DatabaseSchema string
	// NATSURL is the NATS server with JetStream.
	NATSURL string
	// EventNamespace separates deployments that share a NATS server; empty
	// in production.
	EventNamespace string
	// EventReplicas is how many NATS servers keep a copy of the stream.
	EventReplicas int
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ShutdownTimeout bounds the graceful drain on SIGTERM.
	ShutdownTimeout time.Duration
	// ServiceSecret is the credential this service presents to the others.
	ServiceSecret string
	// TrustedServices maps the names of services that may call this one to
	// their credentials, as "name=secret,name=secret".
	TrustedServices string
}

// RegisterService declares the common settings, with the service's name as
// the default schema and defaultAddr as its default listening address.
func (s *Set) RegisterService(c *Service, name, defaultAddr string) {
	s.String(&c.GRPCAddr, "grpc-addr", "GRPC_ADDR", defaultAddr, "address the gRPC server listens on")
	s.String(&c.DatabaseURL, "database-url", "DATABASE_URL", "postgres://localhost:5432/disputes?sslmode=disable", "PostgreSQL connection URL")
	s.String(&c.DatabaseSchema, "db-schema", "DB_SCHEMA", name, "PostgreSQL schema owned by this service")
	s.String(&c.NATSURL, "nats-url", "NATS_URL", "nats://127.0.0.1:4222", "NATS server URL (JetStream enabled)")
	s.String(&c.EventNamespace, "event-namespace", "EVENT_NAMESPACE", "", "prefix that separates this deployment's event stream from others on the same NATS server; empty in production")
	s.Int(&c.EventReplicas, "event-replicas", "EVENT_REPLICAS", 1, "how many NATS servers keep a copy of the event stream (3 on a three-node cluster)")
	s.String(&c.LogLevel, "log-level", "LOG_LEVEL", "info", "log level: debug, info, warn or error")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 10*time.Second, "how long to drain in-flight calls on SIGTERM before stopping hard")
	s.Secret(&c.ServiceSecret, "service-secret", "SERVICE_SECRET", "credential this service presents when it calls the other services")
	s.Secret(&c.TrustedServices, "trusted-services", "TRUSTED_SERVICES", "services that may call this one, as name=secret,name=secret")
}
