package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/contact"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/limit"
	"github.com/ipnmediation/disputes/platform/signinlink"
	"github.com/ipnmediation/disputes/services/intake/internal/accesscode"
)

// DefaultMaxCases is how many of a client's cases in a group one e-mail
// links to, the newest: a client rarely has more than one, and a mail with
// dozens of links would be what someone flooding the address wants.
const DefaultMaxCases = 5

// LinkCase is one of a client's cases that a sign-in link may open.
type LinkCase struct {
	// ConcernID is the concern's UUID; Group is groups/{group}.
	ConcernID, Group string
	// Reference is the case's reference, which the mail names.
	Reference  string
	CreateTime time.Time
}

// SignInLink is a link e-mailed to a client for one of their cases; only
// its secret's SHA-256 is kept.
type SignInLink struct {
	SecretSHA256 []byte
	ConcernID    string
	// Group is the concern's group, groups/{group}; filled in when read.
	Group      string
	CreateTime time.Time
	ExpireTime time.Time
	// UseTime is when the link was used; zero while it is not.
	UseTime time.Time
}

// LinkStore keeps clients' sign-in links and finds their cases.
type LinkStore interface {
	// ClientCases returns at most max concerns of the group (groups/{g})
	// whose client's e-mail address hashes to one of hashes, newest first;
	// none when there are none.
	ClientCases(ctx context.Context, group string, hashes []string, max int) ([]LinkCase, error)
	// CreateSignInLinks stores links, and deletes links that expired more
	// than a day before the first of them was made.
	CreateSignInLinks(ctx context.Context, links []SignInLink) error
	// UseSignInLink finds the link whose secret hashes to hash, locks it
	// and calls use with it (ErrNotFound when there is none). When use
	// returns a session, the link is marked used at the session's
	// CreateTime and the session stored, as CreateSession stores one, in
	// one transaction: a link is used once, however many try at once.
	UseSignInLink(ctx context.Context, hash []byte, use func(SignInLink) (Session, error)) (Session, error)
}

// EmailKeys hash clients' e-mail addresses (accesscode.Keys).
type EmailKeys interface {
	EmailHash(email string) string
	EmailHashes(email string) []string
}

// Groups names a group for the mail (intake's directory client).
type Groups interface {
	// GroupName is the display name of groups/{g}.
	GroupName(ctx context.Context, group string) (string, error)
}

// LinkMailer e-mails a client their links at once (the notification
// service, over gRPC). The links hold the secrets: they go nowhere else.
type LinkMailer interface {
	SendClientSignInLinks(ctx context.Context, m LinkMail) error
}

// LinkMail is what the e-mail with a client's sign-in links says.
type LinkMail struct {
	// Group is groups/{group}.
	Group, GroupName string
	Email            string
	// Links are one per case, newest first.
	Links                   []MailedLink
	RequestTime, ExpireTime time.Time
	// RequestedFrom is where the request came from in words; empty when
	// unknown.
	RequestedFrom string
}

// MailedLink is the link to one case, under the case's reference.
type MailedLink struct {
	Reference, URL string
}

// Links e-mails clients sign-in links to their cases and turns a link
// into a client session, as the reference and access code do. It shares
// the Service for sessions, their lifetime, the per-address limit on
// sign-ins and the clock.
type Links struct {
	*Service
	LinkStore LinkStore
	Emails    EmailKeys
	Groups    Groups
	Mailer    LinkMailer
	// PublicURL is the website's address; links are
	// PublicURL/{group}/link/{secret}.
	PublicURL string
	// PerEmail and PerAddress limit requests per e-mail address (with the
	// group) and per client network.
	PerEmail, PerAddress *limit.Limiter
	// MinAnswer is the least time Request takes, so that an address that
	// is a client's and one that is not answer alike.
	MinAnswer time.Duration
	// MaxCases is how many cases one mail links to; DefaultMaxCases when
	// zero.
	MaxCases int
	// Send runs the sending of a mail after the answer; go f() in
	// production, so the answer never waits for the directory or the mail
	// server.
	Send func(f func())
	// Log records that links were sent or not, naming the group and how
	// many, never an address, a reference or a link.
	Log func(msg string, args ...any)
}

// LinkRequest is a client's request for sign-in links.
type LinkRequest struct {
	// Group is groups/{group}.
	Group string
	Email string
	// Source is the client's network for the per-address limit; Where is
	// it in words for the e-mail. Both are empty when unknown.
	Source, Where string
}

// CheckRequest returns an InvalidArgument error naming each field of a
// request for links that cannot be right, or nil.
func CheckRequest(group, email string) error {
	var v fault.Violations
	if _, ok := groupID(group); !ok {
		v.Add("group", "must be groups/{group}")
	}
	if e := accesscode.NormaliseEmail(email); e == "" {
		v.Add("email", "is required")
	} else if !contact.ValidEmail(e) {
		v.Add("email", "must be a plain e-mail address such as name@example.org")
	}
	return v.Err()
}

// groupID is the id in groups/{group}, and whether group has that form.
func groupID(group string) (string, bool) {
	id, ok := strings.CutPrefix(group, "groups/")
	return id, ok && id != "" && !strings.ContainsAny(id, "/ ")
}

// Request e-mails the client who gave the request's address with a concern
// in the group one message with a link to each of their cases there (the
// newest MaxCases), each good once within signinlink.TTL. The answer is the
// same whether or not the address is a client's: the same checks, the same
// limits (the address counted by its keyed hash, never in clear), the same
// hashing and database look-up, the mail sent after the answer, and the
// whole padded to MinAnswer.
func (l *Links) Request(ctx context.Context, r LinkRequest) error {
	start := time.Now()
	if err := CheckRequest(r.Group, r.Email); err != nil {
		return err
	}
	now := l.now()
	email := accesscode.NormaliseEmail(r.Email)
	err := signinlink.Admit(ctx, now, signinlink.Count{Limiter: l.PerAddress, Key: r.Source},
		signinlink.Count{Limiter: l.PerEmail, Key: r.Group + "/" + l.Emails.EmailHash(email)})
	if err == nil {
		err = l.sendLinks(ctx, r, email, now)
	}
	signinlink.PadAnswer(ctx, start, l.MinAnswer)
	return err
}

// sendLinks stores a link for each of the client's cases and has them
// sent; for an address that is no client's it does nothing of consequence
// and says nothing.
func (l *Links) sendLinks(ctx context.Context, r LinkRequest, email string, now time.Time) error {
	maxCases := l.MaxCases
	if maxCases <= 0 {
		maxCases = DefaultMaxCases
	}
	cases, err := l.LinkStore.ClientCases(ctx, r.Group, l.Emails.EmailHashes(email), maxCases)
	if err != nil {
		return fmt.Errorf("look up the client's cases: %w", err)
	}
	if len(cases) == 0 {
		return nil
	}
	expire := now.Add(signinlink.TTL)
	links := make([]SignInLink, 0, len(cases))
	msg := LinkMail{Group: r.Group, Email: email, RequestTime: now, ExpireTime: expire, RequestedFrom: r.Where}
	gid, _ := groupID(r.Group)
	for _, c := range cases {
		secret, hash := signinlink.NewSecret()
		links = append(links, SignInLink{SecretSHA256: hash, ConcernID: c.ConcernID, CreateTime: now, ExpireTime: expire})
		msg.Links = append(msg.Links, MailedLink{Reference: c.Reference,
			URL: strings.TrimRight(l.PublicURL, "/") + "/" + gid + "/link/" + secret})
	}
	if err := l.LinkStore.CreateSignInLinks(ctx, links); err != nil {
		return fmt.Errorf("store sign-in links: %w", err)
	}
	l.Send(func() {
		// The request's context ends with the answer; the mail outlives it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		name, err := l.Groups.GroupName(ctx, r.Group)
		if err == nil {
			msg.GroupName = name
			err = l.Mailer.SendClientSignInLinks(ctx, msg)
		}
		if err != nil {
			l.Log("client sign-in links not sent; the client can ask again", "group", r.Group, "links", len(links), "error", err)
			return
		}
		l.Log("client sign-in links sent", "group", r.Group, "links", len(links))
	})
	return nil
}

// CreateFromLink uses a sign-in link for a client session of its case,
// exactly what the reference and access code give: once, within the
// link's 15 minutes. A client on the network source counts against the
// same per-address limit as sign-ins with a code. A used link says so
// (signinlink.ErrUsed); an unknown one answers as an expired one does.
func (l *Links) CreateFromLink(ctx context.Context, source, secret string) (Issued, error) {
	now := l.now()
	if allowed, retry, err := l.AddressLimit.Take(ctx, source, now); err != nil {
		return Issued{}, err
	} else if !allowed {
		return Issued{}, limit.Exhausted("TOO_MANY_ATTEMPTS", "too many sign-in attempts came from your network lately", retry, now)
	}
	id, tokenSecret, err := newToken()
	if err != nil {
		return Issued{}, err
	}
	tokenHash := sha256.Sum256([]byte(tokenSecret))
	sess, err := l.LinkStore.UseSignInLink(ctx, signinlink.Hash(secret), func(link SignInLink) (Session, error) {
		switch {
		case !link.UseTime.IsZero():
			return Session{}, signinlink.ErrUsed()
		case !now.Before(link.ExpireTime):
			return Session{}, signinlink.ErrExpired()
		}
		return Session{ID: id, ConcernID: link.ConcernID, Group: link.Group, SecretSHA256: tokenHash[:],
			CreateTime: now, ExpireTime: now.Add(l.ttl())}, nil
	})
	if errors.Is(err, ErrNotFound) {
		return Issued{}, signinlink.ErrExpired()
	}
	if err != nil {
		return Issued{}, err
	}
	return Issued{Token: auth.ClientSessionPrefix + id + "_" + tokenSecret, Concern: sess.Concern(), ExpireTime: sess.ExpireTime}, nil
}
