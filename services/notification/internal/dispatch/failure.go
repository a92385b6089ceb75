package dispatch

import (
	"context"
	"errors"
)

// Class is what a failed attempt says about sending again, and so what it
// does to the delivery.
type Class int

// The classes of failure.
const (
	// Unknown is any failure nobody classified: it counts toward the retry
	// policy's MaxAttempts, after which the delivery is dead. A bug or a
	// setting that is wrong (an SMTP server that refuses our sender, say)
	// ends there, and the group's admins are told.
	Unknown Class = iota
	// Transient is a failure because something of ours, or something on
	// the way, could not be reached: the directory, casework, the SMTP
	// connection, a 4xx reply, a peer deployment. Sending again once it is
	// back cures it, so it never kills a delivery and never uses up
	// MaxAttempts: during a three-minute directory outage 267 of 330
	// deliveries used up their eight attempts and died.
	Transient
	// Permanent is a failure sending again cannot cure: the recipient is
	// gone or has no address, the mail server refused the address or the
	// message for good (5xx), the template does not render, the peer
	// refused the notice. The delivery is dead at once, for an admin to
	// retry once it is fixed.
	Permanent
)

// String names the class in logs.
func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	}
	return "unknown"
}

var (
	// ErrUnavailable is in the chain of an error that says something of
	// ours or on the way could not be reached (see Transient). The
	// adapters mark their errors with it (Unreachable), so that dispatch
	// need not know gRPC codes or network errors.
	ErrUnavailable = errors.New("unavailable")
	// ErrPermanent is in the chain of an error that sending again cannot
	// cure (see Permanent); adapters mark their errors with it (Refused).
	ErrPermanent = errors.New("refused for good")
)

// Unreachable marks err as Transient without changing its text.
func Unreachable(err error) error { return marked{err, ErrUnavailable} }

// Refused marks err as Permanent without changing its text.
func Refused(err error) error { return marked{err, ErrPermanent} }

// marked is an error with a class in its chain and its own text.
type marked struct{ err, class error }

func (m marked) Error() string   { return m.err.Error() }
func (m marked) Unwrap() []error { return []error{m.err, m.class} }

// Classify says what err, from an attempt, is. A deadline or cancellation
// of the attempt itself is Transient: something took too long or we are
// stopping, and the next attempt may fare better.
func Classify(err error) Class {
	switch {
	case err == nil:
		return Unknown
	case errors.Is(err, ErrPermanent):
		return Permanent
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return Transient
	}
	return Unknown
}
