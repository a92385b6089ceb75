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

func notFoundToken() error {
	return fault.New(fault.NotFound, "TOKEN_NOT_FOUND", "no such access token")
}

// mayManageTokens reports whether the caller may list and revoke a member's
// tokens: the member, the group's admins and the operator.
func mayManageTokens(p auth.Principal, groupID, memberID string) bool {
	return mayAdminister(p, groupID) || (p.Kind == auth.Member && p.Member == memberName(groupID, memberID))
}

// ListAccessTokens lists a member's tokens, newest first, without secrets or
// hashes. The member, the group's admins and the operator may.
func (s *Service) ListAccessTokens(ctx context.Context, groupID, memberID string, p Page) ([]AccessToken, string, error) {
	if _, err := s.Store.GetMember(ctx, groupID, memberID); err != nil {
		return nil, "", storeError(err, notFoundMember, "member")
	}
	if !mayManageTokens(auth.FromContext(ctx), groupID, memberID) {
		return nil, "", fault.New(fault.PermissionDenied, "PERMISSION_DENIED", "only the member, the group's admins or the operator may see a member's tokens")
	}
	if p.After != "" && !ValidTokenID(p.After) {
		var v fault.Violations
		v.Add("page_token", "is not a token from a previous response")
		return nil, "", v.Err()
	}
	rows, err := s.Store.ListAccessTokens(ctx, groupID, memberID, p.After, p.Size+1)
	if err != nil {
		return nil, "", fmt.Errorf("list access tokens: %w", err)
	}
	tokens, next := pageOf(rows, p.Size, func(t AccessToken) string { return t.ID })
	for i := range tokens {
		tokens[i].SecretHash = nil
	}
	return tokens, next, nil
}

// RevokeAccessToken stops a token from working. Callers of Authenticate may
// still accept it for up to AuthCacheTTL. The member, the group's admins and
// the operator may.
func (s *Service) RevokeAccessToken(ctx context.Context, groupID, memberID, id string) (AccessToken, error) {
	if _, err := s.Store.GetMember(ctx, groupID, memberID); err != nil {
		return AccessToken{}, storeError(err, notFoundMember, "member")
	}
	if !mayManageTokens(auth.FromContext(ctx), groupID, memberID) {
		return AccessToken{}, fault.New(fault.PermissionDenied, "PERMISSION_DENIED", "only the member, the group's admins or the operator may revoke a member's tokens")
	}
	revoked := fault.New(fault.FailedPrecondition, "TOKEN_REVOKED", "the access token is already revoked")
	t, _, err := s.Store.GetAccessToken(ctx, id)
	if err != nil {
		return AccessToken{}, storeError(err, notFoundToken, "access token")
	}
	if t.GroupID != groupID || t.MemberID != memberID {
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
