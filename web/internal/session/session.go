// Package session keeps a client's or a member's session with the API in
// the browser, where no script can read it: the bearer token intake issued
// and the case it opens, or the member session's token and name the
// directory issued, and when it ends, sealed with AES-256-GCM under a key from the
// website's SESSION_KEYS into an HttpOnly, SameSite=Lax cookie. The website
// keeps no state of its own: the cookie is the session, and it expires with
// it.
//
// The sealed value has the format of platform/sealed's ciphertexts
// (enc:v1:<key id>:<base64url of nonce, ciphertext and tag>), and the keys
// the format of its key settings (id=base64,...), so that keys are made,
// rotated and checked as the services' are: a cookie sealed under a key
// still listed opens after the current key changes, and one sealed under a
// key no longer listed does not.
package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/sealed"
)

// Session is what the cookie holds.
type Session struct {
	// Token is the client session's bearer token, `ipncs_…`.
	Token string `json:"t"`
	// Case is the client's case, `groups/{group}/cases/{case}`.
	Case string `json:"c"`
	// Expiry is when the client session ends.
	Expiry time.Time `json:"e"`
	// MemberSession is, for a member signed in from a sign-in link, the
	// member session's name,
	// `groups/{group}/members/{member}/sessions/{session}`, and Token its
	// `ipnms_…` token; Case is then empty. Empty for a client.
	MemberSession string `json:"s,omitempty"`
}

// Group is the id of the session's group: `riverside` for
// `groups/riverside/cases/…` or a member session of riverside, empty when
// the name is not of that form.
func (s Session) Group() string {
	if s.MemberSession != "" {
		g, _ := splitMemberSession(s.MemberSession)
		return g
	}
	g, _ := splitCase(s.Case)
	return g
}

// IsMember reports whether the session is a member's.
func (s Session) IsMember() bool { return s.MemberSession != "" }

// Member is the member's name, `groups/{group}/members/{member}`, of a
// member's session; empty otherwise.
func (s Session) Member() string {
	g, m := splitMemberSession(s.MemberSession)
	if g == "" {
		return ""
	}
	return "groups/" + g + "/members/" + m
}

func splitMemberSession(name string) (group, member string) {
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[0] != "groups" || parts[2] != "members" || parts[4] != "sessions" ||
		parts[1] == "" || parts[3] == "" || parts[5] == "" {
		return "", ""
	}
	return parts[1], parts[3]
}

// CaseID is the last segment of the session's case name.
func (s Session) CaseID() string {
	_, id := splitCase(s.Case)
	return id
}

func splitCase(name string) (group, id string) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[2] != "cases" || parts[1] == "" || parts[3] == "" {
		return "", ""
	}
	return parts[1], parts[3]
}

var (
	// ErrNoSession means the request carries no session cookie.
	ErrNoSession = errors.New("no session")
	// ErrExpired means the session has ended.
	ErrExpired = errors.New("session expired")
	// ErrInvalid means the cookie does not open: tampered with, sealed
	// under a key no longer configured, or not a session at all.
	ErrInvalid = errors.New("session cookie does not open")
)

// Store seals sessions into cookies and opens them again.
type Store struct {
	current string
	aeads   map[string]cipher.AEAD
	secure  bool
	now     func() time.Time
}

// NewStore reads SESSION_KEYS and SESSION_KEY_ID (keys as id=base64 of 32
// bytes, comma-separated; the id of the one that seals new cookies, which may
// be empty when there is one key). secure marks cookies Secure and names
// them with the __Host- prefix, for a site served over HTTPS.
func NewStore(keys, currentID string, secure bool) (*Store, error) {
	setting, err := sealed.ParseKeySetting("session key", keys, currentID)
	if err != nil {
		return nil, err
	}
	s := &Store{current: setting.Current, aeads: map[string]cipher.AEAD{}, secure: secure, now: time.Now}
	for id, raw := range setting.Keys {
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("session key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("session key %q: %w", id, err)
		}
		s.aeads[id] = aead
	}
	return s, nil
}

// CookieName is the session cookie's name: with the __Host- prefix under
// HTTPS, which browsers accept only from a secure origin, for the whole
// site, and never from a subdomain.
func (s *Store) CookieName() string {
	if s.secure {
		return "__Host-session"
	}
	return "session"
}

// additional binds a sealed session to its purpose and key, so that no other
// ciphertext made under the same keys opens as a session.
func additional(keyID string) []byte { return []byte("ipn-web-session:v1:" + keyID) }

// Seal returns the cookie value of sess, sealed under the current key.
func (s *Store) Seal(sess Session) (string, error) {
	plain, err := json.Marshal(sess)
	if err != nil {
		return "", fmt.Errorf("seal session: %w", err)
	}
	aead := s.aeads[s.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal session: nonce: %w", err)
	}
	e := sealed.Envelope{KeyID: s.current, Nonce: nonce, Sealed: aead.Seal(nil, nonce, plain, additional(s.current))}
	return e.String(), nil
}

// Open returns the session a cookie value holds: ErrInvalid when it does not
// open, ErrExpired when it has ended.
func (s *Store) Open(value string) (Session, error) {
	e, err := sealed.Parse(value)
	if err != nil {
		return Session{}, ErrInvalid
	}
	aead, ok := s.aeads[e.KeyID]
	if !ok || len(e.Nonce) != aead.NonceSize() {
		return Session{}, ErrInvalid
	}
	plain, err := aead.Open(nil, e.Nonce, e.Sealed, additional(e.KeyID))
	if err != nil {
		return Session{}, ErrInvalid
	}
	var sess Session
	if err := json.Unmarshal(plain, &sess); err != nil || sess.Token == "" {
		return Session{}, ErrInvalid
	}
	if !s.now().Before(sess.Expiry) {
		return Session{}, ErrExpired
	}
	return sess, nil
}

// Read opens the session of r's cookie: ErrNoSession without one.
func (s *Store) Read(r *http.Request) (Session, error) {
	c, err := r.Cookie(s.CookieName())
	if err != nil || c.Value == "" {
		return Session{}, ErrNoSession
	}
	return s.Open(c.Value)
}

// Write sets the cookie of sess on w: HttpOnly, so no script reads it;
// SameSite=Lax, so no other site's form or script sends it (a link from an
// e-mail still does); Secure under HTTPS; for the whole site; gone when the
// session ends.
func (s *Store) Write(w http.ResponseWriter, sess Session) error {
	value, err := s.Seal(sess)
	if err != nil {
		return err
	}
	maxAge := int(sess.Expiry.Sub(s.now()).Seconds())
	if maxAge <= 0 {
		return ErrExpired
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.CookieName(), Value: value, Path: "/",
		Expires: sess.Expiry.UTC(), MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// Clear deletes the session cookie.
func (s *Store) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.CookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}
