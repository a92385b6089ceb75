package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// DefaultCaseOpening is how long a member's message about a concern just
// registered waits, at most, for casework to open the case so that it can
// quote the case's reference: casework opens it within a second or two of
// the concern's event, and this message is planned from the same event, so
// its first attempt often comes first.
const DefaultCaseOpening = time.Minute

// errCaseOpening says that the case a delivery is about is not in casework
// yet, and is expected to be shortly. Its text is the delivery's last error
// while it waits, which admins read in the delivery log: plain words.
var errCaseOpening = errors.New("waiting a moment for the case to open, so that the message can quote its reference")

// withReferences sets what d's message quotes so that its recipient can
// find what it is about, by who reads it:
//
//   - a member reads the case's short reference, as every member's page
//     shows it ("B7ZX-M0E5"), or nothing when it cannot be known (a message
//     about no case, a case casework no longer has): never a resource
//     name, which members never see; a digest gives each line its case's;
//   - a link group reads the resource name (the case's), which it uses
//     with the API, and not the short reference, which casework keeps out
//     of a link group's progress summary;
//   - the client reads none: their reference is half of their sign-in, and
//     they are told to sign in with the reference and code they were given.
//
// The short reference is read from casework at every attempt, never stored
// with the delivery: the events do not carry it (it is half of the
// client's sign-in, and the stream reaches whatever reads it), and a
// delivery planned before casework opened the case, or before this rule,
// needs nothing it does not have. It returns errCaseOpening while a
// member's message about a concern just registered should wait for its
// case, and an error marked Unreachable while casework cannot be reached.
func (s *Sender) withReferences(ctx context.Context, d Delivery, data message.Data) (message.Data, error) {
	data.Reference = ""
	switch {
	case d.RecipientKind == LinkGroupRecipient:
		data.Reference = d.Facts.Reference()
		return data, nil
	case d.RecipientKind != MemberRecipient, s.Casework == nil:
		// Nobody to ask: nothing to wait for either.
		return data, nil
	}
	if caseName := d.Facts.Case(); caseName != "" {
		ref, found, err := s.caseReference(ctx, d, caseName)
		if err != nil {
			return data, err
		}
		// A member's message about a concern just registered is planned
		// from the event casework opens the case from; wait a little for
		// the case rather than send without its reference.
		if !found && d.Facts[FactCase] == "" && s.now().Sub(d.CreateTime) < s.caseOpening() {
			return data, errCaseOpening
		}
		data.Reference = ref
	}
	for i, item := range data.Items {
		ref, _, err := s.caseReference(ctx, d, item.Case)
		if err != nil {
			return data, err
		}
		data.Items[i].Reference = ref
	}
	return data, nil
}

// caseReference returns the short reference of the named case, found false
// when casework does not have it. Only casework being unreachable is an
// error: any other failure leaves the message without the reference rather
// than a member untold.
func (s *Sender) caseReference(ctx context.Context, d Delivery, caseName string) (ref string, found bool, err error) {
	c, err := s.Casework.Case(ctx, caseName)
	switch {
	case err == nil:
		return c.Reference, true, nil
	case errors.Is(err, ErrNotFound):
		return "", false, nil
	case Classify(err) == Transient:
		return "", false, err
	}
	s.Logger.Warn("the case's reference could not be read; the message quotes none",
		slog.String("delivery", d.Name()), slog.String("case", caseName), slog.Any("error", err))
	return "", true, nil
}

func (s *Sender) caseOpening() time.Duration {
	if s.CaseOpening > 0 {
		return s.CaseOpening
	}
	return DefaultCaseOpening
}
