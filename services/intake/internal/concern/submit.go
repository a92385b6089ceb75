package concern

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
)

// RequestIDTTL is how long a request id is remembered: a retry within it is
// answered with the first request's concern, a later one registers anew.
const RequestIDTTL = 24 * time.Hour

// Submission is one sending of the public form.
type Submission struct {
	// Parent is the group, groups/{g}.
	Parent string
	Draft  Draft
	// RequestID is the UUID the client picked for this submission, so that
	// repeats register one concern; optional.
	RequestID string
	// Honeypot is the form's field that people never see; anything in it
	// marks the sender as a bot.
	Honeypot string
	// Source is the client's network (clientaddr.Network), the key of
	// the per-address limit; empty when unknown, and then not limited.
	Source string
}

// PriorRequest is what is remembered of a request id.
type PriorRequest struct {
	// Digest is the SHA-256 of the request's content (contentDigest).
	Digest []byte
	// ConcernID is the concern the request registers.
	ConcernID string
	// Registered says whether that concern exists yet; Reference and
	// CreateTime are its own when it does.
	Registered bool
	Reference  string
	CreateTime time.Time
	// AccessCode is the concern's access code as the first answer showed
	// it, while the store keeps it; empty once forgotten or reissued.
	AccessCode string
}

// Claim is a request id to remember as registering a concern, with the
// digest of the request's content (contentDigest).
type Claim struct {
	RequestID string
	Digest    []byte
	// At is when it is claimed; a claim made at or before Since is no
	// longer remembered and may be taken again.
	At, Since time.Time
}

// Requests remembers CreateConcern's request ids.
type Requests interface {
	// Request returns what is remembered of requestID since the given
	// time; found is false when nothing is.
	Request(ctx context.Context, requestID string, since time.Time) (p PriorRequest, found bool, err error)
	// CreateClaimed is Store.Create for a concern registered under a
	// request id, which it remembers, with the request's digest, as
	// registering c in the same transaction. When another request has
	// claimed the id since claim.Since, it stores nothing and returns
	// ErrRequestClaimed.
	CreateClaimed(ctx context.Context, c Concern, accessCodeHash, replayCode string, claim Claim) error
	// ForgetReplayCodes destroys the sealed access codes of the concerns
	// registered at or before the given time and returns how many.
	ForgetReplayCodes(ctx context.Context, registeredBefore time.Time) (int, error)
}

// CheckRequestID returns an InvalidArgument error unless id is empty or a
// UUID in its canonical form.
func CheckRequestID(id string) error {
	if id == "" {
		return nil
	}
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		var v fault.Violations
		v.Add("request_id", "must be a UUID such as 123e4567-e89b-42d3-a456-426614174000, in lowercase")
		return v.Err()
	}
	return nil
}

func (s *Service) requests() Requests {
	if s.Requests != nil {
		return s.Requests
	}
	if r, ok := s.Store.(Requests); ok {
		return r
	}
	return noRequests{store: s.Store}
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// replay answers a repeat of a request: with the concern the first one
// registered and its access code (done), with a refusal when the id came
// with other content, or not at all (done false) when that concern does not
// exist yet.
func replay(parent string, d Draft, digest []byte, prior PriorRequest) (Registered, bool, error) {
	if !bytes.Equal(prior.Digest, digest) {
		return Registered{}, true, &fault.Error{Kind: fault.AlreadyExists, Reason: "REQUEST_ID_REUSED",
			Message: "this request_id was used in the last 24 hours for a different concern; " +
				"send each new concern with a new request_id, and repeat a request only unchanged"}
	}
	if !prior.Registered {
		return Registered{}, false, nil
	}
	return Registered{
		Concern:    Concern{ID: prior.ConcernID, Group: parent, Draft: d, Reference: prior.Reference, CreateTime: prior.CreateTime},
		AccessCode: prior.AccessCode,
		Repeated:   true,
	}, true, nil
}

// ForgetReplayCodes destroys the sealed access codes kept for repeats of
// requests whose ids are no longer remembered (older than RequestIDTTL), and
// returns how many. The app calls it every minute or so.
func (s *Service) ForgetReplayCodes(ctx context.Context) (int, error) {
	n, err := s.requests().ForgetReplayCodes(ctx, s.now().UTC().Truncate(time.Microsecond).Add(-RequestIDTTL))
	if err != nil {
		return 0, fmt.Errorf("forget access codes kept for repeats: %w", err)
	}
	return n, nil
}

// contentDigest identifies what a request asks for, to tell a retry from a
// different request under the same id: every field the client fills in,
// after normaliseDraft, so a repeat with another desired outcome is another
// request, as one with another description is. Each field is
// length-prefixed, so that no two different requests run together into the
// same bytes. The desired outcome comes last and only when given: a request
// without one has the digest it had before the field existed, so that a
// repeat sent across the upgrade is still recognised, and the length
// prefixes keep the two shapes apart.
func contentDigest(parent string, d Draft) []byte {
	h := sha256.New()
	fields := []string{parent, d.Practitioner, d.Description, d.ClientName, d.Contact.Email, d.Contact.Phone}
	if d.DesiredOutcome != "" {
		fields = append(fields, d.DesiredOutcome)
	}
	for _, f := range fields {
		_ = binary.Write(h, binary.BigEndian, uint64(len(f)))
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

// decoy answers a submission whose honeypot is filled in as if it had been
// registered, with a reference and code that open nothing, so that a bot
// learns nothing from the answer. The code is hashed as a real one is;
// nothing is stored and no event is sent, so the answer comes the time of
// one transaction sooner than a registration's.
func (s *Service) decoy(ctx context.Context, c Concern) (Registered, error) {
	code, err := accesscode.NewAccessCode()
	if err != nil {
		return Registered{}, err
	}
	if _, err := s.Hasher.Hash(code); err != nil {
		return Registered{}, fmt.Errorf("hash access code: %w", err)
	}
	if c.Reference, err = accesscode.NewReference(); err != nil {
		return Registered{}, err
	}
	s.log().LogAttrs(ctx, slog.LevelWarn, "honeypot filled in; nothing registered", slog.String("group", c.Group))
	return Registered{Concern: c, AccessCode: code}, nil
}

// noRequests remembers nothing: every request is new.
type noRequests struct{ store Store }

func (noRequests) Request(context.Context, string, time.Time) (PriorRequest, bool, error) {
	return PriorRequest{}, false, nil
}

func (n noRequests) CreateClaimed(ctx context.Context, c Concern, accessCodeHash, replayCode string, _ Claim) error {
	return n.store.Create(ctx, c, accessCodeHash, replayCode)
}

func (noRequests) ForgetReplayCodes(context.Context, time.Time) (int, error) { return 0, nil }
