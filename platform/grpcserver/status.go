package grpcserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ErrorDomain is the ErrorInfo domain of every error the services return.
const ErrorDomain = "disputes.ipn.org.uk"

// DependencyRetryDelay is the RetryInfo delay of an UNAVAILABLE answer given
// because something the service depends on could not be reached: long enough
// that clients do not hammer a database or a service that is restarting,
// short beside the promise that callers work again within 10 s of its
// return.
const DependencyRetryDelay = 2 * time.Second

// The reasons ToStatus gives errors that are not *fault.Error values.
const (
	// ReasonDependencyUnavailable: something the service needs for the
	// request (PostgreSQL, NATS, another service) could not be reached or
	// was not taking work; the same request may succeed later.
	ReasonDependencyUnavailable = "DEPENDENCY_UNAVAILABLE"
	// ReasonDeadlineExceeded: the request ran out of time, its own or that
	// of a call the service made for it.
	ReasonDeadlineExceeded = "DEADLINE_EXCEEDED"
)

var kindCodes = map[fault.Kind]codes.Code{
	fault.Internal:           codes.Internal,
	fault.InvalidArgument:    codes.InvalidArgument,
	fault.NotFound:           codes.NotFound,
	fault.AlreadyExists:      codes.AlreadyExists,
	fault.FailedPrecondition: codes.FailedPrecondition,
	fault.Aborted:            codes.Aborted,
	fault.PermissionDenied:   codes.PermissionDenied,
	fault.Unauthenticated:    codes.Unauthenticated,
	fault.ResourceExhausted:  codes.ResourceExhausted,
	fault.Unavailable:        codes.Unavailable,
}

// ToStatus is the one place where errors become gRPC statuses.
//
//   - A *fault.Error keeps its kind, message, reason (in ErrorInfo), field
//     violations (in BadRequest) and retry delay (in RetryInfo); one of kind
//     Internal whose cause is an unavailable dependency is treated as that.
//   - When the request's own context is done, whatever failed because of it,
//     the answer is CANCELLED or DEADLINE_EXCEEDED.
//   - An unavailable dependency anywhere in the error's chain is UNAVAILABLE
//     with reason DEPENDENCY_UNAVAILABLE and a RetryInfo: PostgreSQL
//     unreachable, restarting or shutting down (see postgresUnavailable),
//     NATS unreachable, another service answering UNAVAILABLE or not
//     reached at all, a network connection refused, reset or cut short.
//   - A deadline that ran out in the chain (a call to another service, for
//     example) is DEADLINE_EXCEEDED; a cancellation CANCELLED.
//   - Another service's status in the chain passes through as that service
//     gave it, without the text the error gathered on its way here.
//   - Anything else is a bug: logged and hidden behind a plain INTERNAL.
//
// The underlying error is logged, never put in the answer, so internals
// (addresses, SQL, what a caller sent) never reach a caller.
func ToStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	dep := dependency(err)
	if fe, ok := fault.As(err); ok && (fe.Kind != fault.Internal || dep == "") {
		return faultStatus(ctx, log, method, fe)
	}
	switch {
	case ctx.Err() != nil:
		// The caller gave up or ran out of time: the failure is most likely
		// the consequence, and the caller hears the cause.
		log.LogAttrs(ctx, slog.LevelInfo, "request ended by its context", slog.String("method", method), slog.Any("error", err))
		return contextStatus(ctx.Err())
	case dep != "":
		log.LogAttrs(ctx, slog.LevelWarn, "dependency unavailable", slog.String("method", method), slog.String("dependency", dep), slog.Any("error", err))
		return unavailableStatus(retryDelay(err))
	case errors.Is(err, context.DeadlineExceeded), status.Code(innerStatus(err)) == codes.DeadlineExceeded:
		log.LogAttrs(ctx, slog.LevelWarn, "request ran out of time", slog.String("method", method), slog.Any("error", err))
		return contextStatus(context.DeadlineExceeded)
	case errors.Is(err, context.Canceled), status.Code(innerStatus(err)) == codes.Canceled:
		return contextStatus(context.Canceled)
	}
	if inner := innerStatus(err); inner != nil {
		return inner
	}
	log.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("method", method), slog.Any("error", err))
	st, _ := status.New(codes.Internal, "internal error").WithDetails(&errdetails.ErrorInfo{Reason: "INTERNAL", Domain: ErrorDomain})
	return st.Err()
}

func faultStatus(ctx context.Context, log *slog.Logger, method string, fe *fault.Error) error {
	if fe.Cause != nil || fe.Kind == fault.Internal {
		log.LogAttrs(ctx, slog.LevelWarn, "request failed", slog.String("method", method), slog.String("reason", fe.Reason), slog.Any("error", fe.Cause))
	}
	st := status.New(kindCodes[fe.Kind], fe.Message)
	info := &errdetails.ErrorInfo{Reason: fe.Reason, Domain: ErrorDomain, Metadata: fe.Metadata}
	details := []any{info}
	if len(fe.Violations) > 0 {
		br := &errdetails.BadRequest{}
		for _, v := range fe.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		details = append(details, br)
	}
	if fe.RetryDelay > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(fe.RetryDelay)})
	}
	if withDetails, derr := st.WithDetails(toProtoV1(details)...); derr == nil {
		st = withDetails
	}
	return st.Err()
}

func unavailableStatus(delay time.Duration) error {
	st := status.New(codes.Unavailable, "a service this request needs is not available at the moment; try again shortly")
	if withDetails, err := st.WithDetails(
		&errdetails.ErrorInfo{Reason: ReasonDependencyUnavailable, Domain: ErrorDomain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)},
	); err == nil {
		st = withDetails
	}
	return st.Err()
}

func contextStatus(err error) error {
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, "the request was canceled")
	}
	st := status.New(codes.DeadlineExceeded, "the request ran out of time")
	if withDetails, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: ReasonDeadlineExceeded, Domain: ErrorDomain}); derr == nil {
		st = withDetails
	}
	return st.Err()
}

// innerStatus is the gRPC status in err's chain, as the service that gave it
// (or gRPC's client) made it, or nil.
func innerStatus(err error) error {
	var withStatus interface{ GRPCStatus() *status.Status }
	if errors.As(err, &withStatus) {
		return withStatus.GRPCStatus().Err()
	}
	return nil
}

// DependencyUnavailable reports whether err says that something the service
// depends on could not be reached or was not taking work (see ToStatus): a
// failure that a later retry may get past, unlike a bug. For code that must
// decide whether to try again itself, such as an event consumer.
func DependencyUnavailable(err error) bool { return dependency(err) != "" }

// dependency names what err says could not be reached, or "" when it says
// nothing of the kind.
func dependency(err error) string {
	switch {
	case postgresUnavailable(err):
		return "PostgreSQL"
	case natsUnavailable(err):
		return "NATS"
	case status.Code(innerStatus(err)) == codes.Unavailable:
		// Another service that answered UNAVAILABLE, or that gRPC's client
		// could not reach (refused, reset, not resolved, in backoff).
		return "a service"
	}
	// A connection refused, reset or cut short, a name not resolved: pgx,
	// for one, hands back the failed read under a query as it is. Not
	// net.Error, which context.DeadlineExceeded satisfies too.
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "a network connection"
	}
	return ""
}

// postgresUnavailable reports whether err says that PostgreSQL could not be
// reached or was not taking work when it was asked: a failed connection
// attempt (refused, timed out, "the database system is starting up", a
// database that does not accept connections), a server that is shutting down
// or restarting (SQLSTATE 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now), a connection exception (class 08), too many
// connections (53300), or a connection pgx closed after losing it. A
// connection cut under a query can also come back as the bare read error
// (io.ErrUnexpectedEOF, a *net.OpError for a reset), which dependency
// counts as a lost connection.
//
// Any failure to connect counts, whatever its cause, including a refused
// password or a missing database: the pool connected when the service
// started (postgres.Open prepared the schema), so a later failure to connect
// is the state of the database, which an operator fixes, not a bug a
// caller could have caused. The cause is logged.
//
// It is here rather than in package postgres so that what imports
// grpcserver (the gateway, disputesctl) does not take in the migration
// tool with it; pgconn is small.
func postgresUnavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", // admin_shutdown: terminating connection due to administrator command
			"57P02", // crash_shutdown: another server process crashed
			"57P03", // cannot_connect_now: the database system is starting up or shutting down
			"53300": // too_many_connections
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception and its subclasses
	}
	return errors.Is(err, pgconn.ErrConnClosed)
}

// natsUnavailable reports whether err says NATS could not be reached or did
// not answer.
func natsUnavailable(err error) bool {
	for _, target := range []error{
		nats.ErrNoServers, nats.ErrConnectionClosed, nats.ErrConnectionReconnecting,
		nats.ErrConnectionDraining, nats.ErrDisconnected, nats.ErrStaleConnection,
		nats.ErrTimeout, nats.ErrNoResponders, nats.ErrMaxConnectionsExceeded,
		jetstream.ErrNoStreamResponse, jetstream.ErrConnectionClosed,
		jetstream.ErrServerShutdown, jetstream.ErrAsyncPublishTimeout,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// retryDelay is how long a caller should wait before trying again: the
// longer of DependencyRetryDelay and what another service asked for in its
// own RetryInfo.
func retryDelay(err error) time.Duration {
	delay := DependencyRetryDelay
	if inner := innerStatus(err); inner != nil {
		for _, d := range status.Convert(inner).Details() {
			if info, ok := d.(*errdetails.RetryInfo); ok {
				delay = max(delay, info.GetRetryDelay().AsDuration())
			}
		}
	}
	return delay
}

// Reason is the ErrorInfo reason of the gRPC status that err carries (a
// call's error, however wrapped), or "" when it carries none: what a
// service branches on when another service refuses it, rather than on
// message text.
func Reason(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
