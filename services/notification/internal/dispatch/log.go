package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// Cursor is where a page of the delivery log starts: after the delivery
// with this creation time and id, in newest-first order.
type Cursor struct {
	CreateTime time.Time
	ID         string
}

// Page asks for part of the delivery log.
type Page struct {
	// Size is how many deliveries, already bounded by the caller.
	Size int
	// After is where to start; nil for the newest.
	After *Cursor
}

// Filter narrows the delivery log; a zero field does not narrow.
type Filter struct {
	// Case is a case's resource name: only deliveries about it.
	Case string
	// Recipient is a member's or link group's resource name.
	Recipient string
	State     State
}

// ErrNotDead is what LogStore.Retry returns for a delivery that is not
// dead.
var ErrNotDead = errors.New("delivery is not dead")

// LogStore reads the delivery log and revives dead deliveries.
type LogStore interface {
	// ListDeliveries returns up to limit of the group's deliveries that
	// pass the filter, newest first, starting after the cursor when one is
	// given.
	ListDeliveries(ctx context.Context, group string, filter Filter, after *Cursor, limit int) ([]Delivery, error)
	// GetDelivery returns the group's delivery id, or ErrNotFound.
	GetDelivery(ctx context.Context, group, id string) (Delivery, error)
	// Retry applies revive to the group's delivery id when it is dead, and
	// returns the result as stored. It returns ErrNotFound for a delivery
	// the group does not have and ErrNotDead for one that is not dead.
	Retry(ctx context.Context, group, id string, revive func(Delivery) Delivery) (Delivery, error)
	// RetryDead gives every dead delivery of the group (only those about
	// caseName when it is not empty) revived's state, failures and due
	// time, at once, and returns how many it changed. Deliveries in another
	// state are left alone.
	RetryDead(ctx context.Context, group, caseName string, revived Delivery) (int, error)
}

// Log is the delivery log as callers see it.
type Log struct {
	Store LogStore
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// List returns a page of the group's deliveries, newest first, and the
// cursor of the next page (nil on the last). Group admins and the operator
// may list; other members of the group are refused; anyone else is told the
// group does not exist.
func (l *Log) List(ctx context.Context, group string, filter Filter, page Page) ([]Delivery, *Cursor, error) {
	if err := mayList(auth.FromContext(ctx), group); err != nil {
		return nil, nil, err
	}
	rows, err := l.Store.ListDeliveries(ctx, group, filter, page.After, page.Size+1)
	if err != nil {
		return nil, nil, fmt.Errorf("list deliveries: %w", err)
	}
	if len(rows) <= page.Size {
		return rows, nil, nil
	}
	rows = rows[:page.Size]
	last := rows[len(rows)-1]
	return rows, &Cursor{CreateTime: last.CreateTime, ID: last.ID}, nil
}

// Get returns the group's delivery id, as List shows it, to the callers
// who may list the group's deliveries. To anyone else, and for a delivery
// the group does not have, it is DELIVERY_NOT_FOUND: a delivery names its
// recipient and its case, which only the group's admins and the operator
// read.
func (l *Log) Get(ctx context.Context, group, id string) (Delivery, error) {
	if mayList(auth.FromContext(ctx), group) != nil {
		return Delivery{}, deliveryNotFound(group, id)
	}
	if _, err := uuid.Parse(id); err != nil {
		return Delivery{}, deliveryNotFound(group, id)
	}
	d, err := l.Store.GetDelivery(ctx, group, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return Delivery{}, deliveryNotFound(group, id)
	case err != nil:
		return Delivery{}, fmt.Errorf("get delivery: %w", err)
	}
	return d, nil
}

func deliveryNotFound(group, id string) error {
	return &fault.Error{Kind: fault.NotFound, Reason: "DELIVERY_NOT_FOUND", Message: "the delivery does not exist",
		Metadata: map[string]string{"delivery": group + "/deliveries/" + id}}
}

// Retry makes the group's dead delivery id pending again, due at once,
// with a fresh allowance of attempts. Only the group's admins may: they
// answer for whom the group writes to. The operator, who may read any
// group's log, is refused, as are other members of the group; anyone else
// is told the group does not exist.
func (l *Log) Retry(ctx context.Context, group, id string) (Delivery, error) {
	if err := mayRetry(auth.FromContext(ctx), group); err != nil {
		return Delivery{}, err
	}
	if _, err := uuid.Parse(id); err != nil {
		return Delivery{}, deliveryNotFound(group, id)
	}
	now := l.now()
	d, err := l.Store.Retry(ctx, group, id, func(d Delivery) Delivery { return d.Retried(now) })
	switch {
	case errors.Is(err, ErrNotFound):
		return Delivery{}, deliveryNotFound(group, id)
	case errors.Is(err, ErrNotDead):
		return Delivery{}, &fault.Error{Kind: fault.FailedPrecondition, Reason: "DELIVERY_NOT_DEAD",
			Message:  "only a dead delivery can be retried; this one is " + d.State.String(),
			Metadata: map[string]string{"delivery": group + "/deliveries/" + id, "state": d.State.String()}}
	case err != nil:
		return Delivery{}, fmt.Errorf("retry delivery: %w", err)
	}
	return d, nil
}

// RetryDead makes every dead delivery of the group pending again, due at
// once, with a fresh allowance of attempts, as Retry does for one; only
// those about caseName when it is not empty. It returns how many. The same
// callers as Retry may: after an outage an admin need not retry hundreds of
// deliveries one by one.
func (l *Log) RetryDead(ctx context.Context, group, caseName string) (int, error) {
	if err := mayRetry(auth.FromContext(ctx), group); err != nil {
		return 0, err
	}
	// Retried is the one rule for what a retry does; every row retried at
	// once takes the same outcome, so the store can write it in one
	// statement.
	revived := Delivery{State: Dead}.Retried(l.now())
	n, err := l.Store.RetryDead(ctx, group, caseName, revived)
	if err != nil {
		return 0, fmt.Errorf("retry dead deliveries: %w", err)
	}
	return n, nil
}

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func groupNotFound(group string) error {
	return &fault.Error{Kind: fault.NotFound, Reason: "GROUP_NOT_FOUND", Message: "the group does not exist",
		Metadata: map[string]string{"group": group}}
}

func mayList(p auth.Principal, group string) error {
	switch {
	case p.Kind == auth.Operator, p.IsGroupAdmin(group):
		return nil
	case p.InGroup(group):
		return fault.New(fault.PermissionDenied, "GROUP_ADMIN_ONLY", "only the group's admins may read its delivery log")
	case p.Kind == auth.Member:
		return groupNotFound(group)
	}
	return fault.New(fault.PermissionDenied, "GROUP_ADMIN_ONLY", "only the group's admins and the operator may read a delivery log")
}

// mayRetry lets only the group's admins retry its deliveries; a member of
// another group is told the group does not exist.
func mayRetry(p auth.Principal, group string) error {
	if p.IsGroupAdmin(group) {
		return nil
	}
	if p.Kind == auth.Member && !p.InGroup(group) {
		return groupNotFound(group)
	}
	return fault.New(fault.PermissionDenied, "GROUP_ADMIN_ONLY", "only the group's admins may retry its deliveries")
}
