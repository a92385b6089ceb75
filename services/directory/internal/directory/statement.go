package directory

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// CurrentStatement names the version of a statement in force, in place of a
// version number.
const CurrentStatement = "current"

func notFoundStatement() error {
	return fault.New(fault.NotFound, "STATEMENT_NOT_FOUND", "no such statement version")
}

// StatementName is the resource name of a statement version.
func StatementName(groupID string, version int) string {
	return groupName(groupID) + "/statements/" + strconv.Itoa(version)
}

// maySeeDrafts reports whether the caller may read the group's draft
// statements: its members and the operator.
func maySeeDrafts(p auth.Principal, groupID string) bool {
	return p.Kind == auth.Operator || p.InGroup(groupName(groupID))
}

// CreateStatement adds a draft of the group's ethical statement under the
// next version number. The group's admins and the operator may.
func (s *Service) CreateStatement(ctx context.Context, groupID, markdown string) (Statement, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return Statement{}, err
	}
	if !mayAdminister(auth.FromContext(ctx), groupID) {
		return Statement{}, denied("write statements")
	}
	// How long it may be, and what it may hold, is the contract's text
	// rule (max_length in the proto), applied before any handler.
	if len(ParseSections(markdown)) == 0 {
		var v fault.Violations
		v.Add("statement.markdown", "is required")
		return Statement{}, v.Err()
	}
	st, err := s.Store.CreateStatement(ctx, Statement{GroupID: groupID, Markdown: markdown, State: StatementDraft, CreateTime: s.now()})
	if err != nil {
		return Statement{}, storeError(err, notFoundGroup, "the statement")
	}
	return st, nil
}

// resolveStatement reads the version which names: a version number or
// CurrentStatement. Anything else is a version that does not exist.
func (s *Service) resolveStatement(ctx context.Context, groupID, which string) (Statement, error) {
	var st Statement
	var err error
	if which == CurrentStatement {
		st, err = s.Store.GetPublishedStatement(ctx, groupID)
	} else {
		version, perr := strconv.Atoi(which)
		if perr != nil || version < 1 || strconv.Itoa(version) != which {
			return Statement{}, notFoundStatement()
		}
		st, err = s.Store.GetStatement(ctx, groupID, version)
	}
	if err != nil {
		return Statement{}, storeError(err, notFoundStatement, "statement")
	}
	return st, nil
}

// GetStatement returns a version of the group's statement: which is a version
// number or CurrentStatement. Anyone may read published and superseded
// versions; drafts are NOT_FOUND except to the group's members and the
// operator.
func (s *Service) GetStatement(ctx context.Context, groupID, which string) (Statement, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return Statement{}, err
	}
	st, err := s.resolveStatement(ctx, groupID, which)
	if err != nil {
		return Statement{}, err
	}
	if st.State == StatementDraft && !maySeeDrafts(auth.FromContext(ctx), groupID) {
		return Statement{}, notFoundStatement()
	}
	return st, nil
}

// ListStatements lists the versions of the group's statement, newest first;
// drafts only for the group's members and the operator. The page cursor is a
// version number.
func (s *Service) ListStatements(ctx context.Context, groupID string, p Page) ([]Statement, string, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return nil, "", err
	}
	before := 0
	if p.After != "" {
		n, err := strconv.Atoi(p.After)
		if err != nil || n < 1 {
			var v fault.Violations
			v.Add("page_token", "is not a token from a previous response")
			return nil, "", v.Err()
		}
		before = n
	}
	rows, err := s.Store.ListStatements(ctx, groupID, before, p.Size+1, maySeeDrafts(auth.FromContext(ctx), groupID))
	if err != nil {
		return nil, "", fmt.Errorf("list statements: %w", err)
	}
	statements, next := pageOf(rows, p.Size, func(st Statement) string { return strconv.Itoa(st.Version) })
	return statements, next, nil
}

// PublishedStatement is the outcome of PublishStatement.
type PublishedStatement struct {
	Statement
	// Superseded is the version that was in force before; 0 when none was.
	Superseded int
}

// PublishStatement makes a draft the group's statement in force; the version
// it replaces becomes superseded and stays readable. The group's admins and
// the operator may.
func (s *Service) PublishStatement(ctx context.Context, groupID, which string) (PublishedStatement, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return PublishedStatement{}, err
	}
	if !mayAdminister(auth.FromContext(ctx), groupID) {
		return PublishedStatement{}, denied("publish statements")
	}
	st, err := s.resolveStatement(ctx, groupID, which)
	if err != nil {
		return PublishedStatement{}, err
	}
	notDraft := fault.New(fault.FailedPrecondition, "STATEMENT_NOT_DRAFT", "only a draft can be published; write a new version instead")
	if st.State != StatementDraft {
		return PublishedStatement{}, notDraft
	}
	published, superseded, err := s.Store.PublishStatement(ctx, groupID, st.Version, s.now())
	if errors.Is(err, ErrNotDraft) {
		return PublishedStatement{}, notDraft
	}
	if err != nil {
		return PublishedStatement{}, storeError(err, notFoundStatement, "statement")
	}
	return PublishedStatement{Statement: published, Superseded: superseded}, nil
}
