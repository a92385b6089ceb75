// Package concern registers the concerns clients raise about a practitioner
// and hands them to the casework service. A concern's text and the client's
// contact details are confidential: they leave this package only towards the
// store and towards casework, never into errors, logs or events.
package concern

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/platform/names"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
)

// RequiredLinkGroups is how many link groups a group must have before it may
// receive concerns: the procedure informs exactly two.
const RequiredLinkGroups = 2

// referenceAttempts bounds the retries when a fresh reference is already
// taken in the group; with 40 random bits even one retry is rare.
const referenceAttempts = 5

// Contact is how the client wants to be reached. Confidential.
type Contact struct {
	Email string
	Phone string
}

// Draft is a concern as the client submits it.
type Draft struct {
	// Practitioner is the member the concern is about,
	// groups/{group}/members/{member}.
	Practitioner string
	// Description is the concern in the client's words. Confidential.
	Description string
	// DesiredOutcome is the outcome the client would like, in their words;
	// optional. Confidential, like Description.
	DesiredOutcome string
	// ClientName is how the client would like to be addressed.
	ClientName string
	Contact    Contact
}

// Concern is a registered concern.
type Concern struct {
	// ID is a UUID, the last part of Name.
	ID string
	// Group is the group's resource name, groups/{group}.
	Group string
	Draft
	// Reference is what the client quotes, for example "K7QM-3XRD".
	Reference string
	// CreateTime is when the concern was registered.
	CreateTime time.Time
}

// Name is the concern's resource name, groups/{group}/concerns/{id}.
func (c Concern) Name() string { return c.Group + "/concerns/" + c.ID }

// Case is the name of the case the concern becomes,
// groups/{group}/cases/{id}: casework opens it under the concern's id (see
// names.CaseOfConcern), so it is known from the first answer.
func (c Concern) Case() string {
	name, _ := names.CaseOfConcern(c.Name())
	return name
}

// GroupID is the last part of the group's resource name.
func (c Concern) GroupID() string { return strings.TrimPrefix(c.Group, "groups/") }

// Registered is a newly registered concern with the access code the client
// keeps. The store gets the code's hash, and the code itself only sealed,
// for repeats of the request within RequestIDTTL.
type Registered struct {
	Concern
	AccessCode string
	// Repeated says that the concern was registered by an earlier request
	// with the same request id. AccessCode is then the code the first
	// answer carried, or empty when it no longer opens the case (it was
	// reissued).
	Repeated bool
}

// ErrReferenceTaken is what a Store returns when the group already has a
// concern with the same reference.
var ErrReferenceTaken = errors.New("reference already taken in the group")

// ErrRequestClaimed is what Requests.CreateClaimed returns when another
// request has already claimed the request id.
var ErrRequestClaimed = errors.New("request id already claimed")

// ErrNotFound is what a Store returns for a concern it does not hold.
var ErrNotFound = errors.New("concern not found")

// ErrHandedOver is what a Store returns for a concern whose text and contact
// details it has let go of because casework owns them now.
var ErrHandedOver = errors.New("concern handed over to casework")

// Store keeps concerns.
type Store interface {
	// Create stores c with the hash of its access code and records that it
	// was registered (the ConcernRegistered event), both or neither. When
	// replayCode is not empty, it is the access code itself, which the
	// store keeps sealed under the concern's data key, for repeats of the
	// request, until Requests.ForgetReplayCodes. It returns
	// ErrReferenceTaken when c.Reference is already used in the group.
	Create(ctx context.Context, c Concern, accessCodeHash, replayCode string) error
	// Get returns the concern with the given id in the group (groups/{g}),
	// or ErrNotFound, or ErrHandedOver once casework has taken it over.
	Get(ctx context.Context, group, id string) (Concern, error)
	// RecordRead appends to the access log that reader read the concern's
	// confidential part at at.
	RecordRead(ctx context.Context, concernID, reader string, at time.Time) error
}

// CodeHasher hashes new access codes (accesscode.Hashing).
type CodeHasher interface {
	Hash(code string) (string, error)
}

// GroupFacts is what intake needs to know about a group.
type GroupFacts struct {
	// LinkGroups is how many link groups the group has.
	LinkGroups int
}

// MemberFacts is what intake needs to know about a member.
type MemberFacts struct {
	// Active says whether the member can take part in new cases.
	Active bool
}

// Directory answers questions about groups and members.
type Directory interface {
	// Group returns facts about a group (groups/{g}); found is false when
	// there is no such group.
	Group(ctx context.Context, name string) (facts GroupFacts, found bool, err error)
	// Member returns facts about a member (groups/{g}/members/{m}); found is
	// false when there is no such member.
	Member(ctx context.Context, name string) (facts MemberFacts, found bool, err error)
}

// Service registers concerns and hands them over.
type Service struct {
	Store     Store
	Directory Directory
	// Requests remembers request ids; Store, when nil and Store implements
	// it.
	Requests Requests
	// AddressLimit bounds the concerns per client network; none when nil.
	AddressLimit *limit.Limiter
	// Hasher hashes access codes. Required.
	Hasher CodeHasher
	// Log receives a line for each filled-in honeypot; slog.Default when
	// nil.
	Log *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Register registers a concern about a member of the group named by parent
// (groups/{g}), provided the group is ready to receive concerns and the
// member is active in it. Anyone may register a concern. It is Submit
// without a request id, honeypot or client address.
func (s *Service) Register(ctx context.Context, parent string, d Draft) (Registered, error) {
	return s.Submit(ctx, Submission{Parent: parent, Draft: d})
}

// Submit registers the concern of a submission of the public form: once per
// request id, not at all when the honeypot is filled in, and within the
// per-address limit. Anyone may submit a concern.
func (s *Service) Submit(ctx context.Context, sub Submission) (Registered, error) {
	parent := sub.Parent
	if err := Check(parent, sub.Draft); err != nil {
		return Registered{}, err
	}
	if err := CheckRequestID(sub.RequestID); err != nil {
		return Registered{}, err
	}
	d := normaliseDraft(sub.Draft)
	now := s.now().UTC().Truncate(time.Microsecond)
	var digest []byte
	if sub.RequestID != "" {
		// A retry is answered before it is counted against the address: a
		// client whose first answer was lost must get it, not a refusal.
		digest = contentDigest(parent, d)
		prior, found, err := s.requests().Request(ctx, sub.RequestID, now.Add(-RequestIDTTL))
		if err != nil {
			return Registered{}, fmt.Errorf("look up request id: %w", err)
		}
		if found {
			if r, done, err := replay(parent, d, digest, prior); done || err != nil {
				return r, err
			}
		}
	}
	if allowed, retry, err := s.AddressLimit.Take(ctx, sub.Source, now); err != nil {
		return Registered{}, err
	} else if !allowed {
		return Registered{}, limit.Exhausted("TOO_MANY_CONCERNS",
			"too many concerns were sent from your network lately", retry, now)
	}

	group, found, err := s.Directory.Group(ctx, parent)
	if err != nil {
		return Registered{}, fmt.Errorf("look up group: %w", err)
	}
	if !found {
		return Registered{}, &fault.Error{Kind: fault.NotFound, Reason: "GROUP_NOT_FOUND",
			Message: fmt.Sprintf("there is no group %s", parent), Metadata: map[string]string{"group": parent}}
	}
	if group.LinkGroups != RequiredLinkGroups {
		return Registered{}, &fault.Error{Kind: fault.FailedPrecondition, Reason: "GROUP_NOT_ACCEPTING_CONCERNS",
			Message:  fmt.Sprintf("the group %s is not yet ready to receive concerns: it must first be linked to two other IPN groups", parent),
			Metadata: map[string]string{"group": parent}}
	}
	member, found, err := s.Directory.Member(ctx, d.Practitioner)
	if err != nil {
		return Registered{}, fmt.Errorf("look up practitioner: %w", err)
	}
	if !found || !member.Active {
		var v fault.Violations
		v.Add("concern.practitioner", "is not an active member of the group")
		return Registered{}, v.Err()
	}

	c := Concern{ID: uuid.NewString(), Group: parent, Draft: d, CreateTime: now}
	if sub.Honeypot != "" {
		// Only after every check a person would also fail, so the answer
		// is what a person would have got; what was written is not logged.
		return s.decoy(ctx, c)
	}
	code, err := accesscode.NewAccessCode()
	if err != nil {
		return Registered{}, err
	}
	hash, err := s.Hasher.Hash(code)
	if err != nil {
		return Registered{}, fmt.Errorf("hash access code: %w", err)
	}
	// The code is kept, sealed, only when a repeat can ask for it; the
	// request id is claimed in the concern's own transaction, so that of
	// concurrent repeats the first registers the concern and the others
	// find the id taken and answer as its repeats.
	replayCode := ""
	var claim *Claim
	if sub.RequestID != "" {
		replayCode = code
		claim = &Claim{RequestID: sub.RequestID, Digest: digest, At: now, Since: now.Add(-RequestIDTTL)}
	}
	for range referenceAttempts {
		if c.Reference, err = accesscode.NewReference(); err != nil {
			return Registered{}, err
		}
		if claim != nil {
			err = s.requests().CreateClaimed(ctx, c, hash, replayCode, *claim)
		} else {
			err = s.Store.Create(ctx, c, hash, replayCode)
		}
		if errors.Is(err, ErrReferenceTaken) {
			continue
		}
		if err != nil && sub.RequestID != "" {
			// A concurrent repeat may have registered the concern under
			// the same id first; then this request is its repeat.
			prior, found, lerr := s.requests().Request(ctx, sub.RequestID, now.Add(-RequestIDTTL))
			if lerr == nil && found {
				if r, done, rerr := replay(parent, d, digest, prior); done || rerr != nil {
					return r, rerr
				}
			}
			if lerr == nil && errors.Is(err, ErrRequestClaimed) {
				if found {
					// Claimed, in a transaction of its own, by a release
					// from before claims and concerns were stored together,
					// and not registered yet: the concern is registered
					// under the claimed id, which only one request can.
					c.ID, claim = prior.ConcernID, nil
				}
				// Or the claim was let go meanwhile: claim it afresh.
				continue
			}
		}
		if err != nil {
			return Registered{}, fmt.Errorf("store concern: %w", err)
		}
		return Registered{Concern: c, AccessCode: code}, nil
	}
	return Registered{}, fmt.Errorf("store concern: no free reference after %d attempts: %w", referenceAttempts, err)
}

// Get returns a concern with its confidential text, for the casework service
// only, which takes the concern over.
func (s *Service) Get(ctx context.Context, name string) (Concern, error) {
	if err := auth.RequireService(ctx, "casework"); err != nil {
		return Concern{}, err
	}
	group, id, ok := ParseName(name)
	notFound := &fault.Error{Kind: fault.NotFound, Reason: "CONCERN_NOT_FOUND",
		Message: fmt.Sprintf("there is no concern %s", name), Metadata: map[string]string{"concern": name}}
	if !ok {
		return Concern{}, notFound
	}
	c, err := s.Store.Get(ctx, group, id)
	if errors.Is(err, ErrNotFound) {
		return Concern{}, notFound
	}
	if errors.Is(err, ErrHandedOver) {
		return Concern{}, &fault.Error{Kind: fault.FailedPrecondition, Reason: "CONCERN_HANDED_OVER",
			Message: fmt.Sprintf("concern %s has been handed over to casework", name), Metadata: map[string]string{"concern": name}}
	}
	if err != nil {
		return Concern{}, fmt.Errorf("get concern: %w", err)
	}
	// Nothing confidential leaves without a record of who read it.
	if err := s.Store.RecordRead(ctx, id, auth.FromContext(ctx).String(), s.now()); err != nil {
		return Concern{}, fmt.Errorf("record the read of concern %s: %w", name, err)
	}
	return c, nil
}

// ParseName reads a concern's resource name, groups/{g}/concerns/{uuid},
// into the group's name (groups/{g}) and the concern's id. A name whose id is
// not a UUID cannot name a concern.
func ParseName(name string) (group, id string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[1] == "" || parts[2] != "concerns" {
		return "", "", false
	}
	u, err := uuid.Parse(parts[3])
	if err != nil || u.String() != parts[3] {
		return "", "", false
	}
	return "groups/" + parts[1], parts[3], true
}

// normaliseDraft trims what a web form tends to add around the fields; the
// description and the desired outcome keep their inner layout.
func normaliseDraft(d Draft) Draft {
	d.ClientName = strings.TrimSpace(d.ClientName)
	d.Description = strings.TrimSpace(d.Description)
	d.DesiredOutcome = strings.TrimSpace(d.DesiredOutcome)
	d.Contact.Email = strings.TrimSpace(d.Contact.Email)
	d.Contact.Phone = strings.TrimSpace(d.Contact.Phone)
	return d
}
