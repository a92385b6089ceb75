// Package stack runs the whole system on one machine: it builds the service
// binaries, starts them as separate processes against PostgreSQL, NATS and an
// SMTP server, and loads demo data. `make run` uses it (cmd/disputes-local),
// and so does the end-to-end test (e2e).
package stack
