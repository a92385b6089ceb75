package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

// DigestEventType is the event type of digest deliveries: no event causes
// them, the digest job's clock does.
const DigestEventType = "ipn.disputes.notification.v1.DailyDigest"

// FactDigest is, for a digest, its lines as JSON ([]message.DigestItem):
// case resource names and step titles, nothing confidential.
const FactDigest = "digest"

// digestNamespace makes the digest's event ids, so that the id of a
// member's digest for a day is the same on every replica and after every
// restart.
var digestNamespace = uuid.MustParse("5b0f8a52-3c4e-4d0b-9a55-0d6f6a3e1d27")

// DigestEventID is the event id of member's digest for day (a UTC date): a
// UUIDv5 of "digest:<member>:<YYYY-MM-DD>".
func DigestEventID(member string, day time.Time) string {
	return uuid.NewSHA1(digestNamespace, []byte("digest:"+member+":"+day.UTC().Format(time.DateOnly))).String()
}

// CaseLister lists a group's cases for the digest.
type CaseLister interface {
	// OpenCases returns the group's cases that have no outcome yet, with
	// their role holders and next steps.
	OpenCases(ctx context.Context, group string) ([]Case, error)
}

// Digest sends each opted-in member, once per UTC day after Hour, one
// message listing the next steps that are theirs to take.
type Digest struct {
	Store     DigestStore
	Directory Directory
	Cases     CaseLister
	// Hour is the UTC hour (0-23) from which the day's digests go out.
	Hour int
	// Interval is how often the job looks whether digests are due; one
	// minute when zero.
	Interval time.Duration
	Logger   *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Passed, when set, is called after every pass, so that tests can tell
	// that a pass happened without sleeping.
	Passed func()
}

// Run makes a pass every Interval until ctx is done. A failed pass is
// logged and tried again at the next: the members it did not reach are
// still due.
func (j *Digest) Run(ctx context.Context) error {
	return everyInterval(ctx, j.Interval, j.Pass, j.Passed, j.logger(), "digest")
}

// everyInterval calls pass at once and then every interval (a minute when
// zero) until ctx is done, then returns nil. A failed pass is logged as the
// job's and tried again at the next tick; passed, when set, is called after
// every pass, so that tests can tell a pass happened without sleeping.
func everyInterval(ctx context.Context, interval time.Duration, pass func(context.Context) error, passed func(), log *slog.Logger, job string) error {
	if interval <= 0 {
		interval = time.Minute
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if err := pass(ctx); err != nil && ctx.Err() == nil {
			log.Warn(job+" pass failed; will try again", slog.Any("error", err))
		}
		if passed != nil {
			passed()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// Pass deals with every opted-in member whose digest for today is due.
// Before Hour it does nothing.
func (j *Digest) Pass(ctx context.Context) error {
	now := j.now()
	if now.Hour() < j.Hour {
		return nil
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	due, err := j.Store.DueDigests(ctx, day)
	if err != nil {
		return fmt.Errorf("due digests: %w", err)
	}
	byGroup := map[string][]string{}
	var groups []string
	for _, d := range due {
		if _, ok := byGroup[d.Group]; !ok {
			groups = append(groups, d.Group)
		}
		byGroup[d.Group] = append(byGroup[d.Group], d.Member)
	}
	var errs []error
	for _, g := range groups {
		if err := j.group(ctx, g, byGroup[g], day, now); err != nil {
			errs = append(errs, fmt.Errorf("digests of %s: %w", g, err))
		}
	}
	return errors.Join(errs...)
}

// group makes the day's digests of one group's due members.
func (j *Digest) group(ctx context.Context, group string, due []string, day, now time.Time) error {
	g, err := j.Directory.Group(ctx, group)
	if errors.Is(err, ErrNotFound) {
		// A group that is gone has nothing for anyone to do.
		for _, m := range due {
			if err := j.Store.RecordDigest(ctx, m, day, nil); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("group: %w", err)
	}
	members, err := j.Directory.ActiveMembers(ctx, group)
	if err != nil {
		return fmt.Errorf("members: %w", err)
	}
	cases, err := j.Cases.OpenCases(ctx, group)
	if err != nil {
		return fmt.Errorf("cases: %w", err)
	}
	for _, m := range due {
		var d *Delivery
		active := slices.ContainsFunc(members, func(x Member) bool { return x.Name == m && x.Active })
		if items := DigestItems(m, cases); active && len(items) > 0 {
			lines, err := json.Marshal(items)
			if err != nil {
				return fmt.Errorf("digest lines: %w", err)
			}
			d = &Delivery{
				ID:            uuid.NewString(),
				Group:         group,
				EventID:       DigestEventID(m, day),
				EventType:     DigestEventType,
				Template:      message.Digest,
				Recipient:     m,
				RecipientKind: MemberRecipient,
				Facts:         Facts{FactGroupName: g.DisplayName, FactDigest: string(lines)},
				State:         Pending,
				NextAttemptAt: now,
				CreateTime:    now,
			}
		}
		if err := j.Store.RecordDigest(ctx, m, day, d); err != nil {
			return err
		}
		if d != nil {
			j.logger().Info("digest planned", slog.String("member", m), slog.String("event_id", d.EventID))
		}
	}
	return nil
}

// DigestItems are the next steps of cases that wait for member (see
// NextStep.awaits), in case order. Closed cases are skipped.
func DigestItems(member string, cases []Case) []message.DigestItem {
	sorted := slices.Clone(cases)
	slices.SortFunc(sorted, func(a, b Case) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	var out []message.DigestItem
	for _, c := range sorted {
		if c.Closed {
			continue
		}
		for _, s := range c.NextSteps {
			if !s.awaits(c, member) {
				continue
			}
			title := s.Title
			if title == "" {
				title = s.Step
			}
			out = append(out, message.DigestItem{Case: c.Name, Step: title})
		}
	}
	return out
}

// withDigest adds a digest's lines to data.
func withDigest(data message.Data, f Facts) message.Data {
	if raw := f[FactDigest]; raw != "" {
		var items []message.DigestItem
		if err := json.Unmarshal([]byte(raw), &items); err == nil {
			data.Items = items
		}
	}
	return data
}

func (j *Digest) logger() *slog.Logger {
	if j.Logger != nil {
		return j.Logger
	}
	return slog.Default()
}

func (j *Digest) now() time.Time {
	if j.Now != nil {
		return j.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}
