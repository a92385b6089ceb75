package directory

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// tokenIDPattern is the form of access token ids: 80 random bits in
// lowercase base32.
var tokenIDPattern = regexp.MustCompile(`^[a-z2-7]{16}$`)

// ValidTokenID reports whether id may be the id of an access token.
func ValidTokenID(id string) bool { return tokenIDPattern.MatchString(id) }

// Name is the token's resource name, under its holder's.
func (t AccessToken) Name() string { return t.TokenHolder.Name() + "/accessTokens/" + t.ID }

func notFoundToken() error {
	return fault.New(fault.NotFound, "TOKEN_NOT_FOUND", "no such access token")
}

// mayManageTokens reports whether the caller may list and revoke a holder's
// tokens: the holder itself, the group's admins and the operator.
func mayManageTokens(p auth.Principal, h TokenHolder) bool {
	if mayAdminister(p, h.GroupID) {
		return true
	}
	switch p.Kind {
	case auth.Member:
		return p.Member == h.Name()
	case auth.LinkGroup:
		return p.LinkGroup == h.Name()
	}
	return false
}

// mayKnowLinkGroupTokens reports whether the caller may learn anything about
// the tokens of a group's link groups. A link group's credentials are the
// group's business: to members and link groups of other groups they do not
// exist, as with other groups' drafts.
func mayKnowLinkGroupTokens(p auth.Principal, groupID string) bool {
	switch p.Kind {
	case auth.Operator, auth.Service:
		return true
	case auth.Member, auth.LinkGroup:
		return p.Group == groupName(groupID)
	}
	return false
}

// holder checks that a token holder exists and that the caller may know of
// its tokens, and returns the member for a member's tokens (zero for a link
// group's).
func (s *Service) holder(ctx context.Context, p auth.Principal, h TokenHolder) (Member, error) {
	if h.LinkGroupID == "" {
		m, err := s.Store.GetMember(ctx, h.GroupID, h.MemberID)
		if err != nil {
			return Member{}, storeError(err, notFoundMember, "member")
		}
		return m, nil
	}
	if !mayKnowLinkGroupTokens(p, h.GroupID) {
		return Member{}, notFoundLinkGroup()
	}
	if _, err := s.Store.GetLinkGroup(ctx, h.GroupID, h.LinkGroupID); err != nil {
		return Member{}, storeError(err, notFoundLinkGroup, "link group")
	}
	return Member{}, nil
}

// notFoundHolder is the NOT_FOUND error of a holder of h's kind.
func notFoundHolder(h TokenHolder) func() error {
	if h.LinkGroupID != "" {
		return notFoundLinkGroup
	}
	return notFoundMember
}

// ListAccessTokens lists a member's or a link group's tokens, newest first,
// without secrets or hashes. The holder, the group's admins and the operator
// may.
func (s *Service) ListAccessTokens(ctx context.Context, h TokenHolder, p Page) ([]AccessToken, string, error) {
	caller := auth.FromContext(ctx)
	if _, err := s.holder(ctx, caller, h); err != nil {
		return nil, "", err
	}
	if !mayManageTokens(caller, h) {
		return nil, "", fault.New(fault.PermissionDenied, "PERMISSION_DENIED", "only the holder, the group's admins or the operator may see these tokens")
	}
	if p.After != "" && !ValidTokenID(p.After) {
		var v fault.Violations
		v.Add("page_token", "is not a token from a previous response")
		return nil, "", v.Err()
	}
	rows, err := s.Store.ListAccessTokens(ctx, h, p.After, p.Size+1)
	if err != nil {
		return nil, "", fmt.Errorf("list access tokens: %w", err)
	}
	tokens, next := pageOf(rows, p.Size, func(t AccessToken) string { return t.ID })
	for i := range tokens {
		tokens[i].SecretHash = nil
	}
	return tokens, next, nil
}

// GetAccessToken returns one of a member's or a link group's tokens, as
// ListAccessTokens shows it: without secret or hash. The callers who may
// list the holder's tokens may; to anyone else the token is TOKEN_NOT_FOUND,
// as is one that does not exist, one under another holder and one whose
// holder does not exist.
func (s *Service) GetAccessToken(ctx context.Context, h TokenHolder, id string) (AccessToken, error) {
	// The holder need not be looked up: the store finds a token only while
	// its holder is there (a link group's, only since that link group was
	// made), and a token of another holder is told apart below.
	if !ValidTokenID(id) || !mayManageTokens(auth.FromContext(ctx), h) {
		return AccessToken{}, notFoundToken()
	}
	t, _, err := s.Store.GetAccessToken(ctx, id)
	if err != nil {
		return AccessToken{}, storeError(err, notFoundToken, "access token")
	}
	if t.TokenHolder != h {
		return AccessToken{}, notFoundToken()
	}
	t.SecretHash = nil
	return t, nil
}

// RevokeAccessToken stops a token from working. Callers of Authenticate may
// still accept it for up to AuthCacheTTL. The holder, the group's admins and
// the operator may.
func (s *Service) RevokeAccessToken(ctx context.Context, h TokenHolder, id string) (AccessToken, error) {
	caller := auth.FromContext(ctx)
	if _, err := s.holder(ctx, caller, h); err != nil {
		return AccessToken{}, err
	}
	if !mayManageTokens(caller, h) {
		return AccessToken{}, fault.New(fault.PermissionDenied, "PERMISSION_DENIED", "only the holder, the group's admins or the operator may revoke these tokens")
	}
	revoked := fault.New(fault.FailedPrecondition, "TOKEN_REVOKED", "the access token is already revoked")
	t, _, err := s.Store.GetAccessToken(ctx, id)
	if err != nil {
		return AccessToken{}, storeError(err, notFoundToken, "access token")
	}
	if t.TokenHolder != h {
		return AccessToken{}, notFoundToken()
	}
	if !t.RevokeTime.IsZero() {
		return AccessToken{}, revoked
	}
	t, err = s.Store.RevokeAccessToken(ctx, id, s.now())
	if errors.Is(err, ErrStale) { // revoked meanwhile by another call
		return AccessToken{}, revoked
	}
	if err != nil {
		return AccessToken{}, storeError(err, notFoundToken, "access token")
	}
	t.SecretHash = nil
	return t, nil
}
