package config

import (
	"errors"
	"strings"
	"time"
)

// Service holds the settings every service binary has.
type Service struct {
	// GRPCAddr is where the gRPC server listens.
	GRPCAddr string
	// AdminAddr is where the admin port serves /metrics; empty for none.
	AdminAddr string
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
	// TLS switches on mutual TLS for the gRPC server and every connection
	// to the other services; plaintext when its files are not set.
	TLS TLS
}

// TLS names the PEM files of mutual TLS between the services (and from the
// gateway to them). All empty means plaintext; all set means the server
// presents CertFile and requires client certificates signed by CAFile, and
// every outgoing connection presents CertFile and verifies the server
// against CAFile. Anything in between is a mistake that Enabled reports.
type TLS struct {
	// CertFile is this process's certificate (chain), used both as server
	// and as client, so it needs both extended key usages.
	CertFile string
	// KeyFile is the private key of CertFile.
	KeyFile string
	// CAFile holds the certificates of the authorities that sign the
	// certificates of every process in the deployment.
	CAFile string
}

// Enabled reports whether mutual TLS is on. It returns an error naming the
// missing settings when only some of the three are set, so that a typo in a
// deployment does not silently fall back to plaintext.
func (t TLS) Enabled() (bool, error) {
	var set, missing []string
	for _, f := range []struct{ env, value string }{
		{"TLS_CERT_FILE", t.CertFile}, {"TLS_KEY_FILE", t.KeyFile}, {"TLS_CA_FILE", t.CAFile},
	} {
		if f.value == "" {
			missing = append(missing, f.env)
		} else {
			set = append(set, f.env)
		}
	}
	switch {
	case len(set) == 0:
		return false, nil
	case len(missing) == 0:
		return true, nil
	}
	return false, errors.New("mutual TLS needs all of TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE: " +
		strings.Join(set, ", ") + " set but " + strings.Join(missing, ", ") + " not")
}

// RegisterTLS declares the three mutual-TLS settings. The gateway, which
// has none of the other common settings, declares these.
func (s *Set) RegisterTLS(c *TLS) {
	s.String(&c.CertFile, "tls-cert-file", "TLS_CERT_FILE", "", "PEM certificate this process presents as gRPC server and client; mutual TLS when set together with -tls-key-file and -tls-ca-file, plaintext when all three are empty")
	s.String(&c.KeyFile, "tls-key-file", "TLS_KEY_FILE", "", "PEM private key of -tls-cert-file")
	s.String(&c.CAFile, "tls-ca-file", "TLS_CA_FILE", "", "PEM certificate authorities that sign every service's certificate; peers whose certificates they did not sign are refused")
}

// RegisterAdmin declares the admin port's address, ADMIN_ADDR, which every
// process has: where it serves its metrics, apart from its public port.
func (s *Set) RegisterAdmin(p *string, defaultAddr string) {
	s.String(p, "admin-addr", "ADMIN_ADDR", defaultAddr, "address of the admin port, which serves Prometheus metrics on /metrics; keep it off the public network; off: no admin port")
}

// RegisterService declares the common settings, with the service's name as
// the default schema, defaultAddr as its default listening address and
// defaultAdminAddr as its admin port's.
func (s *Set) RegisterService(c *Service, name, defaultAddr, defaultAdminAddr string) {
	s.String(&c.GRPCAddr, "grpc-addr", "GRPC_ADDR", defaultAddr, "address the gRPC server listens on")
	s.RegisterAdmin(&c.AdminAddr, defaultAdminAddr)
	s.String(&c.DatabaseURL, "database-url", "DATABASE_URL", "postgres://localhost:5432/disputes?sslmode=disable", "PostgreSQL connection URL")
	s.String(&c.DatabaseSchema, "db-schema", "DB_SCHEMA", name, "PostgreSQL schema owned by this service")
	s.String(&c.NATSURL, "nats-url", "NATS_URL", "nats://127.0.0.1:4222", "NATS server URL (JetStream enabled)")
	s.String(&c.EventNamespace, "event-namespace", "EVENT_NAMESPACE", "", "prefix that separates this deployment's event stream from others on the same NATS server; empty in production")
	s.Int(&c.EventReplicas, "event-replicas", "EVENT_REPLICAS", 1, "how many NATS servers keep a copy of the event stream (3 on a three-node cluster)")
	s.String(&c.LogLevel, "log-level", "LOG_LEVEL", "info", "log level: debug, info, warn or error")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 10*time.Second, "how long to drain in-flight calls on SIGTERM before stopping hard")
	s.Secret(&c.ServiceSecret, "service-secret", "SERVICE_SECRET", "credential this service presents when it calls the other services")
	s.Secret(&c.TrustedServices, "trusted-services", "TRUSTED_SERVICES", "services that may call this one, as name=secret,name=secret")
	s.RegisterTLS(&c.TLS)
}
