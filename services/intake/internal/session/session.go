// Package session lets clients back to their case without an account: the
// case reference and access code they were given are exchanged for a
// short-lived client session, whose token the other services check through
// AuthenticateClient. The access code and the session's secret are
// confidential: they never appear in errors, logs or events, and only keyed
// (code) or one-way (secret) hashes of them are stored.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
)

// Defaults for the Service's settings.
const (
	// DefaultTTL is how long a session lasts: long enough to read the case
	// and write a message, short enough that a forgotten browser tab does not
	// keep the case open.
	DefaultTTL = time.Hour
	// DefaultMaxFailures refused attempts on one reference within
	// DefaultFailureWindow lock that reference until the oldest of them
	// ages out. The codes' 128 bits make guessing hopeless anyway; the limit
	// only stops a script from trying for long.
	DefaultMaxFailures = 10
	// DefaultFailureWindow is the span over which refused attempts count.
	DefaultFailureWindow = 15 * time.Minute
)

// AuthCacheTTL is how long callers may reuse an answer of Authenticate; a
// session ended by ReissueAccessCode stops working everywhere within it.
const AuthCacheTTL = 15 * time.Second

const (
	// idBytes gives 80 random bits: ids need only be unique, the secret
	// carries the protection.
	idBytes = 10
	// secretBytes gives 256 random bits, which makes a plain SHA-256 of the
	// secret as safe to store as a slow hash.
	secretBytes = 32
)

// tokenEncoding is lowercase-friendly base32 without padding: its alphabet
// has no "_", the token's separator.
var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// tokenPattern is the form of every token Create issues.
var tokenPattern = regexp.MustCompile(`^` + auth.ClientSessionPrefix + `([a-z2-7]{16})_([a-z2-7]{52})$`)

// ErrNotFound is what a Store returns for a session or concern it does not
// hold.
var ErrNotFound = errors.New("not found")

// Credential is what recognises the access code of one concern.
type Credential struct {
	// ConcernID is the concern's UUID.
	ConcernID string
	// Group is the concern's group, groups/{group}.
	Group string
	// AccessCodeHash is the access code's hash: keyed (accesscode.Keys),
	// or argon2id for a code issued before keyed hashing.
	AccessCodeHash string
}

// Rehash replaces the access code hash of the session's concern, when it is
// still Old, by New: a code that opened the case under an argon2id hash or
// an older key is hashed again under the current one. The zero Rehash
// changes nothing.
type Rehash struct {
	Old, New string
}

// Session is a client session as it is stored.
type Session struct {
	// ID is the public part of the token.
	ID string
	// ConcernID is the UUID of the concern the session opens.
	ConcernID string
	// Group is the concern's group, groups/{group}.
	Group string
	// SecretSHA256 is the SHA-256 of the token's secret part.
	SecretSHA256 []byte
	CreateTime   time.Time
	ExpireTime   time.Time
	// RevokeTime is when the session was ended early; zero while it is not.
	RevokeTime time.Time
}

// Concern is the resource name of the session's concern,
// groups/{group}/concerns/{concern}.
func (s Session) Concern() string { return s.Group + "/concerns/" + s.ConcernID }

// Store keeps sessions and what is needed to issue them.
type Store interface {
	// Credentials returns the concerns whose reference is reference (at most
	// one per group) with their access codes' hashes, also after the concern
	// was handed over to casework; none when there is no such reference.
	Credentials(ctx context.Context, reference string) ([]Credential, error)
	// LegacyHashesLeft reports whether any concern's access code hash is
	// still an argon2id one. Nothing writes them any more, so once the
	// answer is false it stays false.
	LegacyHashesLeft(ctx context.Context) (bool, error)
	// CreateSession stores s (Group is ignored), forgets the refused
	// attempts on its concern's reference and applies rehash, all or
	// nothing.
	CreateSession(ctx context.Context, s Session, rehash Rehash) error
	// GetSession returns the session with the given id, with its concern's
	// group, or ErrNotFound.
	GetSession(ctx context.Context, id string) (Session, error)
	// EndSession ends the session with the given id at the given time,
	// unless it has ended already (then it keeps its first end).
	EndSession(ctx context.Context, id string, at time.Time) error
	// ReplaceAccessCode gives the concern id of group (groups/{g}) a new
	// access code hash, ends every session of that concern at the given
	// time and forgets the refused attempts on its reference, all or
	// nothing. It returns the concern's reference, or ErrNotFound.
	ReplaceAccessCode(ctx context.Context, group, id, hash string, at time.Time) (reference string, err error)
	// Failures returns the times of the refused attempts on reference after
	// since, oldest first.
	Failures(ctx context.Context, reference string, since time.Time) ([]time.Time, error)
	// RecordFailure records a refused attempt on reference at the given
	// time, and deletes the attempts on any reference at or before
	// forgetBefore.
	RecordFailure(ctx context.Context, reference string, at, forgetBefore time.Time) error
}

// Service issues and checks client sessions and reissues access codes.
type Service struct {
	Store Store
	// TTL is the lifetime of a new session; DefaultTTL when zero.
	TTL time.Duration
	// MaxFailures and FailureWindow set the failed-attempt limit per
	// reference; DefaultMaxFailures and DefaultFailureWindow when zero.
	MaxFailures   int
	FailureWindow time.Duration
	// AddressLimit bounds the attempts, right or wrong, per client network;
	// none when nil.
	AddressLimit *limit.Limiter
	// Hasher hashes and checks access codes. Required.
	Hasher accesscode.Hasher
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// LockedOut, when set, is told each time a wrong code locks a
	// reference (metrics).
	LockedOut func()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Service) ttl() time.Duration {
	if s.TTL > 0 {
		return s.TTL
	}
	return DefaultTTL
}

func (s *Service) limit() (int, time.Duration) {
	n, window := s.MaxFailures, s.FailureWindow
	if n <= 0 {
		n = DefaultMaxFailures
	}
	if window <= 0 {
		window = DefaultFailureWindow
	}
	return n, window
}

// Issued is a new session with its token, which exists only here.
type Issued struct {
	Token string
	// Concern is groups/{group}/concerns/{concern}.
	Concern    string
	ExpireTime time.Time
}

// CheckCreate returns an InvalidArgument error naming each missing or
// superfluous field of a CreateClientSession request, or nil: a link's
// secret alone, or the reference and the access code. Anything else that
// is wrong with them is a wrong code or a link that does not work,
// reported by CreateFrom or Links.CreateFromLink.
func CheckCreate(reference, accessCode, linkSecret string) error {
	var v fault.Violations
	if strings.TrimSpace(linkSecret) != "" {
		if reference != "" || accessCode != "" {
			v.Add("link_secret", "is given instead of the reference and access code, not with them")
		}
		return v.Err()
	}
	if strings.TrimSpace(reference) == "" {
		v.Add("reference", "is required")
	}
	if strings.TrimSpace(accessCode) == "" {
		v.Add("access_code", "is required")
	}
	return v.Err()
}

// errWrongCode is every refusal of Create, so that a caller cannot tell an
// unknown reference from a wrong code.
func errWrongCode() error {
	return fault.New(fault.Unauthenticated, "INVALID_ACCESS_CODE",
		"the reference and access code do not match; check both and try again")
}

// errTooManyAttempts refuses every code, right or wrong, for a reference
// that has had too many wrong ones lately. It looks the same for references
// that exist and for those that do not.
func errTooManyAttempts(retry, now time.Time) error {
	return limit.Exhausted("TOO_MANY_ATTEMPTS", "too many wrong access codes were given with this reference", retry, now)
}

// Create exchanges a case reference and its access code for a new session.
// Anyone may call it. Both may be typed loosely (lowercase, spaces, missing
// dashes). Every refusal is the same INVALID_ACCESS_CODE, and for a
// well-formed reference and code takes the same hashing work whether or not
// the reference exists, and whatever kind of hash its concern has
// (accesscode.Check). A code that opens the case under an argon2id hash or
// an older key is hashed again under the current key.
func (s *Service) Create(ctx context.Context, reference, accessCode string) (Issued, error) {
	return s.CreateFrom(ctx, "", reference, accessCode)
}

// CreateFrom is Create for a client on the network source
// (clientaddr.Network; empty when unknown, and then not limited): past
// the per-address limit every attempt, right code included, is refused with
// RESOURCE_EXHAUSTED TOO_MANY_ATTEMPTS, whatever the reference. Malformed
// attempts count too: they are what a script sends.
func (s *Service) CreateFrom(ctx context.Context, source, reference, accessCode string) (Issued, error) {
	if err := CheckCreate(reference, accessCode, ""); err != nil {
		return Issued{}, err
	}
	now := s.now()
	if allowed, retry, err := s.AddressLimit.Take(ctx, source, now); err != nil {
		return Issued{}, err
	} else if !allowed {
		return Issued{}, limit.Exhausted("TOO_MANY_ATTEMPTS",
			"too many sign-in attempts came from your network lately", retry, now)
	}
	ref, refErr := accesscode.ParseReference(reference)
	_, codeErr := accesscode.ParseAccessCode(accessCode)
	if refErr != nil || codeErr != nil {
		// No reference or code of that form was ever issued; the caller
		// learns nothing it did not know.
		return Issued{}, errWrongCode()
	}

	maxFailures, window := s.limit()
	failures, err := s.Store.Failures(ctx, ref, now.Add(-window))
	if err != nil {
		return Issued{}, fmt.Errorf("count refused attempts: %w", err)
	}
	if n := len(failures); n >= maxFailures {
		// An attempt counts for window after it was made: the lock lifts
		// when enough of them have aged out. Attempts while locked are not
		// recorded, so the lock cannot be extended by hammering on it.
		return Issued{}, errTooManyAttempts(failures[n-maxFailures].Add(window), now)
	}

	creds, err := s.Store.Credentials(ctx, ref)
	if err != nil {
		return Issued{}, fmt.Errorf("look up reference: %w", err)
	}
	legacyLeft, err := s.Store.LegacyHashesLeft(ctx)
	if err != nil {
		return Issued{}, fmt.Errorf("look for argon2id hashes: %w", err)
	}
	cred, ok, rehash, err := match(ctx, s.Hasher, accessCode, creds, legacyLeft)
	if err != nil {
		return Issued{}, err
	}
	if !ok {
		if err := s.Store.RecordFailure(ctx, ref, now, now.Add(-window)); err != nil {
			return Issued{}, fmt.Errorf("record refused attempt: %w", err)
		}
		if len(failures)+1 == maxFailures && s.LockedOut != nil {
			s.LockedOut()
		}
		return Issued{}, errWrongCode()
	}

	id, secret, err := newToken()
	if err != nil {
		return Issued{}, err
	}
	hash := sha256.Sum256([]byte(secret))
	sess := Session{ID: id, ConcernID: cred.ConcernID, Group: cred.Group, SecretSHA256: hash[:],
		CreateTime: now, ExpireTime: now.Add(s.ttl())}
	var re Rehash
	if rehash {
		re.Old = cred.AccessCodeHash
		if re.New, err = s.Hasher.Hash(accessCode); err != nil {
			return Issued{}, fmt.Errorf("hash access code anew: %w", err)
		}
	}
	if err := s.Store.CreateSession(ctx, sess, re); err != nil {
		return Issued{}, fmt.Errorf("store session: %w", err)
	}
	return Issued{Token: auth.ClientSessionPrefix + id + "_" + secret, Concern: sess.Concern(), ExpireTime: sess.ExpireTime}, nil
}

// match returns the credential that code opens, and whether its hash
// should be made anew. Every candidate is checked, without stopping at the
// first match, so the work does not depend on which one matches; a
// reference with no concern is checked against no hash, which costs the
// same as one (accesscode.Check).
func match(ctx context.Context, h accesscode.Hasher, code string, creds []Credential, legacyLeft bool) (Credential, bool, bool, error) {
	if len(creds) == 0 {
		if _, _, err := accesscode.Check(ctx, h, code, "", legacyLeft); err != nil {
			return Credential{}, false, false, fmt.Errorf("check against no hash: %w", err)
		}
		return Credential{}, false, false, nil
	}
	var found Credential
	ok, rehash := false, false
	for _, c := range creds {
		m, r, err := accesscode.Check(ctx, h, code, c.AccessCodeHash, legacyLeft)
		if err != nil {
			return Credential{}, false, false, fmt.Errorf("check access code of concern %s: %w", c.ConcernID, err)
		}
		if m && !ok {
			found, ok, rehash = c, true, r
		}
	}
	return found, ok, rehash, nil
}

func newToken() (id, secret string, err error) {
	b := make([]byte, idBytes+secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("session token: %w", err)
	}
	return strings.ToLower(tokenEncoding.EncodeToString(b[:idBytes])),
		strings.ToLower(tokenEncoding.EncodeToString(b[idBytes:])), nil
}

// Authentication is what a valid session token stands for.
type Authentication struct {
	// Concern is groups/{group}/concerns/{concern}; Group is groups/{group}.
	Concern, Group string
	ExpireTime     time.Time
	// CacheTTL is how long the answer may be reused: AuthCacheTTL, and
	// never beyond ExpireTime.
	CacheTTL time.Duration
}

func errInvalidSession() error {
	return fault.New(fault.Unauthenticated, "INVALID_CLIENT_SESSION", "the client session is unknown, expired or ended")
}

// Authenticate turns a client session token into the concern it opens. Only
// services may ask, to authenticate the clients who call them. Every
// unusable token (unknown, wrong secret, expired, ended) gets the same
// INVALID_CLIENT_SESSION.
func (s *Service) Authenticate(ctx context.Context, token string) (Authentication, error) {
	if auth.FromContext(ctx).Kind != auth.Service {
		return Authentication{}, fault.New(fault.PermissionDenied, "SERVICE_ONLY", "only services may authenticate clients")
	}
	sess, now, err := s.usable(ctx, token)
	if err != nil {
		return Authentication{}, err
	}
	return Authentication{Concern: sess.Concern(), Group: sess.Group, ExpireTime: sess.ExpireTime,
		CacheTTL: min(AuthCacheTTL, sess.ExpireTime.Sub(now))}, nil
}

// usable returns the session token stands for, and the time it was found
// usable: INVALID_CLIENT_SESSION unless it exists, the secret matches, and
// it has neither expired nor ended.
func (s *Service) usable(ctx context.Context, token string) (Session, time.Time, error) {
	parts := tokenPattern.FindStringSubmatch(token)
	if parts == nil {
		return Session{}, time.Time{}, errInvalidSession()
	}
	sess, err := s.Store.GetSession(ctx, parts[1])
	if errors.Is(err, ErrNotFound) {
		return Session{}, time.Time{}, errInvalidSession()
	}
	if err != nil {
		return Session{}, time.Time{}, fmt.Errorf("look up session: %w", err)
	}
	hash := sha256.Sum256([]byte(parts[2]))
	now := s.now()
	valid := subtle.ConstantTimeCompare(hash[:], sess.SecretSHA256) == 1 &&
		sess.RevokeTime.IsZero() && now.Before(sess.ExpireTime)
	if !valid {
		return Session{}, time.Time{}, errInvalidSession()
	}
	return sess, now, nil
}

// End ends the session token stands for before its time: the client signs
// out. The token must be the one that authenticated the call (the platform
// takes it from the Authorization header), so a client ends its own
// session and no other. From then on intake refuses it at once; the other
// services, which reuse intake's answer for up to AuthCacheTTL, refuse it
// within that time. A session that has already ended or expired is
// INVALID_CLIENT_SESSION, as any unusable token.
func (s *Service) End(ctx context.Context, token string) error {
	caller := auth.FromContext(ctx)
	if caller.Kind != auth.Client {
		return fault.New(fault.PermissionDenied, "CALLER_NOT_ALLOWED", "only a client may end a client session, its own")
	}
	sess, now, err := s.usable(ctx, token)
	if err != nil {
		return err
	}
	if sess.Concern() != caller.Concern {
		// Never the case when the token authenticated the call; a
		// caller made otherwise learns nothing of the session.
		return errInvalidSession()
	}
	if err := s.Store.EndSession(ctx, sess.ID, now); err != nil {
		return fmt.Errorf("end client session: %w", err)
	}
	return nil
}

// Clients authenticates the client session tokens that call intake itself
// (EndClientSession), as auth.Intake does for the other services, but from
// the store and without a cache: an ended session is refused here at once.
// Use it as auth.Chain.Clients.
type Clients struct {
	Sessions *Service
}

// Authenticate implements auth.Authenticator. Every unusable token gets the
// platform's usual UNAUTHENTICATED, as it does from the other services.
func (c Clients) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	sess, _, err := c.Sessions.usable(ctx, token)
	if fe, ok := fault.As(err); ok && fe.Kind == fault.Unauthenticated {
		return auth.Principal{}, auth.ErrUnauthenticated()
	}
	if err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{Kind: auth.Client, Concern: sess.Concern(), Group: sess.Group}, nil
}

// Reissued is a concern's new access code, which exists only here.
type Reissued struct {
	Reference  string
	AccessCode string
}

// ReissueAccessCode gives the concern (groups/{g}/concerns/{c}) a new access
// code and ends every session made with the old one. Only the casework
// service may, on behalf of the case's SPC, also after the hand-over.
func (s *Service) ReissueAccessCode(ctx context.Context, name string) (Reissued, error) {
	if err := auth.RequireService(ctx, "casework"); err != nil {
		return Reissued{}, err
	}
	notFound := &fault.Error{Kind: fault.NotFound, Reason: "CONCERN_NOT_FOUND",
		Message: fmt.Sprintf("there is no concern %s", name), Metadata: map[string]string{"concern": name}}
	group, id, ok := concern.ParseName(name)
	if !ok {
		return Reissued{}, notFound
	}
	code, err := accesscode.NewAccessCode()
	if err != nil {
		return Reissued{}, err
	}
	hash, err := s.Hasher.Hash(code)
	if err != nil {
		return Reissued{}, fmt.Errorf("hash access code: %w", err)
	}
	ref, err := s.Store.ReplaceAccessCode(ctx, group, id, hash, s.now())
	if errors.Is(err, ErrNotFound) {
		return Reissued{}, notFound
	}
	if err != nil {
		return Reissued{}, fmt.Errorf("replace access code: %w", err)
	}
	return Reissued{Reference: ref, AccessCode: code}, nil
}
