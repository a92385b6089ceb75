package directory

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/platform/signinlink"
)

// SignInLinkTTL is how long a sign-in link works.
const SignInLinkTTL = signinlink.TTL

// DefaultMemberSessionLifetime is how long a member session lasts when the
// group has not said.
const DefaultMemberSessionLifetime = 12 * time.Hour

// sessionPrefix starts every member session token, as tokenPrefix starts
// personal access tokens, so that Authenticate knows where to look.
const sessionPrefix = "ipnms_"

// SignInLink is a link e-mailed to a member; only its secret's hash is kept.
type SignInLink struct {
	SecretHash []byte
	GroupID    string
	MemberID   string
	CreateTime time.Time
	ExpireTime time.Time
	UseTime    time.Time
}

// MemberSession is a member signed in from a sign-in link.
type MemberSession struct {
	ID          string
	GroupID     string
	MemberID    string
	SecretHash  []byte
	CreateTime  time.Time
	ExpireTime  time.Time
	LastUseTime time.Time
	RevokeTime  time.Time
}

// Name is the session's resource name.
func (m MemberSession) Name() string {
	return memberName(m.GroupID, m.MemberID) + "/sessions/" + m.ID
}

// SignInStore keeps sign-in links and member sessions.
type SignInStore interface {
	// MemberByEmail returns the active member of the group whose e-mail
	// address is email, letter case aside; ErrNotFound when there is none.
	MemberByEmail(ctx context.Context, groupID, email string) (Member, error)
	// CreateSignInLink stores l, and deletes links that expired more than a
	// day before l was made.
	CreateSignInLink(ctx context.Context, l SignInLink) error
	// UseSignInLink finds the link whose secret hashes to hash, locks it,
	// and calls use with it (ErrNotFound when there is none). When use
	// returns a session, the link is marked used at session.CreateTime and
	// the session stored, in the one transaction: a link is used once.
	UseSignInLink(ctx context.Context, hash []byte, use func(SignInLink) (MemberSession, error)) (MemberSession, error)
	GetMemberSession(ctx context.Context, id string) (MemberSession, Member, error)
	ListMemberSessions(ctx context.Context, groupID, memberID, after string, limit int) ([]MemberSession, error)
	// RevokeMemberSession ends a session not yet ended; ErrStale when it
	// was.
	RevokeMemberSession(ctx context.Context, id string, at time.Time) (MemberSession, error)
	TouchMemberSession(ctx context.Context, id string, at time.Time) error
}

// Mailer sends a member their sign-in link at once (the notification
// service, over gRPC). The link holds the secret: it goes nowhere else.
type Mailer interface {
	SendSignInLink(ctx context.Context, m SignInMail) error
}

// SignInMail is what the e-mail with a sign-in link says.
type SignInMail struct {
	Member        Member
	Group         Group
	LinkURL       string
	RequestTime   time.Time
	ExpireTime    time.Time
	RequestedFrom string
}

// SignIns asks for and uses sign-in links. It shares the directory's
// Service for groups, members and the clock.
type SignIns struct {
	*Service
	Store  SignInStore
	Mailer Mailer
	// PublicURL is the website's address; links are
	// PublicURL/{group}/sign-in/{secret}.
	PublicURL string
	// PerEmail and PerAddress limit requests per e-mail address and per
	// client network.
	PerEmail, PerAddress *limit.Limiter
	// MinAnswer is the least time RequestSignInLink takes, so that an
	// address that is known and one that is not answer alike.
	MinAnswer time.Duration
	// Send runs the sending of a mail after the answer; go f() in
	// production, so the answer never waits for the mail server.
	Send func(f func())
	// Log records that a link was sent or failed to be sent, never the
	// link.
	Log func(msg string, args ...any)
}

// LinkRequest is a request for a sign-in link.
type LinkRequest struct {
	GroupID string
	Email   string
	// Source is the client's network for the per-address limit; Where is it
	// in words for the e-mail. Both are empty when unknown.
	Source, Where string
}

// RequestSignInLink sends the member of the group with the request's e-mail
// address a link that signs them in once within SignInLinkTTL. The answer
// is the same whether or not such a member exists: the same checks, the
// same limits, a hash and a database round trip on both paths, the mail
// sent after the answer, and the whole padded to MinAnswer.
func (s *SignIns) RequestSignInLink(ctx context.Context, r LinkRequest) error {
	start := time.Now()
	now := s.now()
	email := strings.ToLower(strings.TrimSpace(r.Email))
	if _, err := mail.ParseAddress(email); err != nil || email == "" {
		var v fault.Violations
		v.Add("email", "is not an e-mail address")
		return v.Err()
	}
	if !ValidID(r.GroupID) {
		return notFoundGroup()
	}
	if err := signinlink.Admit(ctx, now, signinlink.Count{Limiter: s.PerAddress, Key: r.Source},
		signinlink.Count{Limiter: s.PerEmail, Key: r.GroupID + "/" + email}); err != nil {
		return err
	}
	secret, hash := signinlink.NewSecret()
	err := s.sendLink(ctx, r, email, secret, hash, now)
	signinlink.PadAnswer(ctx, start, s.MinAnswer)
	return err
}

// sendLink stores a link for the member with the address and has it sent;
// for an address no active member has, it does nothing of consequence and
// says nothing.
func (s *SignIns) sendLink(ctx context.Context, r LinkRequest, email, secret string, hash []byte, now time.Time) error {
	m, err := s.Store.MemberByEmail(ctx, r.GroupID, email)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up member by e-mail: %w", err)
	}
	g, err := s.Service.Store.GetGroup(ctx, r.GroupID)
	if err != nil {
		return storeError(err, notFoundGroup, "group")
	}
	l := SignInLink{SecretHash: hash, GroupID: m.GroupID, MemberID: m.ID, CreateTime: now, ExpireTime: now.Add(SignInLinkTTL)}
	if err := s.Store.CreateSignInLink(ctx, l); err != nil {
		return fmt.Errorf("store sign-in link: %w", err)
	}
	msg := SignInMail{Member: m, Group: g, RequestTime: now, ExpireTime: l.ExpireTime, RequestedFrom: r.Where,
		LinkURL: strings.TrimRight(s.PublicURL, "/") + "/" + g.ID + "/sign-in/" + secret}
	s.Send(func() {
		// The request's context ends with the answer; the mail outlives it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := s.Mailer.SendSignInLink(ctx, msg); err != nil {
			s.Log("sign-in link not sent; the member can ask again", "member", memberName(m.GroupID, m.ID), "error", err)
			return
		}
		s.Log("sign-in link sent", "member", memberName(m.GroupID, m.ID))
	})
	return nil
}

// IssuedSession is a new member session with its token, shown once.
type IssuedSession struct {
	MemberSession
	Token string
}

// CreateMemberSession uses a sign-in link: once, within its 15 minutes, by
// an active member. An unknown secret answers as an expired link does: both
// mean "ask for a new one", and telling them apart would only help guessing.
// A used link says so, which tells only whoever holds the secret.
func (s *SignIns) CreateMemberSession(ctx context.Context, secret string) (IssuedSession, error) {
	hash := signinlink.Hash(secret)
	now := s.now()
	id := strings.ToLower(tokenEncoding.EncodeToString(randomBytes(10)))
	tokenSecret := strings.ToLower(tokenEncoding.EncodeToString(randomBytes(32)))
	tokenHash := sha256.Sum256([]byte(tokenSecret))
	session, err := s.Store.UseSignInLink(ctx, hash, func(l SignInLink) (MemberSession, error) {
		switch {
		case !l.UseTime.IsZero():
			return MemberSession{}, signinlink.ErrUsed()
		case !now.Before(l.ExpireTime):
			return MemberSession{}, signinlink.ErrExpired()
		}
		m, err := s.Service.Store.GetMember(ctx, l.GroupID, l.MemberID)
		if err != nil {
			return MemberSession{}, fmt.Errorf("link's member: %w", err)
		}
		if !m.Active {
			return MemberSession{}, signinlink.ErrExpired()
		}
		g, err := s.Service.Store.GetGroup(ctx, l.GroupID)
		if err != nil {
			return MemberSession{}, fmt.Errorf("link's group: %w", err)
		}
		lifetime := g.Settings.WithDefaults().MemberSessionLifetime
		return MemberSession{ID: id, GroupID: l.GroupID, MemberID: l.MemberID, SecretHash: tokenHash[:],
			CreateTime: now, ExpireTime: now.Add(lifetime)}, nil
	})
	if errors.Is(err, ErrNotFound) {
		return IssuedSession{}, signinlink.ErrExpired()
	}
	if err != nil {
		return IssuedSession{}, err
	}
	session.SecretHash = nil
	return IssuedSession{MemberSession: session, Token: sessionPrefix + id + "_" + tokenSecret}, nil
}

// authenticateSession turns a member session token, without its prefix,
// into the member, as Authenticate does a personal access token.
func (s *Service) authenticateSession(ctx context.Context, rest string) (Authentication, error) {
	if s.Sessions == nil {
		return Authentication{}, auth.ErrUnauthenticated()
	}
	id, given, ok := strings.Cut(rest, "_")
	if !ok || !ValidTokenID(id) {
		return Authentication{}, auth.ErrUnauthenticated()
	}
	t, m, err := s.Sessions.GetMemberSession(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Authentication{}, auth.ErrUnauthenticated()
	}
	if err != nil {
		return Authentication{}, fmt.Errorf("look up member session: %w", err)
	}
	hash := sha256.Sum256([]byte(given))
	now := s.now()
	if subtle.ConstantTimeCompare(hash[:], t.SecretHash) != 1 || !t.RevokeTime.IsZero() || !now.Before(t.ExpireTime) || !m.Active {
		return Authentication{}, auth.ErrUnauthenticated()
	}
	if err := s.Sessions.TouchMemberSession(ctx, id, now); err != nil {
		return Authentication{}, fmt.Errorf("record session use: %w", err)
	}
	return Authentication{Member: memberName(m.GroupID, m.ID), Group: groupName(m.GroupID), GroupAdmin: m.GroupAdmin}, nil
}

func notFoundSession() error {
	return fault.New(fault.NotFound, "SESSION_NOT_FOUND", "no such session")
}

// maySeeSessions reports whether the caller may list and end a member's
// sessions: the member, the group's admins and the operator.
func maySeeSessions(p auth.Principal, groupID, memberID string) bool {
	return mayAdminister(p, groupID) || (p.Kind == auth.Member && p.Member == memberName(groupID, memberID))
}

// ListMemberSessions lists a member's sessions, newest first, without
// tokens or hashes. The member, the group's admins and the operator may; to
// anyone else the member has none to show (SESSION_NOT_FOUND is not used
// for a list: PERMISSION_DENIED).
func (s *SignIns) ListMemberSessions(ctx context.Context, groupID, memberID string, p Page) ([]MemberSession, string, error) {
	if _, err := s.Service.Store.GetMember(ctx, groupID, memberID); err != nil {
		return nil, "", storeError(err, notFoundMember, "member")
	}
	if !maySeeSessions(auth.FromContext(ctx), groupID, memberID) {
		return nil, "", fault.New(fault.PermissionDenied, "PERMISSION_DENIED", "only the member, the group's admins or the operator may see these sessions")
	}
	if p.After != "" && !ValidTokenID(p.After) {
		var v fault.Violations
		v.Add("page_token", "is not a token from a previous response")
		return nil, "", v.Err()
	}
	rows, err := s.Store.ListMemberSessions(ctx, groupID, memberID, p.After, p.Size+1)
	if err != nil {
		return nil, "", fmt.Errorf("list member sessions: %w", err)
	}
	sessions, next := pageOf(rows, p.Size, func(m MemberSession) string { return m.ID })
	return sessions, next, nil
}

// GetMemberSession returns one of a member's sessions, without its token,
// as ListMemberSessions lists it. The member, the group's admins and the
// operator may; to anyone else it is SESSION_NOT_FOUND, as for a session
// that does not exist.
func (s *SignIns) GetMemberSession(ctx context.Context, groupID, memberID, id string) (MemberSession, error) {
	if !ValidTokenID(id) || !maySeeSessions(auth.FromContext(ctx), groupID, memberID) {
		return MemberSession{}, notFoundSession()
	}
	t, _, err := s.Store.GetMemberSession(ctx, id)
	if err != nil {
		return MemberSession{}, storeError(err, notFoundSession, "session")
	}
	if t.GroupID != groupID || t.MemberID != memberID {
		return MemberSession{}, notFoundSession()
	}
	return t, nil
}

// RevokeMemberSession ends a member's session. Callers of Authenticate may
// still accept it for up to AuthCacheTTL. The member, the group's admins and
// the operator may; to anyone else it is SESSION_NOT_FOUND.
func (s *SignIns) RevokeMemberSession(ctx context.Context, groupID, memberID, id string) (MemberSession, error) {
	t, err := s.GetMemberSession(ctx, groupID, memberID, id)
	if err != nil {
		return MemberSession{}, err
	}
	ended := fault.New(fault.FailedPrecondition, "SESSION_REVOKED", "the session has already ended")
	if !t.RevokeTime.IsZero() {
		return MemberSession{}, ended
	}
	t, err = s.Store.RevokeMemberSession(ctx, id, s.now())
	if errors.Is(err, ErrStale) {
		return MemberSession{}, ended
	}
	if err != nil {
		return MemberSession{}, storeError(err, notFoundSession, "session")
	}
	return t, nil
}
