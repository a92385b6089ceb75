// Package platform is the ground every service of the disputes system stands
// on: configuration, logging, the gRPC server bootstrap, PostgreSQL with
// embedded migrations, the transactional outbox and its relay, durable event
// consumers that park what they cannot apply and apply it again (events),
// the operator's view of parked events that every service serves
// (operations), OpenTelemetry tracing and the trace ids in log lines
// (tracing, logging), envelope encryption of confidential text (sealed), the
// reading of update masks every Update method shares (fieldmask) and the
// test harness. It holds no domain logic; each concern lives in its own package
// below this one.
package platform
