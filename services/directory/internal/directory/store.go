package directory

import (
	"context"
	"time"
)

// Store keeps the directory. List methods return up to limit rows whose id
// sorts after the given one, in id order, unless they say otherwise. Methods
// that change a member or a statement also record the matching event in the
// same transaction.
type Store interface {
	CreateGroup(ctx context.Context, g Group) error
	GetGroup(ctx context.Context, id string) (Group, error)
	ListGroups(ctx context.Context, after string, limit int) ([]Group, error)
	// UpdateGroup replaces g when its stored version is still g.Version, and
	// returns the group as stored with the next version.
	UpdateGroup(ctx context.Context, g Group) (Group, error)

	// CreateMember adds m and records MemberJoined.
	CreateMember(ctx context.Context, m Member) error
	GetMember(ctx context.Context, groupID, id string) (Member, error)
	ListMembers(ctx context.Context, groupID, after string, limit int, activeOnly bool) ([]Member, error)
	// UpdateMember replaces m when its stored version is still m.Version
	// (ErrStale otherwise), records MemberUpdated naming changed, and returns
	// the member as stored with the next version. With keepAdmin it fails
	// with ErrLastAdmin unless another active admin of the group remains.
	// at is when the change happened.
	UpdateMember(ctx context.Context, m Member, changed []string, keepAdmin bool, at time.Time) (Member, error)
	// DeactivateMember marks the member inactive since leaveTime under the
	// same version and admin rules as UpdateMember, and records MemberLeft.
	DeactivateMember(ctx context.Context, m Member, leaveTime time.Time, keepAdmin bool) (Member, error)

	CreateLinkGroup(ctx context.Context, l LinkGroup) error
	GetLinkGroup(ctx context.Context, groupID, id string) (LinkGroup, error)
	ListLinkGroups(ctx context.Context, groupID, after string, limit int) ([]LinkGroup, error)
	// DeleteLinkGroup removes a link and revokes, as of at, the link
	// group's tokens not yet revoked, in one transaction; ErrNotFound when
	// there is no such link.
	DeleteLinkGroup(ctx context.Context, groupID, id string, at time.Time) error

	// CreateStatement stores a draft under the group's next version number
	// and returns it with that number.
	CreateStatement(ctx context.Context, st Statement) (Statement, error)
	GetStatement(ctx context.Context, groupID string, version int) (Statement, error)
	// GetPublishedStatement returns the version in force; ErrNotFound when
	// none is.
	GetPublishedStatement(ctx context.Context, groupID string) (Statement, error)
	// ListStatements returns up to limit versions below before (all when 0),
	// newest first, drafts only withDrafts.
	ListStatements(ctx context.Context, groupID string, before, limit int, withDrafts bool) ([]Statement, error)
	// PublishStatement makes a draft the version in force and supersedes the
	// one before it, in one transaction, and records StatementPublished. It
	// returns the published statement and the superseded version (0: none);
	// ErrNotDraft when the version is no longer a draft.
	PublishStatement(ctx context.Context, groupID string, version int, at time.Time) (Statement, int, error)

	// CreateAccessToken stores a token; ErrNotFound when its holder does
	// not exist.
	CreateAccessToken(ctx context.Context, t AccessToken) error
	// GetAccessToken returns the token and, for a member's token, the
	// member holding it (zero for a link group's). A link group's token
	// is ErrNotFound once its link group is removed, and stays so when a
	// link group of the same id is made again later.
	GetAccessToken(ctx context.Context, id string) (AccessToken, Member, error)
	// ListAccessTokens returns up to limit of a holder's tokens created
	// before the token after (from the newest when empty), newest first;
	// for a link group, only those issued since it was made.
	ListAccessTokens(ctx context.Context, h TokenHolder, after string, limit int) ([]AccessToken, error)
	// RevokeAccessToken records the revocation of a token not yet revoked
	// (ErrStale otherwise) and returns the token.
	RevokeAccessToken(ctx context.Context, id string, at time.Time) (AccessToken, error)
	// TouchAccessToken records that the token was used.
	TouchAccessToken(ctx context.Context, id string, at time.Time) error
}
