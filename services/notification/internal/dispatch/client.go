package dispatch

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// GroupTemplates renders a template as a group has worded it, falling back
// to the embedded one; a Sender's Templates that implements it is asked
// this way.
type GroupTemplates interface {
	RenderFor(ctx context.Context, group, key string, data message.Data) (message.Message, error)
}

// resolveClient asks casework for the address of a case's client. The
// client is greeted without a name: their name is theirs to give, and a
// message may be read by others on the way.
func (s *Sender) resolveClient(ctx context.Context, d Delivery) (addressee, *failure) {
	if s.Casework == nil {
		return addressee{}, &failure{"no casework to ask for the client's address", Unknown}
	}
	caseName, ok := strings.CutSuffix(d.Recipient, "/client")
	if !ok {
		return addressee{}, &failure{"the recipient is not a case's client", Permanent}
	}
	email, err := s.Casework.ClientEmail(ctx, caseName)
	switch {
	case errors.Is(err, ErrNotFound):
		return addressee{}, &failure{"the case is no longer in casework", Permanent}
	case err != nil:
		return addressee{}, failureOf(err)
	}
	addr := emailAddress(email)
	if addr == "" {
		return addressee{}, &failure{"the client gave no e-mail address", Permanent}
	}
	return addressee{"", addr}, nil
}

// withTimer adds a timer's target and deadline to data.
func withTimer(data message.Data, f Facts) message.Data {
	switch f[FactTarget] {
	case TargetFirstResponse:
		data.Target = "the first response to the client"
	case "":
	default:
		data.Target = "the resolution of the concern"
	}
	if t, err := time.Parse(time.RFC3339, f[FactDeadline]); err == nil {
		data.Deadline = t.UTC().Format("Monday 2 January 2006")
	}
	return data
}
