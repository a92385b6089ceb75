package directory

import (
	"context"
	"time"
)

// Store keeps the directory. List methods return up to limit rows whose id
// sorts after the given one, in id order.
type Store interface {
	CreateGroup(ctx context.Context, g Group) error
	GetGroup(ctx context.Context, id string) (Group, error)
	ListGroups(ctx context.Context, after string, limit int) ([]Group, error)
	// UpdateGroup replaces g when its stored version is still g.Version, and
	// returns the group as stored with the next version.
	UpdateGroup(ctx context.Context, g Group) (Group, error)

	CreateMember(ctx context.Context, m Member) error
	GetMember(ctx context.Context, groupID, id string) (Member, error)
	ListMembers(ctx context.Context, groupID, after string, limit int, activeOnly bool) ([]Member, error)

	CreateLinkGroup(ctx context.Context, l LinkGroup) error
	ListLinkGroups(ctx context.Context, groupID, after string, limit int) ([]LinkGroup, error)

	CreateAccessToken(ctx context.Context, t AccessToken) error
	// GetAccessToken returns the token and the member holding it.
	GetAccessToken(ctx context.Context, id string) (AccessToken, Member, error)
	// TouchAccessToken records that the token was used.
	TouchAccessToken(ctx context.Context, id string, at time.Time) error
}
