// Package fault describes errors that a service shows to its callers, without
// tying domain code to gRPC. Domain packages return *Error values; the gRPC
// server turns them into statuses with ErrorInfo and BadRequest details in one
// place (package grpcserver). Anything that is not a *Error reaches callers as
// an internal error whose cause is logged, never shown.
package fault

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind is the class of a failure, one per gRPC status code used by the API.
type Kind int

// The kinds of failure, named after the gRPC codes they map to.
const (
	Internal Kind = iota
	InvalidArgument
	NotFound
	AlreadyExists
	FailedPrecondition
	Aborted
	PermissionDenied
	Unauthenticated
	ResourceExhausted
	Unavailable
)

// FieldViolation says what is wrong with one field of a request.
type FieldViolation struct {
	// Field is the path of the field, for example "concern.client_contact.email".
	Field string
	// Description says what is wrong, in words safe to show to the caller.
	Description string
}

// Error is a failure that callers may see. Message and Violations must never
// hold confidential text; Cause may, and is only logged.
type Error struct {
	Kind Kind
	// Reason is an UPPER_SNAKE_CASE code that clients can branch on.
	Reason string
	// Message is a sentence for people, safe to show to any caller.
	Message string
	// Violations lists bad fields, for InvalidArgument.
	Violations []FieldViolation
	// Metadata adds non-confidential facts, for example the resource name.
	Metadata map[string]string
	// RetryDelay, when positive, is how long the caller should wait before
	// trying again (a google.rpc.RetryInfo for ResourceExhausted and
	// Unavailable), so that well-behaved clients back off for as long as
	// the limit that refused them says rather than guess.
	RetryDelay time.Duration
	// Cause is the underlying error, for logs only.
	Cause error
}

// Error returns the public message and, for logs, the cause.
func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Cause)
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// IsKind reports whether err is a *Error of kind k.
func IsKind(err error, k Kind) bool {
	fe, ok := As(err)
	return ok && fe.Kind == k
}

// New returns an error of the given kind, reason and message.
func New(k Kind, reason, message string) *Error {
	return &Error{Kind: k, Reason: reason, Message: message}
}

// NotFoundf reports that a resource does not exist (or may not be seen).
func NotFoundf(reason, format string, args ...any) *Error {
	return &Error{Kind: NotFound, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Violations collects field violations and turns them into one
// InvalidArgument error.
type Violations struct {
	list []FieldViolation
}

// Add records that field is wrong for the given reason.
func (v *Violations) Add(field, description string) {
	v.list = append(v.list, FieldViolation{Field: field, Description: description})
}

// Addf records a violation with a formatted description.
func (v *Violations) Addf(field, format string, args ...any) {
	v.Add(field, fmt.Sprintf(format, args...))
}

// Merge adds other's violations, with prefix before each field path.
func (v *Violations) Merge(prefix string, other []FieldViolation) {
	for _, fv := range other {
		field := fv.Field
		if prefix != "" {
			field = prefix + "." + field
		}
		v.Add(field, fv.Description)
	}
}

// Len is the number of violations.
func (v *Violations) Len() int { return len(v.list) }

// Err returns nil when nothing was recorded, else an InvalidArgument error
// with reason INVALID_FIELDS that lists every violation.
func (v *Violations) Err() error {
	if len(v.list) == 0 {
		return nil
	}
	fields := make([]string, 0, len(v.list))
	for _, fv := range v.list {
		fields = append(fields, fv.Field)
	}
	return &Error{
		Kind:       InvalidArgument,
		Reason:     "INVALID_FIELDS",
		Message:    "the request has invalid fields: " + strings.Join(fields, ", "),
		Violations: append([]FieldViolation(nil), v.list...),
	}
}
