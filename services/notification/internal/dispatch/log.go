package dispatch

import (
	"context"
	"fmt"
	"time"

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

// LogStore reads the delivery log.
type LogStore interface {
	// ListDeliveries returns up to limit of the group's deliveries, newest
	// first, starting after the cursor when one is given.
	ListDeliveries(ctx context.Context, group string, after *Cursor, limit int) ([]Delivery, error)
}

// Log is the delivery log as callers see it.
type Log struct {
	Store LogStore
}

// List returns a page of the group's deliveries, newest first, and the
// cursor of the next page (nil on the last). Group admins and the operator
// may list; other members of the group are refused; anyone else is told the
// group does not exist.
func (l *Log) List(ctx context.Context, group string, page Page) ([]Delivery, *Cursor, error) {
	if err := mayList(auth.FromContext(ctx), group); err != nil {
		return nil, nil, err
	}
	rows, err := l.Store.ListDeliveries(ctx, group, page.After, page.Size+1)
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

func mayList(p auth.Principal, group string) error {
	switch {
	case p.Kind == auth.Operator, p.IsGroupAdmin(group):
		return nil
	case p.InGroup(group):
		return fault.New(fault.PermissionDenied, "GROUP_ADMIN_ONLY", "only the group's admins may read its delivery log")
	case p.Kind == auth.Member:
		return &fault.Error{Kind: fault.NotFound, Reason: "GROUP_NOT_FOUND", Message: "the group does not exist",
			Metadata: map[string]string{"group": group}}
	}
	return fault.New(fault.PermissionDenied, "GROUP_ADMIN_ONLY", "only the group's admins and the operator may read a delivery log")
}
