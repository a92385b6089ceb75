// Package auth carries the caller's identity through a request: who is
// calling (a member, another service, the deployment's operator or nobody),
// how a bearer secret is turned into that identity, and the credential a
// service presents when it calls another.
package auth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/ipnmediation/disputes/platform/fault"
)

// Kind says what sort of caller a principal is.
type Kind int

// The kinds of caller.
const (
	Anonymous Kind = iota
	Member
	Service
	Operator
	// Client is someone who raised a concern, signed in with a client
	// session from intake.
	Client
	// LinkGroup is one of a group's link groups, calling with a credential
	// the group's directory issued to it.
	LinkGroup
	// Peer is another deployment of this system, a federation peer,
	// calling with the credential it was given.
	Peer
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case Member:
		return "member"
	case Service:
		return "service"
	case Operator:
		return "operator"
	case Client:
		return "client"
	case LinkGroup:
		return "link group"
	case Peer:
		return "federation peer"
	default:
		return "anonymous"
	}
}

// Principal is the authenticated caller of a request.
type Principal struct {
	Kind Kind
	// Member is the member's resource name, for Member.
	Member string
	// Group is the member's group resource name, for Member.
	Group string
	// GroupAdmin says whether the member administers Group.
	GroupAdmin bool
	// Service is the calling service's name, for Service.
	Service string
	// Concern is the client's concern, groups/{group}/concerns/{concern},
	// for Client; Group is then the concern's group.
	Concern string
	// LinkGroup is groups/{group}/linkGroups/{link_group}, for LinkGroup;
	// Group is then the group it is linked to.
	LinkGroup string
	// Peer is the peer deployment's configured name, for Peer.
	Peer string
}

// IsService reports whether the principal is the named service.
func (p Principal) IsService(name string) bool { return p.Kind == Service && p.Service == name }

// InGroup reports whether the principal is a member of group.
func (p Principal) InGroup(group string) bool { return p.Kind == Member && p.Group == group }

// IsGroupAdmin reports whether the principal administers group.
func (p Principal) IsGroupAdmin(group string) bool { return p.InGroup(group) && p.GroupAdmin }

// String names the caller for logs, without secrets.
func (p Principal) String() string {
	switch p.Kind {
	case Member:
		return p.Member
	case Service:
		return "service:" + p.Service
	case LinkGroup:
		return p.LinkGroup
	case Peer:
		return "peer:" + p.Peer
	default:
		// A client is never named: the concern's name would tie the
		// request to one client in the logs.
		return p.Kind.String()
	}
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller of the request in ctx; Anonymous when none.
func FromContext(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// Authenticator turns a bearer secret into a principal. It returns a
// fault.Unauthenticated error for a secret it does not accept.
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (Principal, error)
}

// ErrUnauthenticated is what every rejected credential looks like to the
// caller: the same message whatever the reason.
func ErrUnauthenticated() *fault.Error {
	return fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "the request's credentials are missing, invalid or expired")
}

// servicePrefix starts every service credential: "service:<name>:<secret>".
const servicePrefix = "service:"

// ServiceToken is the bearer secret a service presents.
func ServiceToken(name, secret string) string { return servicePrefix + name + ":" + secret }

// Services accepts the credentials of the services named in it.
type Services map[string]string

// Authenticate accepts "service:<name>:<secret>" when the secret matches.
func (s Services) Authenticate(_ context.Context, secret string) (Principal, error) {
	rest, ok := strings.CutPrefix(secret, servicePrefix)
	if !ok {
		return Principal{}, ErrUnauthenticated()
	}
	name, given, ok := strings.Cut(rest, ":")
	want, known := s[name]
	if !ok || !known || subtle.ConstantTimeCompare([]byte(given), []byte(want)) != 1 {
		return Principal{}, ErrUnauthenticated()
	}
	return Principal{Kind: Service, Service: name}, nil
}

// ClientSessionPrefix starts every client session token intake issues:
// "ipncs_<id>_<secret>".
const ClientSessionPrefix = "ipncs_"

// Chain tries service credentials first, hands client session tokens to
// Clients (nil: clients are not accepted) and every other secret to Others
// (nil: only services are accepted).
type Chain struct {
	Services Services
	Clients  Authenticator
	Others   Authenticator
}

// Authenticate implements Authenticator.
func (c Chain) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if strings.HasPrefix(secret, servicePrefix) {
		return c.Services.Authenticate(ctx, secret)
	}
	if strings.HasPrefix(secret, ClientSessionPrefix) {
		if c.Clients == nil {
			return Principal{}, ErrUnauthenticated()
		}
		return c.Clients.Authenticate(ctx, secret)
	}
	if c.Others == nil {
		return Principal{}, ErrUnauthenticated()
	}
	return c.Others.Authenticate(ctx, secret)
}

// RequireService returns a PermissionDenied error unless the caller is one of
// the named services.
func RequireService(ctx context.Context, names ...string) error {
	p := FromContext(ctx)
	for _, n := range names {
		if p.IsService(n) {
			return nil
		}
	}
	return fault.New(fault.PermissionDenied, "SERVICE_ONLY", fmt.Sprintf("only the %s service may call this", strings.Join(names, " or ")))
}
