// Package federation is the receiving end of link group notices between
// deployments of this system: which peer deployments may deliver notices,
// how they prove it, which of this deployment's groups a notice is for, and
// who may read the notices a group received. It knows neither gRPC nor
// PostgreSQL.
package federation

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
)

// TokenPrefix starts the bearer credential a peer presents:
// "federation:<secret>". The secret alone names the peer, so the two
// deployments never need to agree on what they call each other.
const TokenPrefix = "federation:"

// Token is the bearer credential presented with secret.
func Token(secret string) string { return TokenPrefix + secret }

// Peer is another deployment of this system.
type Peer struct {
	// Name is what this deployment's operator calls it; logs and incoming
	// notices show it.
	Name string
	// Secret is shared with that deployment's operator, one per peer, and
	// proves a call comes from it (and ours to it).
	Secret string
	// Endpoint is its notification service's gRPC address, host:port, as
	// link group records in the directory give it; empty for a peer that
	// only sends to us.
	Endpoint string
}

// Peers are the configured peer deployments.
type Peers []Peer

// ParsePeers reads FEDERATION_PEERS: "name=secret[@host:port],...".
// Secrets must differ, since a secret names its peer.
func ParsePeers(s string) (Peers, error) {
	var out Peers
	names, secrets := map[string]bool{}, map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, rest, ok := strings.Cut(part, "=")
		if !ok || name == "" || rest == "" {
			return nil, fmt.Errorf("federation peer %q is not of the form name=secret[@host:port]", name)
		}
		p := Peer{Name: name, Secret: rest}
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			p.Secret, p.Endpoint = rest[:i], rest[i+1:]
			if _, _, err := net.SplitHostPort(p.Endpoint); err != nil {
				return nil, fmt.Errorf("federation peer %s: endpoint: %w", name, err)
			}
		}
		switch {
		case p.Secret == "":
			return nil, fmt.Errorf("federation peer %s has no secret", name)
		case len(p.Secret) < 16:
			return nil, fmt.Errorf("federation peer %s: the secret must be at least 16 characters", name)
		case names[name]:
			return nil, fmt.Errorf("federation peer %s is listed twice", name)
		case secrets[p.Secret]:
			return nil, fmt.Errorf("federation peer %s shares its secret with another peer", name)
		}
		names[name], secrets[p.Secret] = true, true
		out = append(out, p)
	}
	return out, nil
}

// ByEndpoint returns the peer at endpoint.
func (ps Peers) ByEndpoint(endpoint string) (Peer, bool) {
	for _, p := range ps {
		if p.Endpoint != "" && p.Endpoint == endpoint {
			return p, true
		}
	}
	return Peer{}, false
}

// bySecret returns the peer whose secret is given, comparing every secret
// in constant time.
func (ps Peers) bySecret(secret string) (Peer, bool) {
	var found Peer
	ok := false
	for _, p := range ps {
		if subtle.ConstantTimeCompare([]byte(secret), []byte(p.Secret)) == 1 {
			found, ok = p, true
		}
	}
	return found, ok
}

// Authenticator accepts peers' "federation:<secret>" credentials and hands
// every other one to Next.
type Authenticator struct {
	Peers Peers
	Next  auth.Authenticator
}

// Authenticate implements auth.Authenticator.
func (a Authenticator) Authenticate(ctx context.Context, secret string) (auth.Principal, error) {
	rest, ok := strings.CutPrefix(secret, TokenPrefix)
	if !ok {
		return a.Next.Authenticate(ctx, secret)
	}
	p, ok := a.Peers.bySecret(rest)
	if !ok {
		return auth.Principal{}, auth.ErrUnauthenticated()
	}
	return auth.Principal{Kind: auth.Peer, Peer: p.Name}, nil
}

// peerOf returns the calling peer's name; ok is false for anyone else.
func peerOf(p auth.Principal) (string, bool) {
	return p.Peer, p.Kind == auth.Peer
}

// Notice is what a peer's group tells one of our groups (see
// dispatch.Notice for the sending side).
type Notice struct {
	// ID is the sender's id for it.
	ID string
	// FromGroup and FromDisplayName name the sending group in the sender's
	// deployment.
	FromGroup, FromDisplayName string
	// ToGroup is the receiving group, "groups/{group}", when the sender
	// knows it.
	ToGroup  string
	Kind     dispatch.NoticeKind
	Case     string
	SentTime time.Time
}

// Incoming is a notice as one receiving group keeps it.
type Incoming struct {
	// ID is our id for it, a UUID.
	ID string
	// Group is the receiving group.
	Group string
	// Peer is the sending deployment, by our name for it.
	Peer        string
	Notice      Notice
	ReceiveTime time.Time
}

// Name is the notice's resource name.
func (n Incoming) Name() string { return n.Group + "/incomingNotices/" + n.ID }

// Cursor is where a page of incoming notices starts: after the one with
// this receive time and id, newest first.
type Cursor struct {
	ReceiveTime time.Time
	ID          string
}

// Store keeps incoming notices.
type Store interface {
	// Record stores n for the group unless the peer delivered a notice with
	// its id to that group before; it returns what is stored.
	Record(ctx context.Context, n Incoming) (Incoming, error)
	// List returns up to limit of the group's notices, newest first, after
	// the cursor when given.
	List(ctx context.Context, group string, after *Cursor, limit int) ([]Incoming, error)
	// Get returns the group's notice id, or dispatch.ErrNotFound.
	Get(ctx context.Context, group, id string) (Incoming, error)
}

// Directory answers which of this deployment's groups link to a peer.
type Directory interface {
	// Groups returns the resource names of every group.
	Groups(ctx context.Context) ([]string, error)
	// LinkGroups returns every link group of the group.
	LinkGroups(ctx context.Context, group string) ([]dispatch.LinkGroup, error)
}

// Announcer tells a receiving group that a notice came in.
type Announcer interface {
	// Announce tells n's group of it. It may be called again for the same
	// notice (the peer repeats one whose answer it lost) and must then
	// tell nobody twice.
	Announce(ctx context.Context, n Incoming) error
}

// Inbox receives peers' notices and shows them to the receiving groups.
type Inbox struct {
	Peers     Peers
	Store     Store
	Directory Directory
	// Announcer tells each receiving group; nobody is told when nil.
	Announcer Announcer
	// NewID makes an incoming notice's id; Now is the clock.
	NewID func() string
	Now   func() time.Time
}

// Deliver records n for each of this deployment's groups it is for, tells
// each group (see Announcer) and returns the first. A group it is for links
// to the calling peer: one of its link groups is external with the peer's
// endpoint. When n names its receiving group, only that group is
// considered. The peer hears of success only once every group has been
// told, so a notice recorded just before a crash is announced when the
// peer tries again.
func (b *Inbox) Deliver(ctx context.Context, n Notice) (Incoming, error) {
	name, ok := peerOf(auth.FromContext(ctx))
	if !ok {
		return Incoming{}, fault.New(fault.PermissionDenied, "FEDERATION_PEER_ONLY", "only a peer deployment may deliver notices")
	}
	var peer Peer
	for _, p := range b.Peers {
		if p.Name == name {
			peer = p
		}
	}
	groups, err := b.receivers(ctx, peer, n.ToGroup)
	if err != nil {
		return Incoming{}, err
	}
	if len(groups) == 0 {
		return Incoming{}, &fault.Error{Kind: fault.FailedPrecondition, Reason: "NO_RECEIVING_GROUP",
			Message:  "no group of this deployment has the sending deployment as a link group",
			Metadata: map[string]string{"peer": peer.Name}}
	}
	var first Incoming
	for i, g := range groups {
		got, err := b.Store.Record(ctx, Incoming{ID: b.NewID(), Group: g, Peer: peer.Name, Notice: n, ReceiveTime: b.now()})
		if err != nil {
			return Incoming{}, fmt.Errorf("record notice: %w", err)
		}
		if b.Announcer != nil {
			if err := b.Announcer.Announce(ctx, got); err != nil {
				return Incoming{}, fmt.Errorf("announce notice %s: %w", got.Name(), err)
			}
		}
		if i == 0 {
			first = got
		}
	}
	return first, nil
}

// receivers returns the groups that link to peer, in name order.
func (b *Inbox) receivers(ctx context.Context, peer Peer, to string) ([]string, error) {
	candidates := []string{to}
	if to == "" {
		all, err := b.Directory.Groups(ctx)
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		candidates = all
	}
	var out []string
	for _, g := range candidates {
		links, err := b.Directory.LinkGroups(ctx, g)
		if errors.Is(err, dispatch.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("link groups of %s: %w", g, err)
		}
		for _, l := range links {
			if peer.Endpoint != "" && l.Endpoint == peer.Endpoint {
				out = append(out, g)
				break
			}
		}
	}
	if to != "" && len(out) == 0 {
		return nil, &fault.Error{Kind: fault.NotFound, Reason: "GROUP_NOT_FOUND", Message: "no group of that name links to the sending deployment",
			Metadata: map[string]string{"group": to}}
	}
	sort.Strings(out)
	return out, nil
}

// List returns a page of the group's incoming notices, newest first, and
// the next page's cursor (nil on the last). Group admins and the operator
// may; other members of the group are refused; anyone else is told the
// group does not exist.
func (b *Inbox) List(ctx context.Context, group string, size int, after *Cursor) ([]Incoming, *Cursor, error) {
	if err := mayRead(auth.FromContext(ctx), group); err != nil {
		return nil, nil, err
	}
	rows, err := b.Store.List(ctx, group, after, size+1)
	if err != nil {
		return nil, nil, fmt.Errorf("list incoming notices: %w", err)
	}
	if len(rows) <= size {
		return rows, nil, nil
	}
	rows = rows[:size]
	last := rows[len(rows)-1]
	return rows, &Cursor{ReceiveTime: last.ReceiveTime, ID: last.ID}, nil
}

// mayRead lets the group's admins and the operator read its incoming
// notices; other members of the group are refused, and anyone else is told
// the group does not exist.
func mayRead(p auth.Principal, group string) error {
	switch {
	case p.Kind == auth.Operator, p.IsGroupAdmin(group):
		return nil
	case p.InGroup(group):
		return fault.New(fault.PermissionDenied, "GROUP_ADMIN_ONLY", "only the group's admins may read its incoming notices")
	case p.Kind == auth.Member:
		return &fault.Error{Kind: fault.NotFound, Reason: "GROUP_NOT_FOUND", Message: "the group does not exist",
			Metadata: map[string]string{"group": group}}
	}
	return fault.New(fault.PermissionDenied, "GROUP_ADMIN_ONLY", "only the group's admins and the operator may read incoming notices")
}

// Get returns the group's incoming notice id, as List shows it, to those
// who may list the group's notices; to anyone else, and for a notice the
// group does not have, it is INCOMING_NOTICE_NOT_FOUND.
func (b *Inbox) Get(ctx context.Context, group, id string) (Incoming, error) {
	notFound := &fault.Error{Kind: fault.NotFound, Reason: "INCOMING_NOTICE_NOT_FOUND", Message: "the notice does not exist",
		Metadata: map[string]string{"incoming_notice": group + "/incomingNotices/" + id}}
	if mayRead(auth.FromContext(ctx), group) != nil {
		return Incoming{}, notFound
	}
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		return Incoming{}, notFound
	}
	n, err := b.Store.Get(ctx, group, id)
	switch {
	case errors.Is(err, dispatch.ErrNotFound):
		return Incoming{}, notFound
	case err != nil:
		return Incoming{}, fmt.Errorf("get incoming notice: %w", err)
	}
	return n, nil
}

func (b *Inbox) now() time.Time {
	if b.Now != nil {
		return b.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

// Deliveries stores planned deliveries.
type Deliveries interface {
	// Add inserts them, skipping any whose (event, recipient) pair already
	// has one.
	Add(ctx context.Context, ds []dispatch.Delivery) (int, error)
}

// AdminAnnouncer tells a receiving group's admins of a notice by e-mail,
// through the same deliveries, retries and log as every other message. The
// notice is the event: its id keys the deliveries, so announcing it again
// adds none.
type AdminAnnouncer struct {
	Planner    *dispatch.Planner
	Deliveries Deliveries
}

// Announce implements Announcer.
func (a AdminAnnouncer) Announce(ctx context.Context, n Incoming) error {
	ds, err := a.Planner.Plan(ctx, dispatch.Event{
		ID:     n.ID,
		Type:   dispatch.EventTypeIncomingNotice,
		Action: string(n.Notice.Kind),
		Group:  n.Group,
		Facts:  dispatch.Facts{dispatch.FactIncomingNotice: n.Name(), dispatch.FactFromGroupName: n.Notice.FromDisplayName},
	})
	if err != nil {
		return err
	}
	_, err = a.Deliveries.Add(ctx, ds)
	return err
}
