package casefile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/fault"
)

// Page sizes of ListCases.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ErrNotFound is what a Store returns for a case it does not hold.
var ErrNotFound = errors.New("case not found")

// Cursor is a position in a group's list of cases, which runs newest
// registration first and, for equal times, by descending id.
type Cursor struct {
	RegisterTime time.Time
	ID           string
}

// Store keeps cases. Opening a case is not here: it happens inside the
// transaction that records the ConcernRegistered event as applied, which
// the store offers to the event consumer directly.
type Store interface {
	// Get returns the case with the given id in group (groups/{g}), or
	// ErrNotFound.
	Get(ctx context.Context, group, id string) (Case, error)
	// List returns up to limit cases of group in list order, starting after
	// the cursor when it is not nil.
	List(ctx context.Context, group string, after *Cursor, limit int) ([]Case, error)
	// HasCaseFor reports whether a case was opened for the concern.
	HasCaseFor(ctx context.Context, concern string) (bool, error)
}

// Concern is a concern as intake holds it, with what the client confided.
type Concern struct {
	// Name is groups/{group}/concerns/{concern}.
	Name string
	// Practitioner is the member the concern is about.
	Practitioner string
	Reference    string
	// RegisterTime is when the client registered it.
	RegisterTime time.Time
	Confidential Confidential
}

// Intake is the intake service, owner of concerns until casework takes them
// over.
type Intake interface {
	// Concern returns the named concern; found is false when intake does not
	// know it.
	Concern(ctx context.Context, name string) (c Concern, found bool, err error)
}

// Terms are what a group has promised at the moment a concern is
// registered.
type Terms struct {
	// OverallTarget is the time the group gives itself to resolve a
	// concern, zero when it has not set one.
	OverallTarget time.Duration
	// Statement is the version of its ethical statement in force,
	// groups/{g}/statements/{n}; empty when it has published none.
	Statement string
}

// Directory is the directory service, which knows each group's procedure
// settings and ethical statement.
type Directory interface {
	// Terms returns the group's terms now; found is false when there is no
	// such group.
	Terms(ctx context.Context, group string) (terms Terms, found bool, err error)
}

// Service runs cases.
type Service struct {
	Store     Store
	Intake    Intake
	Directory Directory
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Registration is what the ConcernRegistered event says: ids only.
type Registration struct {
	// Group is the group the event was published for, groups/{g}.
	Group string
	// Concern is groups/{g}/concerns/{c}.
	Concern string
}

// Opening is a case about to be opened, with what the client confided, to
// be stored in the transaction that applies the event.
type Opening struct {
	Case         Case
	Confidential Confidential
}

// OpenFromConcern prepares the case for a newly registered concern: it takes
// the concern over from intake and the group's target from the directory. It
// changes nothing; the caller stores the Opening. It returns nil when the
// concern already has a case. An event that can never be applied (malformed,
// or naming a concern or group nobody knows) gives an InvalidArgument error,
// so that it is set aside rather than tried again; other errors are worth
// retrying.
func (s *Service) OpenFromConcern(ctx context.Context, r Registration) (*Opening, error) {
	group, ok := concernGroup(r.Concern)
	if !ok || group != r.Group {
		return nil, unusableEvent("EVENT_MALFORMED", "the event does not name a concern of its group")
	}
	opened, err := s.Store.HasCaseFor(ctx, r.Concern)
	if err != nil {
		return nil, fmt.Errorf("look for a case of %s: %w", r.Concern, err)
	}
	if opened {
		// Checked first so that a repeated event needs nothing from
		// intake, which may have let go of the concern's text by then.
		return nil, nil
	}
	concern, found, err := s.Intake.Concern(ctx, r.Concern)
	if err != nil {
		return nil, fmt.Errorf("take over %s: %w", r.Concern, err)
	}
	if !found {
		return nil, unusableEvent("EVENT_CONCERN_UNKNOWN", "intake does not know the event's concern")
	}
	if concern.Name != r.Concern || !strings.HasPrefix(concern.Practitioner, group+"/members/") || concern.Reference == "" {
		return nil, unusableEvent("EVENT_CONCERN_INCONSISTENT", "the concern intake returned does not fit the event")
	}
	terms, found, err := s.Directory.Terms(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("look up the terms of %s: %w", group, err)
	}
	if !found {
		return nil, unusableEvent("EVENT_GROUP_UNKNOWN", "the directory does not know the event's group")
	}
	registered := dbTime(concern.RegisterTime)
	return &Opening{
		Case: Case{
			ID:           uuid.NewString(),
			Group:        group,
			Concern:      concern.Name,
			Reference:    concern.Reference,
			Therapist:    concern.Practitioner,
			Phase:        Registered,
			RegisterTime: registered,
			Deadline:     dbTime(deadlineFor(registered, terms.OverallTarget)),
			Statement:    terms.Statement,
			Version:      1,
			CreateTime:   dbTime(s.now()),
		},
		Confidential: concern.Confidential,
	}, nil
}

func unusableEvent(reason, message string) *fault.Error {
	return fault.New(fault.InvalidArgument, reason, message)
}

// View is a case as a caller sees it at one moment.
type View struct {
	Case  Case
	Clock Clock
}

func (s *Service) view(c Case, now time.Time) View {
	return View{Case: c, Clock: ClockAt(c.RegisterTime, c.Deadline, now)}
}

// Get returns the named case (groups/{g}/cases/{id}) to a member of its
// group or the operator.
func (s *Service) Get(ctx context.Context, name string) (View, error) {
	group, id, ok := splitCaseName(name)
	if err := mayReadGroup(ctx, group, caseNotFound(name)); err != nil {
		return View{}, err
	}
	if !ok {
		return View{}, caseNotFound(name)()
	}
	c, err := s.Store.Get(ctx, group, id)
	if errors.Is(err, ErrNotFound) {
		return View{}, caseNotFound(name)()
	}
	if err != nil {
		return View{}, fmt.Errorf("get case: %w", err)
	}
	return s.view(c, s.now()), nil
}

// List returns a page of the cases of group (groups/{g}), newest
// registration first, to a member of the group or the operator. size 0
// means DefaultPageSize; larger than MaxPageSize means MaxPageSize. next is
// nil on the last page.
func (s *Service) List(ctx context.Context, group string, size int, after *Cursor) (views []View, next *Cursor, err error) {
	if !isGroupName(group) {
		var v fault.Violations
		v.Add("parent", "must be a group, groups/{group}")
		return nil, nil, v.Err()
	}
	if err := mayReadGroup(ctx, group, groupNotFound(group)); err != nil {
		return nil, nil, err
	}
	switch {
	case size < 0:
		var v fault.Violations
		v.Add("page_size", "must not be negative")
		return nil, nil, v.Err()
	case size == 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	// One more than asked tells whether another page follows.
	cases, err := s.Store.List(ctx, group, after, size+1)
	if err != nil {
		return nil, nil, fmt.Errorf("list cases: %w", err)
	}
	if len(cases) > size {
		cases = cases[:size]
		last := cases[size-1]
		next = &Cursor{RegisterTime: last.RegisterTime, ID: last.ID}
	}
	now := s.now()
	views = make([]View, 0, len(cases))
	for _, c := range cases {
		views = append(views, s.view(c, now))
	}
	return views, next, nil
}
