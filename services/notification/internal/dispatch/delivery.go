// Package dispatch decides which messages an event causes and sees them
// delivered: the table of routes (event type → recipients and template), the
// delivery's states and how it moves between them, the retry policy, the
// sending loop and who may read the delivery log. It knows neither gRPC nor
// PostgreSQL; those sit behind the Directory, Mailer and Store interfaces.
package dispatch

import (
	"net/url"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/names"
)

// State is how far a delivery got.
type State int

// The states of a delivery: Pending until the mail server accepts it (Sent)
// or it has failed too often or for good (Dead).
const (
	Pending State = iota + 1
	Sent
	Dead
)

// String is the state's stored name.
func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Sent:
		return "sent"
	case Dead:
		return "dead"
	}
	return "unspecified"
}

// ParseState reads a stored state name; ok is false for anything else.
func ParseState(s string) (State, bool) {
	for _, st := range []State{Pending, Sent, Dead} {
		if st.String() == s {
			return st, true
		}
	}
	return 0, false
}

// Facts are the non-confidential values a delivery's template needs, saved
// with the delivery when the event arrives. Keys are the Fact* constants.
type Facts map[string]string

// The keys of Facts.
const (
	// FactGroupName is the group's display name.
	FactGroupName = "group_display_name"
	// FactConcern is the concern's resource name.
	FactConcern = "concern"
	// FactCase is the case's resource name.
	FactCase = "case"
	// FactTarget is, for a timer, which time target: TargetOverall or
	// TargetFirstResponse.
	FactTarget = "target"
	// FactDeadline is, for a timer, when the target runs out (RFC 3339).
	FactDeadline = "deadline"
	// FactIncomingNotice is, for a notice from another deployment, its
	// resource name here, "groups/{group}/incomingNotices/{id}".
	FactIncomingNotice = "incoming_notice"
	// FactFromGroupName is, for a notice from another deployment, the
	// sending group's display name as it gave it.
	FactFromGroupName = "from_group_display_name"
	// FactDeliveryLog is, for the message that tells admins of dead
	// deliveries, the group's delivery log, "groups/{group}/deliveries".
	FactDeliveryLog = "delivery_log"
)

// The time targets a timer's FactTarget names, as casework's CaseTimerFired
// carries them.
const (
	// TargetOverall is the target for resolving the concern.
	TargetOverall = "overall"
	// TargetFirstResponse is the target for the first response to the
	// client.
	TargetFirstResponse = "first_response"
)

// Reference is the resource name a message is about, which it quotes so
// that the recipient can find it: the case when there is one, else the
// incoming notice, the delivery log or the concern.
func (f Facts) Reference() string {
	if c := f.Case(); c != "" {
		return c
	}
	if n := f[FactIncomingNotice]; n != "" {
		return n
	}
	if l := f[FactDeliveryLog]; l != "" {
		return l
	}
	return f[FactConcern]
}

// Case is the case a delivery is about: FactCase, or else the case its
// concern becomes (a case takes its concern's id, names.CaseOfConcern), so
// that even the message about a concern just registered points at the
// case, which every route and page can open. Empty when it is about no case.
func (f Facts) Case() string {
	if c := f[FactCase]; c != "" {
		return c
	}
	c, _ := names.CaseOfConcern(f[FactConcern])
	return c
}

// Page is the website's page a message to recipient links to, under
// publicURL: the case's page, /{group}/cases/{case}, when the message is
// about a case and goes to a member or the client; else the group's page,
// /{group}/ (link groups read cases through their own systems). These are
// the paths the website (web/) serves; each asks whoever is not signed in
// to sign in first.
func (d Delivery) Page(publicURL string) string {
	base := strings.TrimRight(publicURL, "/")
	group := strings.TrimPrefix(d.Group, "groups/")
	parts := strings.Split(d.Facts.Case(), "/")
	if d.RecipientKind != LinkGroupRecipient && len(parts) == 4 && "groups/"+parts[1] == d.Group && parts[2] == "cases" {
		return base + "/" + url.PathEscape(group) + "/cases/" + url.PathEscape(parts[3])
	}
	return base + "/" + url.PathEscape(group) + "/"
}

// RecipientKind says what a delivery's recipient is, and so how its address
// is found at send time.
type RecipientKind int

// The kinds of recipient.
const (
	// MemberRecipient is a member of the group,
	// "groups/{group}/members/{member}".
	MemberRecipient RecipientKind = iota + 1
	// LinkGroupRecipient is one of the group's link groups,
	// "groups/{group}/linkGroups/{link_group}".
	LinkGroupRecipient
	// ClientRecipient is the client of a case,
	// "groups/{group}/cases/{case}/client" (see ClientRecipientOf): the
	// address is asked of casework at send time.
	ClientRecipient
)

// String is the kind's stored name.
func (k RecipientKind) String() string {
	switch k {
	case MemberRecipient:
		return "member"
	case LinkGroupRecipient:
		return "link_group"
	case ClientRecipient:
		return "client"
	}
	return "unspecified"
}

// ParseRecipientKind reads a stored kind name; ok is false for anything
// else.
func ParseRecipientKind(s string) (RecipientKind, bool) {
	for _, k := range []RecipientKind{MemberRecipient, LinkGroupRecipient, ClientRecipient} {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Channel is how a delivery's message travels, decided at each attempt
// from the directory's current record of the recipient.
type Channel string

// The channels; NoChannel until the first attempt.
const (
	NoChannel Channel = ""
	// Email goes through the configured SMTP server.
	Email Channel = "email"
	// GRPC goes to a link group's own deployment's FederationService.
	GRPC Channel = "grpc"
)

// Delivery is one message to one recipient for one event. It never holds the
// message's content or the recipient's address.
type Delivery struct {
	// ID is a UUID; it also makes the message's Message-ID.
	ID string
	// Group is the group's resource name, "groups/{group}".
	Group string
	// EventID is the id of the event that caused it.
	EventID string
	// EventType is the full proto name of that event.
	EventType string
	// Template is the key of the message template.
	Template string
	// Recipient is the resource name of the member or link group the
	// message goes to.
	Recipient string
	// RecipientKind says which of the two Recipient is.
	RecipientKind RecipientKind
	Facts         Facts
	State         State
	// Attempts counts the sending attempts made, every one: an attempt is
	// counted when it starts (see Claimed), so a hand-off whose outcome was
	// never recorded still shows, and two hand-offs are two attempts.
	Attempts int
	// Failures counts the failed attempts that count toward the retry
	// policy's MaxAttempts: those of Unknown class. Transient failures do
	// not count; a Permanent one kills at once.
	Failures int
	// AttemptTime is when the last attempt started; zero before the first.
	AttemptTime time.Time
	// NextAttemptAt is when a pending delivery is due. While an attempt
	// runs it is the end of the attempt's lease (see Claimed).
	NextAttemptAt time.Time
	// LastError says why the last attempt failed, without message content
	// or addresses.
	LastError  string
	CreateTime time.Time
	// SendTime is when the mail server accepted it; zero until then.
	SendTime time.Time
	// Channel is how the last attempt went out.
	Channel Channel
	// TraceParent and TraceState are the W3C trace context of the
	// transaction that planned the delivery (empty when it had none), so
	// that its hand-off, made later by the sender, is in the same trace.
	TraceParent, TraceState string
}

// Name is the delivery's resource name, "groups/{group}/deliveries/{id}".
func (d Delivery) Name() string { return d.Group + "/deliveries/" + d.ID }

// MessageID is the Message-ID every copy of the delivery's message carries,
// so a mailbox recognises one sent again after a crash between the mail
// server's acceptance and our record of it.
func (d Delivery) MessageID() string { return d.ID + "@disputes.ipn" }

// maxErrorLen bounds the stored reason of a failure.
const maxErrorLen = 500

// Claimed returns d as taken by a sender at now for one attempt, which is
// counted and stored before the message is handed off: attempts+1, the
// attempt's start, and a lease, so that a sender that dies or cannot record
// the outcome leaves d due again once the lease has run out, not never.
// lease must be longer than an attempt may take.
func (d Delivery) Claimed(now time.Time, lease time.Duration) Delivery {
	d.Attempts++
	d.AttemptTime = now
	d.NextAttemptAt = now.Add(lease)
	return d
}

// Delivered returns claimed d as accepted by the mail server (or the peer)
// at now.
func (d Delivery) Delivered(now time.Time) Delivery {
	d.State = Sent
	d.SendTime = now
	d.LastError = ""
	return d
}

// Failed returns claimed d after its attempt failed at now, by the
// failure's class: Permanent is dead at once; Transient is pending again
// after policy.TransientDelay, without using up an attempt; Unknown counts
// toward the policy's MaxAttempts, pending again after policy.Delay until
// they are used up, then dead. reason must not hold message content or
// addresses.
func (d Delivery) Failed(now time.Time, reason string, class Class, policy Retry, jitter float64) Delivery {
	d.LastError = truncate(reason, maxErrorLen)
	switch class {
	case Permanent:
		d.State = Dead
		return d
	case Transient:
		d.State = Pending
		d.NextAttemptAt = now.Add(policy.TransientDelay(jitter))
		return d
	}
	d.Failures++
	if d.Failures >= policy.maxAttempts() {
		d.State = Dead
		return d
	}
	d.State = Pending
	d.NextAttemptAt = now.Add(policy.Delay(d.Failures, jitter))
	return d
}

// Retried returns a dead d pending again at now with a fresh allowance of
// MaxAttempts counted failures: an admin has fixed what killed it (an
// address, a link) or knows the outage is over. Attempts keeps counting
// every attempt ever made, so the log stays true; the last failure's
// reason stays until an attempt replaces it.
func (d Delivery) Retried(now time.Time) Delivery {
	d.State = Pending
	d.Failures = 0
	d.NextAttemptAt = now
	return d
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so the stored text stays valid UTF-8.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
