package grpcapi

import (
	"time"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func timeOrZero(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func optionalTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func groupProto(g directory.Group) *directoryv1.Group {
	s := g.Settings.WithDefaults()
	settings := &directoryv1.ProcedureSettings{
		OverallTarget:         durationpb.New(s.OverallTarget),
		FirstResponseTarget:   durationpb.New(s.FirstResponseTarget),
		Procedure:             s.Procedure,
		Retention:             durationpb.New(s.Retention),
		MemberSessionLifetime: durationpb.New(s.MemberSessionLifetime),
	}
	for _, o := range s.ReminderOffsets {
		settings.ReminderOffsets = append(settings.ReminderOffsets, durationpb.New(o))
	}
	return &directoryv1.Group{
		Name:               "groups/" + g.ID,
		DisplayName:        g.DisplayName,
		IpnStatus:          directoryv1.Group_IpnStatus(g.IPNStatus),
		IpnStatusSinceYear: int32(g.StatusSinceYear),
		MeetingFrequency:   g.MeetingFrequency,
		PublicContact:      g.PublicContact,
		ProcedureSettings:  settings,
		CreateTime:         timestamppb.New(g.CreateTime),
		UpdateTime:         timestamppb.New(g.UpdateTime),
		Etag:               directory.Etag(g.Version),
	}
}

func groupDomain(g *directoryv1.Group) directory.Group {
	s := g.GetProcedureSettings()
	settings := directory.ProcedureSettings{
		OverallTarget:         s.GetOverallTarget().AsDuration(),
		FirstResponseTarget:   s.GetFirstResponseTarget().AsDuration(),
		Procedure:             s.GetProcedure(),
		Retention:             s.GetRetention().AsDuration(),
		MemberSessionLifetime: s.GetMemberSessionLifetime().AsDuration(),
	}
	for _, o := range s.GetReminderOffsets() {
		settings.ReminderOffsets = append(settings.ReminderOffsets, o.AsDuration())
	}
	return directory.Group{
		DisplayName:      g.GetDisplayName(),
		IPNStatus:        directory.IPNStatus(g.GetIpnStatus()),
		StatusSinceYear:  int(g.GetIpnStatusSinceYear()),
		MeetingFrequency: g.GetMeetingFrequency(),
		PublicContact:    g.GetPublicContact(),
		Settings:         settings,
	}
}

func memberProto(m directory.Member) *directoryv1.Member {
	state := directoryv1.Member_STATE_INACTIVE
	if m.Active {
		state = directoryv1.Member_STATE_ACTIVE
	}
	out := &directoryv1.Member{
		Name:        "groups/" + m.GroupID + "/members/" + m.ID,
		DisplayName: m.DisplayName,
		State:       state,
		PublicProfile: &directoryv1.PublicProfile{
			Training:       m.Profile.Training,
			Qualifications: m.Profile.Qualifications,
			Experience:     m.Profile.Experience,
			WayOfWorking:   m.Profile.WayOfWorking,
		},
		GroupAdmin: m.GroupAdmin,
		JoinTime:   timestamppb.New(m.JoinTime),
		LeaveTime:  optionalTime(m.LeaveTime),
		Etag:       directory.Etag(m.Version),
	}
	if m.Email != "" || m.Phone != "" {
		out.Contact = &directoryv1.ContactDetails{Email: m.Email, Phone: m.Phone}
	}
	return out
}

func memberDomain(m *directoryv1.Member) directory.Member {
	p := m.GetPublicProfile()
	return directory.Member{
		DisplayName: m.GetDisplayName(),
		Email:       m.GetContact().GetEmail(),
		Phone:       m.GetContact().GetPhone(),
		GroupAdmin:  m.GetGroupAdmin(),
		Profile: directory.PublicProfile{
			Training:       p.GetTraining(),
			Qualifications: p.GetQualifications(),
			Experience:     p.GetExperience(),
			WayOfWorking:   p.GetWayOfWorking(),
		},
	}
}

func linkGroupProto(l directory.LinkGroup) *directoryv1.LinkGroup {
	out := &directoryv1.LinkGroup{
		Name:        "groups/" + l.GroupID + "/linkGroups/" + l.ID,
		DisplayName: l.DisplayName,
		CreateTime:  timestamppb.New(l.CreateTime),
	}
	if l.LocalGroup != "" {
		out.Target = &directoryv1.LinkGroup_LocalGroup{LocalGroup: l.LocalGroup}
	} else {
		out.Target = &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{
			ContactEmail: l.ContactEmail,
			GrpcEndpoint: l.GRPCEndpoint,
		}}
	}
	return out
}

func accessTokenProto(t directory.AccessToken) *directoryv1.AccessToken {
	return &directoryv1.AccessToken{
		Name:        t.Name(),
		DisplayName: t.DisplayName,
		ExpireTime:  timestamppb.New(t.ExpireTime),
		CreateTime:  timestamppb.New(t.CreateTime),
		LastUseTime: optionalTime(t.LastUseTime),
		RevokeTime:  optionalTime(t.RevokeTime),
	}
}

func statementProto(st directory.Statement) *directoryv1.Statement {
	out := &directoryv1.Statement{
		Name:        directory.StatementName(st.GroupID, st.Version),
		Markdown:    st.Markdown,
		State:       directoryv1.Statement_State(st.State),
		Version:     int32(st.Version),
		CreateTime:  timestamppb.New(st.CreateTime),
		PublishTime: optionalTime(st.PublishTime),
	}
	for _, sec := range st.Sections() {
		out.Sections = append(out.Sections, &directoryv1.StatementSection{Title: sec.Title, Markdown: sec.Markdown})
	}
	return out
}
