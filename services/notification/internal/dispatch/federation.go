package dispatch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// NoticeKind is what a notice to a link group's own deployment says.
type NoticeKind string

// The kinds of notice, one per link group template.
const (
	NoticeLinkGroupsInformed NoticeKind = "link_groups_informed"
	NoticeProgressReported   NoticeKind = "progress_reported"
)

// noticeKinds maps the link group templates to the notices that say the
// same over gRPC. A delivery of any other template goes by e-mail.
var noticeKinds = map[string]NoticeKind{
	message.LinkGroupsInformed: NoticeLinkGroupsInformed,
	message.ProgressReported:   NoticeProgressReported,
}

// Notice is what a link group's own deployment is told: names and ids only,
// as in the e-mail that would otherwise go.
type Notice struct {
	// ID is the delivery's id; the receiver records a notice once per id,
	// so an attempt repeated after a lost answer records nothing new.
	ID string
	// Group and GroupName are the sending group's resource and display
	// names.
	Group, GroupName string
	Kind             NoticeKind
	// Case is the case's resource name.
	Case     string
	SentTime time.Time
}

// ErrNoticeRefused wraps a Federation error that sending again cannot
// cure: the peer refused the notice or our credential. It is Permanent.
var ErrNoticeRefused = fmt.Errorf("the peer refused the notice: %w", ErrPermanent)

// Federation delivers notices to other deployments of this system.
type Federation interface {
	// Reaches reports whether the deployment at endpoint (host:port) is a
	// peer it holds a credential for.
	Reaches(endpoint string) bool
	// Deliver hands n to the deployment at endpoint. Its errors hold
	// neither addresses nor content; ErrNoticeRefused marks the permanent
	// ones and Unreachable those of a peer that could not be reached.
	Deliver(ctx context.Context, endpoint string, n Notice) error
}

// attemptOnChannel sends claimed d over gRPC when its recipient is a link
// group whose own deployment is a peer, else by e-mail, and records which.
// cut is as for attempt.
func (s *Sender) attemptOnChannel(ctx context.Context, d Delivery) (next Delivery, cut bool) {
	if next, ok := s.sendNotice(ctx, d); ok {
		next.Channel = GRPC
		return next, false
	}
	next, cut = s.attempt(ctx, d)
	next.Channel = Email
	return next, cut
}

// sendNotice delivers claimed d to its link group's deployment; ok is
// false when d is not for such a link group, and then nothing was done. A
// link group whose directory record names an endpoint no peer is
// configured for still gets e-mail: its contact address is always
// recorded.
//
// A peer that cannot be reached is another deployment, perhaps down for
// days: the notice waits, without using up attempts, but with the usual
// growing backoff (Retry.Delay by the attempts made), and the sender does
// not pause its other work for it.
func (s *Sender) sendNotice(ctx context.Context, d Delivery) (_ Delivery, ok bool) {
	kind, known := noticeKinds[d.Template]
	if s.Federation == nil || d.RecipientKind != LinkGroupRecipient || !known {
		return Delivery{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, s.attemptTimeout())
	defer cancel()
	link, err := s.Directory.LinkGroup(ctx, d.Recipient)
	if err != nil || link.Endpoint == "" || !s.Federation.Reaches(link.Endpoint) {
		// The e-mail attempt looks the link up again and handles the error.
		return Delivery{}, false
	}
	log := s.Logger.With(slog.String("delivery", d.Name()), slog.String("event_id", d.EventID), slog.String("channel", string(GRPC)))
	err = s.Federation.Deliver(ctx, link.Endpoint, Notice{
		ID:        d.ID,
		Group:     d.Group,
		GroupName: d.Facts[FactGroupName],
		Kind:      kind,
		Case:      d.Facts[FactCase],
		SentTime:  s.now(),
	})
	if err == nil {
		log.InfoContext(ctx, "notice delivered", slog.Int("attempts", d.Attempts))
		return d.Delivered(s.now()), true
	}
	now, class := s.now(), Classify(err)
	next := d.Failed(now, err.Error(), class, s.Retry, s.jitter())
	if class == Transient {
		next.NextAttemptAt = now.Add(s.Retry.Delay(next.Attempts-next.Failures, s.jitter()))
	}
	// Logged at WARN even when Transient, unlike a failure of the sender's
	// own dependencies: nothing else says that a peer is down.
	logFailure(ctx, log, "notice attempt failed", next, class, false)
	return next, true
}
