// Package chaos holds the fault test (`make chaos`, and a short form in
// `make test`): the whole system, started from stack/launch on durable
// PostgreSQL, takes concerns over REST at a steady rate while each process,
// NATS and PostgreSQL fail in turn; afterwards every acknowledged concern
// must have exactly one case and exactly one sent e-mail per member, no
// request may have seen a 500 or waited past the gateway's deadline, and
// every caller must have worked again within 10 s of its dependency's
// return. See chaos_test.go for the faults and README.md for how to read
// its table.
package chaos
