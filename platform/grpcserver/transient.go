package grpcserver

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Transient reports whether err is a failure that trying again shortly
// cures: something the service depends on could not be reached or was not
// taking work (DependencyUnavailable: PostgreSQL, NATS, another service
// answering or being UNAVAILABLE), or a deadline ran out, the caller's own
// or another service's. An event consumer tries such an event again within
// seconds and never parks it (events.Consumer.Transient).
func Transient(err error) bool {
	return DependencyUnavailable(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		status.Code(innerStatus(err)) == codes.DeadlineExceeded
}
