// Package exitcode decides disputesctl's exit status and the words it puts on
// stderr when a command fails. The statuses are a contract with scripts: each
// class of failure has its own number, listed in Table, and a number never
// changes meaning.
package exitcode

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The exit statuses of disputesctl.
const (
	// OK means the command did what was asked.
	OK = 0
	// Failure is any failure without a status of its own, for example an
	// unreadable file or an internal error of a service.
	Failure = 1
	// Usage means the command line was wrong: unknown command, bad flag or
	// wrong number of arguments. Nothing was sent.
	Usage = 2
	// NotFound means a named group, member, link, statement or token does
	// not exist (or belongs to a group the credentials cannot see).
	NotFound = 3
	// Denied means the credentials are missing, invalid, revoked or expired,
	// or do not allow the command.
	Denied = 4
	// AlreadyExists means the thing to create is already there.
	AlreadyExists = 5
	// InvalidArgument means the service rejected a value; the field
	// violations say which.
	InvalidArgument = 6
	// Conflict means the current state does not allow the command (for
	// example publishing a statement that is not a draft) or someone else
	// changed the record first.
	Conflict = 7
	// Unavailable means the service could not be reached or did not answer
	// within the timeout.
	Unavailable = 8
)

// Entry is one line of the exit-status table.
type Entry struct {
	Code    int
	Meaning string
}

// Table lists every exit status with what it means, for `disputesctl help`
// and the README.
var Table = []Entry{
	{OK, "success"},
	{Failure, "any other failure (unreadable file or TLS certificate, internal error)"},
	{Usage, "usage error: unknown command, bad flag, wrong arguments or only part of the TLS settings; nothing was sent"},
	{NotFound, "NOT_FOUND: no such group, member, link group, statement or token"},
	{Denied, "UNAUTHENTICATED or PERMISSION_DENIED: missing, invalid, revoked or insufficient token"},
	{AlreadyExists, "ALREADY_EXISTS: the thing to create is already there"},
	{InvalidArgument, "INVALID_ARGUMENT: a value was rejected; field violations follow"},
	{Conflict, "FAILED_PRECONDITION or ABORTED: the current state does not allow it"},
	{Unavailable, "UNAVAILABLE or DEADLINE_EXCEEDED: the service is unreachable or too slow, or the TLS handshake failed"},
}

// usageError is a mistake on the command line.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// AsUsage marks err as a command-line mistake (exit status 2).
func AsUsage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// Usagef returns a command-line mistake (exit status 2).
func Usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// ServiceError is a failed call to one of the services; it remembers which
// service and where, so that "unreachable" can say what was unreachable.
type ServiceError struct {
	// Service is the service's name, for example "directory".
	Service string
	// Addr is where it was called, host:port.
	Addr string
	// Timeout is the deadline the call had.
	Timeout time.Duration
	// Err is the gRPC error.
	Err error
	// Cause, when set, says in the operator's words why the connection
	// failed, for example a TLS handshake that one side refused. gRPC folds
	// such failures into an UNAVAILABLE status whose text nests transport
	// internals; Cause stands in for that text.
	Cause string
}

// Error returns the gRPC error's text.
func (e *ServiceError) Error() string {
	return fmt.Sprintf("%s at %s: %v", e.Service, e.Addr, e.Err)
}

// Unwrap returns the gRPC error.
func (e *ServiceError) Unwrap() error { return e.Err }

// Of returns the exit status for err; OK for nil.
func Of(err error) int {
	if err == nil {
		return OK
	}
	var u usageError
	if errors.As(err, &u) {
		return Usage
	}
	st, ok := grpcStatus(err)
	if !ok {
		return Failure
	}
	switch st.Code() {
	case codes.OK:
		return OK
	case codes.NotFound:
		return NotFound
	case codes.Unauthenticated, codes.PermissionDenied:
		return Denied
	case codes.AlreadyExists:
		return AlreadyExists
	case codes.InvalidArgument, codes.OutOfRange:
		return InvalidArgument
	case codes.FailedPrecondition, codes.Aborted:
		return Conflict
	case codes.Unavailable, codes.DeadlineExceeded:
		return Unavailable
	}
	return Failure
}

// Description is what disputesctl prints about a failure.
type Description struct {
	// Message is one sentence.
	Message string
	// Reason is the service's UPPER_SNAKE_CASE reason, the gRPC code name
	// when the service gave none, USAGE for a command-line mistake, and empty
	// for local failures.
	Reason string
	// Details are further lines: one per field violation ("field:
	// description").
	Details []string
}

// Lines are the description as printed: the message with its reason in
// parentheses, then the details indented, one per line.
func (d Description) Lines() []string {
	first := d.Message
	if d.Reason != "" {
		first += " (" + d.Reason + ")"
	}
	lines := []string{first}
	for _, detail := range d.Details {
		lines = append(lines, "  "+detail)
	}
	return lines
}

// Describe says what went wrong in err, in words for the operator.
func Describe(err error) Description {
	var u usageError
	if errors.As(err, &u) {
		return Description{Message: u.err.Error(), Reason: "USAGE"}
	}
	st, ok := grpcStatus(err)
	if !ok {
		return Description{Message: err.Error()}
	}
	d := Description{Message: st.Message(), Reason: codeName(st.Code())}
	for _, detail := range st.Details() {
		switch detail := detail.(type) {
		case *errdetails.ErrorInfo:
			if detail.GetReason() != "" {
				d.Reason = detail.GetReason()
			}
		case *errdetails.BadRequest:
			for _, v := range detail.GetFieldViolations() {
				d.Details = append(d.Details, v.GetField()+": "+v.GetDescription())
			}
		}
	}
	var se *ServiceError
	if errors.As(err, &se) {
		switch st.Code() {
		case codes.Unavailable:
			why := st.Message()
			if se.Cause != "" {
				why = se.Cause
			}
			d.Message = fmt.Sprintf("cannot reach the %s service at %s: %s", se.Service, se.Addr, why)
		case codes.DeadlineExceeded:
			d.Message = fmt.Sprintf("the %s service at %s did not answer within %s", se.Service, se.Addr, se.Timeout)
		}
	}
	return d
}

// grpcStatus finds the gRPC status in err's chain without the wrapping text
// that status.FromError would fold into the message.
func grpcStatus(err error) (*status.Status, bool) {
	var carrier interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &carrier) {
		return nil, false
	}
	return carrier.GRPCStatus(), true
}

// codeName spells a gRPC code the way the API's documents do, for example
// NOT_FOUND.
func codeName(c codes.Code) string {
	names := map[codes.Code]string{
		codes.Canceled:           "CANCELLED",
		codes.Unknown:            "UNKNOWN",
		codes.InvalidArgument:    "INVALID_ARGUMENT",
		codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
		codes.NotFound:           "NOT_FOUND",
		codes.AlreadyExists:      "ALREADY_EXISTS",
		codes.PermissionDenied:   "PERMISSION_DENIED",
		codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
		codes.FailedPrecondition: "FAILED_PRECONDITION",
		codes.Aborted:            "ABORTED",
		codes.OutOfRange:         "OUT_OF_RANGE",
		codes.Unimplemented:      "UNIMPLEMENTED",
		codes.Internal:           "INTERNAL",
		codes.Unavailable:        "UNAVAILABLE",
		codes.DataLoss:           "DATA_LOSS",
		codes.Unauthenticated:    "UNAUTHENTICATED",
	}
	if n, ok := names[c]; ok {
		return n
	}
	return c.String()
}
