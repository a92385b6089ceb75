package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
)

// GroupStatus is a group's IPN status in the CLI's words: "member" or
// "forming".
func GroupStatus(s directoryv1.Group_IpnStatus) string {
	switch s {
	case directoryv1.Group_IPN_STATUS_MEMBER_GROUP:
		return "member"
	case directoryv1.Group_IPN_STATUS_FORMING:
		return "forming"
	}
	return ""
}

func year(y int32) string {
	if y == 0 {
		return ""
	}
	return strconv.Itoa(int(y))
}

// Group writes one group's record.
func Group(w io.Writer, g *directoryv1.Group) error {
	ps := g.GetProcedureSettings()
	var reminders []string
	for _, r := range ps.GetReminderOffsets() {
		reminders = append(reminders, Duration(r))
	}
	return Fields(w, []Field{
		{"group", g.GetName()},
		{"name", g.GetDisplayName()},
		{"status", GroupStatus(g.GetIpnStatus())},
		{"since", year(g.GetIpnStatusSinceYear())},
		{"meets", g.GetMeetingFrequency()},
		{"contact", g.GetPublicContact()},
		{"overall target", Duration(ps.GetOverallTarget())},
		{"first response", Duration(ps.GetFirstResponseTarget())},
		{"reminders", strings.Join(reminders, ", ")},
		{"created", Time(g.GetCreateTime())},
	})
}

// Groups writes a table of groups.
func Groups(w io.Writer, groups []*directoryv1.Group) error {
	rows := make([][]string, 0, len(groups))
	for _, g := range groups {
		rows = append(rows, []string{ID(g.GetName()), g.GetDisplayName(), GroupStatus(g.GetIpnStatus()), year(g.GetIpnStatusSinceYear()), g.GetPublicContact()})
	}
	return Table(w, []string{"ID", "NAME", "STATUS", "SINCE", "CONTACT"}, rows)
}

// Member writes one member's record; contact details appear only when the
// directory disclosed them to the caller.
func Member(w io.Writer, m *directoryv1.Member) error {
	p := m.GetPublicProfile()
	return Fields(w, []Field{
		{"member", m.GetName()},
		{"name", m.GetDisplayName()},
		{"state", enumWord(m.GetState().String(), "STATE_")},
		{"admin", yesNo(m.GetGroupAdmin())},
		{"email", m.GetContact().GetEmail()},
		{"phone", m.GetContact().GetPhone()},
		{"training", p.GetTraining()},
		{"qualifications", p.GetQualifications()},
		{"experience", p.GetExperience()},
		{"way of working", p.GetWayOfWorking()},
		{"joined", Time(m.GetJoinTime())},
		{"left", Time(m.GetLeaveTime())},
	})
}

// Members writes a table of members.
func Members(w io.Writer, members []*directoryv1.Member) error {
	rows := make([][]string, 0, len(members))
	for _, m := range members {
		admin := ""
		if m.GetGroupAdmin() {
			admin = "admin"
		}
		rows = append(rows, []string{ID(m.GetName()), m.GetDisplayName(), enumWord(m.GetState().String(), "STATE_"), admin, m.GetContact().GetEmail()})
	}
	return Table(w, []string{"ID", "NAME", "STATE", "ROLE", "EMAIL"}, rows)
}

// linkTarget says where a link group is: a local group's name, or an
// external group's e-mail and gRPC endpoint.
func linkTarget(l *directoryv1.LinkGroup) string {
	if local := l.GetLocalGroup(); local != "" {
		return local
	}
	ext := l.GetExternalGroup()
	target := ext.GetContactEmail()
	if ext.GetGrpcEndpoint() != "" {
		target += " (gRPC " + ext.GetGrpcEndpoint() + ")"
	}
	return target
}

// LinkGroup writes one link group's record.
func LinkGroup(w io.Writer, l *directoryv1.LinkGroup) error {
	return Fields(w, []Field{
		{"link group", l.GetName()},
		{"name", l.GetDisplayName()},
		{"local group", l.GetLocalGroup()},
		{"email", l.GetExternalGroup().GetContactEmail()},
		{"gRPC endpoint", l.GetExternalGroup().GetGrpcEndpoint()},
		{"linked", Time(l.GetCreateTime())},
	})
}

// LinkGroups writes a table of link groups.
func LinkGroups(w io.Writer, links []*directoryv1.LinkGroup) error {
	rows := make([][]string, 0, len(links))
	for _, l := range links {
		rows = append(rows, []string{ID(l.GetName()), l.GetDisplayName(), linkTarget(l)})
	}
	return Table(w, []string{"ID", "NAME", "WHERE"}, rows)
}

// sectionTitles lists the named sections; the untitled text before the
// first heading is not one.
func sectionTitles(s *directoryv1.Statement) string {
	titles := make([]string, 0, len(s.GetSections()))
	for _, sec := range s.GetSections() {
		if sec.GetTitle() != "" {
			titles = append(titles, sec.GetTitle())
		}
	}
	return strings.Join(titles, ", ")
}

// StatementSummary writes a statement version's record without its text.
func StatementSummary(w io.Writer, s *directoryv1.Statement) error {
	return Fields(w, []Field{
		{"statement", s.GetName()},
		{"version", strconv.Itoa(int(s.GetVersion()))},
		{"state", enumWord(s.GetState().String(), "STATE_")},
		{"sections", sectionTitles(s)},
		{"created", Time(s.GetCreateTime())},
		{"published", Time(s.GetPublishTime())},
	})
}

// Statement writes a statement version's record followed by its Markdown.
func Statement(w io.Writer, s *directoryv1.Statement) error {
	if err := StatementSummary(w, s); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", strings.TrimRight(s.GetMarkdown(), "\n"))
	return err
}

// Statements writes a table of statement versions.
func Statements(w io.Writer, statements []*directoryv1.Statement) error {
	rows := make([][]string, 0, len(statements))
	for _, s := range statements {
		rows = append(rows, []string{strconv.Itoa(int(s.GetVersion())), enumWord(s.GetState().String(), "STATE_"), Time(s.GetCreateTime()), Time(s.GetPublishTime()), strconv.Itoa(len(s.GetSections()))})
	}
	return Table(w, []string{"VERSION", "STATE", "CREATED", "PUBLISHED", "SECTIONS"}, rows)
}

// AccessToken writes a token's record; never its secret.
func AccessToken(w io.Writer, t *directoryv1.AccessToken) error {
	return Fields(w, []Field{
		{"token", t.GetName()},
		{"name", t.GetDisplayName()},
		{"created", Time(t.GetCreateTime())},
		{"expires", Time(t.GetExpireTime())},
		{"last used", Time(t.GetLastUseTime())},
		{"revoked", Time(t.GetRevokeTime())},
	})
}

// IssuedToken writes a freshly issued token, its secret last and labelled so
// that nobody mistakes it for an id or misses that it is shown only once.
func IssuedToken(w io.Writer, t *directoryv1.AccessToken) error {
	if err := AccessToken(w, t); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nSECRET (shown only now; it cannot be shown again, store it safely):\n%s\n", t.GetSecret())
	return err
}

// AccessTokens writes a table of tokens.
func AccessTokens(w io.Writer, tokens []*directoryv1.AccessToken) error {
	rows := make([][]string, 0, len(tokens))
	for _, t := range tokens {
		rows = append(rows, []string{ID(t.GetName()), t.GetDisplayName(), Time(t.GetCreateTime()), Time(t.GetExpireTime()), Time(t.GetLastUseTime()), Time(t.GetRevokeTime())})
	}
	return Table(w, []string{"ID", "NAME", "CREATED", "EXPIRES", "LAST USED", "REVOKED"}, rows)
}
