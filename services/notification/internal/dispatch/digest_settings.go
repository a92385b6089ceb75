package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
)

// DigestSettings is whether a member receives the daily digest.
type DigestSettings struct {
	// Member is the member's resource name,
	// "groups/{group}/members/{member}".
	Member  string
	Enabled bool
	// Version counts changes, 0 for a member who never set anything; the
	// etag is made of it.
	Version    int64
	UpdateTime time.Time
}

// Name is the settings' resource name,
// "groups/{group}/members/{member}/digestSettings".
func (s DigestSettings) Name() string { return s.Member + digestSettingsSuffix }

// Etag is the settings' entity tag, W/"<version>".
func (s DigestSettings) Etag() string { return `W/"` + strconv.FormatInt(s.Version, 10) + `"` }

const digestSettingsSuffix = "/digestSettings"

// ErrStale is what DigestStore.PutDigestSettings returns when the stored
// version is not the one expected.
var ErrStale = errors.New("digest settings changed meanwhile")

// DigestDue is an opted-in member the digest job has not dealt with yet on
// a day.
type DigestDue struct {
	// Group is "groups/{group}"; Member "groups/{group}/members/{member}".
	Group, Member string
}

// DigestStore keeps members' digest settings and which day's digest each
// has had.
type DigestStore interface {
	// DigestSettings returns the member's settings, or ErrNotFound when
	// they never set any.
	DigestSettings(ctx context.Context, member string) (DigestSettings, error)
	// PutDigestSettings stores s when the stored version is expect (0: no
	// settings yet; negative: whatever is stored) and returns what it
	// stored, with the version counted up; ErrStale otherwise.
	PutDigestSettings(ctx context.Context, group string, s DigestSettings, expect int64) (DigestSettings, error)
	// DueDigests lists the opted-in members whose digest for day (a UTC
	// date) has not been dealt with, by group.
	DueDigests(ctx context.Context, day time.Time) ([]DigestDue, error)
	// RecordDigest marks the member's digest for day as dealt with and, in
	// the same transaction, adds d when it is not nil. It does neither when
	// the day was dealt with meanwhile (another replica) or the member
	// opted out.
	RecordDigest(ctx context.Context, member string, day time.Time, d *Delivery) error
}

// DigestSettingsService is what members see and change of their digest
// settings.
type DigestSettingsService struct {
	Store DigestStore
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// splitDigestSettingsName reads
// "groups/{group}/members/{member}/digestSettings".
func splitDigestSettingsName(name string) (group, member string, ok bool) {
	member, ok = strings.CutSuffix(name, digestSettingsSuffix)
	if !ok {
		return "", "", false
	}
	parts := strings.Split(member, "/")
	if len(parts) != 4 || parts[0] != "groups" || parts[2] != "members" || parts[1] == "" || parts[3] == "" {
		return "", "", false
	}
	return "groups/" + parts[1], member, true
}

// mayReadDigestSettings: the member themselves and the group's admins,
// who may want to know who gets the digest; members of other groups are
// told the group does not exist.
func mayReadDigestSettings(p auth.Principal, group, member string) error {
	if p.InGroup(group) && (p.Member == member || p.GroupAdmin) {
		return nil
	}
	return notOwnDigest(p, group)
}

// mayWriteDigestSettings: the member themselves only; whether to get more
// mail is each member's own choice.
func mayWriteDigestSettings(p auth.Principal, group, member string) error {
	if p.InGroup(group) && p.Member == member {
		return nil
	}
	return notOwnDigest(p, group)
}

func notOwnDigest(p auth.Principal, group string) error {
	if p.Kind == auth.Member && !p.InGroup(group) {
		return groupNotFound(group)
	}
	return fault.New(fault.PermissionDenied, "OWN_DIGEST_SETTINGS_ONLY", "only the member themselves may change their digest settings, and their group's admins read them")
}

func (x *DigestSettingsService) resolve(ctx context.Context, name string, write bool) (group, member string, err error) {
	group, member, ok := splitDigestSettingsName(name)
	if !ok {
		var v fault.Violations
		v.Add("name", "must be groups/{group}/members/{member}/digestSettings")
		return "", "", v.Err()
	}
	check := mayReadDigestSettings
	if write {
		check = mayWriteDigestSettings
	}
	if err := check(auth.FromContext(ctx), group, member); err != nil {
		return "", "", err
	}
	return group, member, nil
}

// Get returns the named digest settings; a member who never set any has
// the digest off.
func (x *DigestSettingsService) Get(ctx context.Context, name string) (DigestSettings, error) {
	_, member, err := x.resolve(ctx, name, false)
	if err != nil {
		return DigestSettings{}, err
	}
	s, err := x.Store.DigestSettings(ctx, member)
	switch {
	case errors.Is(err, ErrNotFound):
		return DigestSettings{Member: member}, nil
	case err != nil:
		return DigestSettings{}, fmt.Errorf("get digest settings: %w", err)
	}
	return s, nil
}

// Update opts the member in (enabled true) or out (false); nil changes
// nothing, and answers the settings as they are. etag, when given, must be
// the current one.
func (x *DigestSettingsService) Update(ctx context.Context, name string, enabled *bool, etag string) (DigestSettings, error) {
	group, member, err := x.resolve(ctx, name, true)
	if err != nil {
		return DigestSettings{}, err
	}
	expect := int64(-1)
	if etag != "" {
		v, ok := parseEtag(etag)
		if !ok {
			return DigestSettings{}, staleDigest()
		}
		expect = v
	}
	if enabled == nil {
		s, err := x.Store.DigestSettings(ctx, member)
		switch {
		case errors.Is(err, ErrNotFound):
			s = DigestSettings{Member: member}
		case err != nil:
			return DigestSettings{}, fmt.Errorf("update digest settings: %w", err)
		}
		if expect >= 0 && expect != s.Version {
			return DigestSettings{}, staleDigest()
		}
		return s, nil
	}
	s, err := x.Store.PutDigestSettings(ctx, group, DigestSettings{Member: member, Enabled: *enabled, UpdateTime: x.now()}, expect)
	switch {
	case errors.Is(err, ErrStale):
		return DigestSettings{}, staleDigest()
	case err != nil:
		return DigestSettings{}, fmt.Errorf("update digest settings: %w", err)
	}
	return s, nil
}

func parseEtag(etag string) (int64, bool) {
	raw, ok := strings.CutPrefix(etag, `W/"`)
	if !ok {
		return 0, false
	}
	raw, ok = strings.CutSuffix(raw, `"`)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	return v, err == nil && v >= 0
}

func staleDigest() error {
	return fault.New(fault.Aborted, "ETAG_MISMATCH", "the digest settings were changed meanwhile; read them again and retry")
}

func (x *DigestSettingsService) now() time.Time {
	if x.Now != nil {
		return x.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}
