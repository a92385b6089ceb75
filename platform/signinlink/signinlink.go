// Package signinlink holds what the two kinds of e-mailed sign-in link
// share: members' (the directory) and clients' (intake). A link carries a
// secret of 256 random bits that works once within TTL; only its SHA-256 is
// stored, which is as safe as a slow hash for a secret that long. Asking
// for a link answers the same, in the same time, whether or not the address
// is known (PadAnswer), and a link that cannot be used says only "used" or
// "expired" (ErrUsed, ErrExpired).
package signinlink

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/clientaddr"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/limit"
)

// Source is who a public call comes from, for its per-address limits and
// for an e-mail that says where a request came from: the client's network
// (clientaddr.Network) and where in words (Where). Both are empty when the
// address is unknown or loopback: behind a proxy on the same machine that
// was not declared a front end every client looks like loopback, and
// counting them all as one would shut the door on everyone once a handful
// had come in. It lives here rather than in grpcserver, which every
// process links (the gateway too), so that they do not link the limits'
// storage with it.
func Source(ctx context.Context, addrs grpcserver.ClientAddresses) (network, where string) {
	a, ok := addrs.Of(ctx)
	if !ok || a.IsLoopback() {
		return "", ""
	}
	return clientaddr.Network(a).String(), Where(a)
}

// TTL is how long a sign-in link works.
const TTL = 15 * time.Minute

// DefaultMinAnswer is the least time a request for a link takes by default:
// longer than the slowest path through either service, so that the padding
// hides which path was taken.
const DefaultMinAnswer = 200 * time.Millisecond

// secretBytes gives 256 random bits.
const secretBytes = 32

// encoding is lowercase base32 without padding: safe in a URL path, and
// free of "_", the separator of session tokens.
var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a fresh link secret (52 characters of lowercase
// base32) and its SHA-256, the only form in which it may be stored.
func NewSecret() (secret string, hash []byte) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on the platforms the services run on.
		panic(fmt.Sprintf("sign-in link secret: %v", err))
	}
	secret = strings.ToLower(encoding.EncodeToString(b))
	return secret, Hash(secret)
}

// Hash is the SHA-256 of a secret as a person may bring it back: spaces
// around it and letter case do not matter.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(secret))))
	return h[:]
}

// PadAnswer waits until at least least has passed since start, or ctx is
// done: a request for a link for an address nobody has then takes as long
// as one for an address somebody has.
func PadAnswer(ctx context.Context, start time.Time, least time.Duration) {
	wait := least - time.Since(start)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// ErrUsed refuses a link used already. It is told apart from an expired
// one because only whoever holds the secret learns it, and a person who
// did not use the link should know someone did.
func ErrUsed() error {
	return fault.New(fault.FailedPrecondition, "SIGN_IN_LINK_USED", "this sign-in link was used already; ask for a new one")
}

// ErrExpired refuses a link that is too old, unknown (mistyped, or deleted
// a while after it expired) or whose holder may no longer sign in: all mean
// "ask for a new one", and telling them apart would help only a guesser.
func ErrExpired() error {
	return fault.New(fault.FailedPrecondition, "SIGN_IN_LINK_EXPIRED", "this sign-in link has expired or is not valid; ask for a new one")
}

// Count is one limit on asking for links and the key a request is counted
// under: the client's network, or the group and the e-mail address.
type Count struct {
	Limiter *limit.Limiter
	Key     string
}

// Admit counts a request for a link under each limit in turn and refuses
// it past the first one that is full, with RESOURCE_EXHAUSTED
// TOO_MANY_SIGN_IN_LINKS and when to try again. Unknown addresses are
// counted alike, so that the limit tells nothing either.
func Admit(ctx context.Context, now time.Time, counts ...Count) error {
	for _, c := range counts {
		allowed, retry, err := c.Limiter.Take(ctx, c.Key, now)
		if err != nil {
			return err
		}
		if !allowed {
			return limit.Exhausted("TOO_MANY_SIGN_IN_LINKS", "too many sign-in links were asked for lately", retry, now)
		}
	}
	return nil
}

// Where says where a request came from without the whole address, for the
// e-mail that tells the person who asked: the first three parts of an IPv4
// address, the IPv6 /64.
func Where(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return fmt.Sprintf("a network whose addresses start %d.%d.%d", b[0], b[1], b[2])
	}
	p, _ := a.Prefix(64)
	return "the network " + p.String()
}
