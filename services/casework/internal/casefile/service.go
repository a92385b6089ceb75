package casefile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/names"
	"github.com/ipnmediation/disputes/services/casework/internal/procedure"
)

// Page sizes of ListCases.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ErrNotFound is what a Store returns for a case it does not hold.
var ErrNotFound = errors.New("case not found")

// Order is the order of a group's list of cases.
type Order int

// The orders of a list of cases.
const (
	// NewestFirst is the newest registration first and, for equal times,
	// by descending id.
	NewestFirst Order = iota
	// DeadlineFirst is the overall deadline soonest first, so that cases
	// past it come first, and, for equal deadlines, by ascending id.
	DeadlineFirst
)

// Cursor is a position in a group's list of cases: just after the case
// with ID, whose RegisterTime (NewestFirst) or Deadline (DeadlineFirst) it
// holds. A cursor is good only for the order it was made in.
type Cursor struct {
	Order        Order
	RegisterTime time.Time
	Deadline     time.Time
	ID           string
}

// AwaitingFilter keeps the open cases that wait, or do not wait, for the
// member listing them (see Awaiting).
type AwaitingFilter int

// The awaiting filters.
const (
	// AwaitingAny does not filter.
	AwaitingAny AwaitingFilter = iota
	// AwaitingCaller keeps the open cases that wait for Filter.Member; none
	// when Member is empty.
	AwaitingCaller
	// AwaitingOthers keeps the open cases that do not wait for
	// Filter.Member; every open case when Member is empty.
	AwaitingOthers
)

// Filter narrows a list of cases and says its order.
type Filter struct {
	// Phase, when set, keeps cases in that phase.
	Phase Phase
	// Member is the member listing the cases, when the caller is a member of
	// the group; empty for anyone else. Role and Awaiting compare with it.
	Member string
	// Role, when set, keeps cases where Member holds the role (therapist,
	// SPT, nominee, SPC or LP).
	Role Role
	// Overdue keeps open cases whose overall deadline is before Now.
	Overdue bool
	// Open keeps open cases.
	Open bool
	// Awaiting keeps the open cases that wait, or do not wait, for Member.
	Awaiting AwaitingFilter
	// Order is the list's order.
	Order Order
	// Now is the time overdue is judged at; List sets it.
	Now time.Time
}

// Store keeps cases. Opening a case is not here: it happens inside the
// transaction that records the ConcernRegistered event as applied, which
// the store offers to the event consumer directly.
type Store interface {
	// Get returns the case with the given id in group (groups/{g}), or
	// ErrNotFound.
	Get(ctx context.Context, group, id string) (Case, error)
	// ByConcern returns the case opened for concern, or ErrNotFound.
	ByConcern(ctx context.Context, concern string) (Case, error)
	// List returns up to limit cases of group in list order that pass the
	// filter, starting after the cursor when it is not nil.
	List(ctx context.Context, group string, f Filter, after *Cursor, limit int) ([]Case, error)
	// Count returns how many cases of group pass the filter.
	Count(ctx context.Context, group string, f Filter) (int, error)
	// HasCaseFor reports whether a case was opened for the concern.
	HasCaseFor(ctx context.Context, concern string) (bool, error)
	// Update locks the case, passes it to change and writes what change
	// returns, all in one transaction: the case (its version one higher),
	// documents, the timeline entry and any event. It returns ErrNotFound
	// for a case it does not hold and ErrStale when the case changed
	// between reading and writing.
	Update(ctx context.Context, group, id string, change func(Case) (Change, error)) (Change, error)
	// Timeline returns the case's entries in order, from seq after+1, at
	// most limit.
	Timeline(ctx context.Context, caseID string, after, limit int) ([]TimelineEntry, error)
	// Documents returns the case's documents of the given kinds, oldest
	// first, with their confidential text.
	Documents(ctx context.Context, caseID string, kinds ...DocumentKind) ([]Document, error)
	// Confidential returns what the client confided at registration.
	Confidential(ctx context.Context, caseID string) (Confidential, error)
	// RecordAccess appends reads of confidential material to the case's
	// access log, numbering them.
	RecordAccess(ctx context.Context, reads []AccessRecord) error
	// AccessLog returns the case's access records in order, from seq
	// after+1, at most limit.
	AccessLog(ctx context.Context, caseID string, after int64, limit int) ([]AccessRecord, error)
	// RegisteredContacts returns up to limit cases of group in list order,
	// starting after the cursor when it is not nil, each with the e-mail
	// address and telephone number its client registered, opened. It opens
	// nothing else that is confidential.
	RegisteredContacts(ctx context.Context, group string, after *Cursor, limit int) ([]RegisteredContact, error)
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

// ErrConcernHandedOver is in the error of Intake.Concern for a concern that
// intake has handed over to casework already: its case is open.
var ErrConcernHandedOver = errors.New("the concern has been handed over to casework")

// Intake is the intake service, owner of concerns until casework takes them
// over.
type Intake interface {
	// Concern returns the named concern; found is false when intake does not
	// know it. A concern handed over already is an error that wraps
	// ErrConcernHandedOver.
	Concern(ctx context.Context, name string) (c Concern, found bool, err error)
	// ReissueAccessCode gives the concern's client a new access code and
	// ends the old one and its sessions.
	ReissueAccessCode(ctx context.Context, concern string) (reference, code string, err error)
}

// Terms are what a group has promised at the moment a concern is
// registered.
type Terms struct {
	// OverallTarget is the time the group gives itself to resolve a
	// concern, zero when it has not set one.
	OverallTarget time.Duration
	// FirstResponseTarget is the time to the first response to the client,
	// zero when the group has not set one.
	FirstResponseTarget time.Duration
	// ReminderOffsets say how long before each target runs out reminders
	// are due.
	ReminderOffsets []time.Duration
	// Statement is the version of its ethical statement in force,
	// groups/{g}/statements/{n}; empty when it has published none.
	Statement string
	// Procedure is the version of the procedure the group has chosen,
	// procedures/{p}; empty for the default.
	Procedure string
	// Retention is how long the group keeps a closed case; zero for the
	// default.
	Retention time.Duration
}

// Directory is the directory service, which knows each group's procedure
// settings and ethical statement.
type Directory interface {
	// Terms returns the group's terms now; found is false when there is no
	// such group.
	Terms(ctx context.Context, group string) (terms Terms, found bool, err error)
	// ActiveMember reports whether member (groups/{g}/members/{m}) exists
	// and is active in its group.
	ActiveMember(ctx context.Context, member string) (bool, error)
}

// Service runs cases.
type Service struct {
	Store      Store
	Intake     Intake
	Directory  Directory
	Procedures *procedure.Catalogue
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
	// Awaiting is whom the new case waits for (AwaitingOf).
	Awaiting Awaiting
}

// OpenFromConcern prepares the case for a newly registered concern: it takes
// the concern over from intake and the group's target from the directory. It
// changes nothing; the caller stores the Opening. It returns nil when the
// concern already has a case. An event that can never be applied (malformed,
// or naming a concern or group nobody knows) gives an InvalidArgument error,
// so that it is parked for the operator at once rather than tried again and
// again; other errors are worth retrying.
func (s *Service) OpenFromConcern(ctx context.Context, r Registration) (*Opening, error) {
	group, ok := concernGroup(r.Concern)
	if !ok || group != r.Group {
		return nil, unusableEvent("EVENT_MALFORMED", "the event does not name a concern of its group")
	}
	// The case takes its concern's id, so that intake can name it to the
	// client before it is opened here (names.CaseOfConcern).
	caseName, _ := names.CaseOfConcern(r.Concern)
	_, id, ok := splitCaseName(caseName)
	if !ok {
		return nil, unusableEvent("EVENT_MALFORMED", "the event's concern id is not a UUID")
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
	def, err := s.procedureFor(terms)
	if err != nil {
		return nil, err
	}
	registered := dbTime(concern.RegisterTime)
	o := &Opening{
		Case: Case{
			ID:                    id,
			Group:                 group,
			Concern:               concern.Name,
			Reference:             concern.Reference,
			Therapist:             concern.Practitioner,
			Phase:                 Registered,
			RegisterTime:          registered,
			Deadline:              dbTime(targetFrom(registered, terms.OverallTarget, def.OverallTarget())),
			Statement:             terms.Statement,
			Version:               1,
			CreateTime:            dbTime(s.now()),
			Procedure:             def.Name(),
			FirstResponseDeadline: dbTime(targetFrom(registered, terms.FirstResponseTarget, def.FirstResponseTarget())),
			ReminderOffsets:       reminderOffsets(terms.ReminderOffsets),
		},
		Confidential: concern.Confidential,
	}
	o.Awaiting = s.AwaitingOf(o.Case)
	return o, nil
}

func unusableEvent(reason, message string) *fault.Error {
	return fault.New(fault.InvalidArgument, reason, message)
}
