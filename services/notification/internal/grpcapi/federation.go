package grpcapi

import (
	"context"
	"strings"

	"github.com/ipnmediation/disputes/platform/fault"
	federationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/federation"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Federation implements federationv1.FederationServiceServer.
type Federation struct {
	federationv1.UnimplementedFederationServiceServer
	Inbox *federation.Inbox
}

var noticeKinds = map[federationv1.Notice_Kind]dispatch.NoticeKind{
	federationv1.Notice_KIND_LINK_GROUPS_INFORMED: dispatch.NoticeLinkGroupsInformed,
	federationv1.Notice_KIND_PROGRESS_REPORTED:    dispatch.NoticeProgressReported,
}

// DeliverNotice implements federationv1.FederationServiceServer.
func (f *Federation) DeliverNotice(ctx context.Context, req *federationv1.DeliverNoticeRequest) (*federationv1.IncomingNotice, error) {
	n := req.GetNotice()
	in, err := f.Inbox.Deliver(ctx, federation.Notice{
		ID:              n.GetId(),
		FromGroup:       n.GetFromGroup().GetName(),
		FromDisplayName: n.GetFromGroup().GetDisplayName(),
		ToGroup:         n.GetToLinkGroup(),
		Kind:            noticeKinds[n.GetKind()],
		Case:            n.GetCase(),
		SentTime:        n.GetSentTime().AsTime(),
	})
	if err != nil {
		return nil, err
	}
	return incomingProto(in), nil
}

// ListIncomingNotices implements federationv1.FederationServiceServer.
func (f *Federation) ListIncomingNotices(ctx context.Context, req *federationv1.ListIncomingNoticesRequest) (*federationv1.ListIncomingNoticesResponse, error) {
	size, after, err := noticePage(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	list, next, err := f.Inbox.List(ctx, req.GetParent(), size, after)
	if err != nil {
		return nil, err
	}
	resp := &federationv1.ListIncomingNoticesResponse{}
	if next != nil {
		resp.NextPageToken = token(&dispatch.Cursor{CreateTime: next.ReceiveTime, ID: next.ID})
	}
	for _, n := range list {
		resp.IncomingNotices = append(resp.IncomingNotices, incomingProto(n))
	}
	return resp, nil
}

// GetIncomingNotice implements federationv1.FederationServiceServer.
func (f *Federation) GetIncomingNotice(ctx context.Context, req *federationv1.GetIncomingNoticeRequest) (*federationv1.IncomingNotice, error) {
	group, id, _ := strings.Cut(req.GetName(), "/incomingNotices/")
	n, err := f.Inbox.Get(ctx, group, id)
	if err != nil {
		return nil, err
	}
	return incomingProto(n), nil
}

func noticePage(size int32, pageToken string) (int, *federation.Cursor, error) {
	p, err := pageOf(size, pageToken)
	if err != nil || p.After == nil {
		return p.Size, nil, err
	}
	return p.Size, &federation.Cursor{ReceiveTime: p.After.CreateTime, ID: p.After.ID}, nil
}

// validateFederation checks a notice beyond its annotations: an id and a
// sending group's name that are there, a known kind, resource names of the
// right shape. How long each may be is the contract's max_length, which the
// platform applies before any handler.
func validateFederation(_ context.Context, _ string, req any) error {
	switch r := req.(type) {
	case *federationv1.ListIncomingNoticesRequest:
		_, _, err := noticePage(r.GetPageSize(), r.GetPageToken())
		return err
	case *federationv1.DeliverNoticeRequest:
		n := r.GetNotice()
		var v fault.Violations
		if n.GetId() == "" {
			v.Add("notice.id", "must not be empty")
		}
		if _, ok := noticeKinds[n.GetKind()]; !ok {
			v.Add("notice.kind", "must be KIND_LINK_GROUPS_INFORMED or KIND_PROGRESS_REPORTED")
		}
		if g := n.GetFromGroup().GetName(); !isName(g, "groups/", 1) {
			v.Add("notice.from_group.name", "must be groups/{group}")
		}
		if strings.TrimSpace(n.GetFromGroup().GetDisplayName()) == "" {
			v.Add("notice.from_group.display_name", "must not be empty")
		}
		if c := n.GetCase(); !strings.HasPrefix(c, n.GetFromGroup().GetName()+"/cases/") || !isName(c, "groups/", 3) {
			v.Add("notice.case", "must be a case of the sending group, groups/{group}/cases/{case}")
		}
		if to := n.GetToLinkGroup(); to != "" && !isName(to, "groups/", 1) {
			v.Add("notice.to_link_group", "must be groups/{group}")
		}
		return v.Err()
	}
	return nil
}

// isName reports whether s is prefix followed by slashes more segments,
// none empty.
func isName(s, prefix string, slashes int) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || strings.Count(rest, "/") != slashes-1 {
		return false
	}
	for _, seg := range strings.Split(rest, "/") {
		if seg == "" {
			return false
		}
	}
	return true
}

var noticeKindProto = map[dispatch.NoticeKind]federationv1.Notice_Kind{
	dispatch.NoticeLinkGroupsInformed: federationv1.Notice_KIND_LINK_GROUPS_INFORMED,
	dispatch.NoticeProgressReported:   federationv1.Notice_KIND_PROGRESS_REPORTED,
}

func incomingProto(in federation.Incoming) *federationv1.IncomingNotice {
	n := &federationv1.Notice{
		Id:          in.Notice.ID,
		FromGroup:   &federationv1.FromGroup{DisplayName: in.Notice.FromDisplayName, Name: in.Notice.FromGroup},
		ToLinkGroup: in.Group,
		Kind:        noticeKindProto[in.Notice.Kind],
		Case:        in.Notice.Case,
	}
	if !in.Notice.SentTime.IsZero() {
		n.SentTime = timestamppb.New(in.Notice.SentTime)
	}
	return &federationv1.IncomingNotice{Name: in.Name(), Notice: n, Peer: in.Peer, ReceiveTime: timestamppb.New(in.ReceiveTime)}
}
