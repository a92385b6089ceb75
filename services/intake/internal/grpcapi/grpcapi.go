// Package grpcapi serves the IntakeService: it translates between the proto
// messages and the concern and session packages, nothing more.
package grpcapi

import (
	"context"
	"strings"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/names"
	"github.com/ipnmediation/disputes/platform/signinlink"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"github.com/ipnmediation/disputes/services/intake/internal/session"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server implements intakev1.IntakeServiceServer.
type Server struct {
	intakev1.UnimplementedIntakeServiceServer
	Concerns *concern.Service
	Sessions *session.Service
	// Links e-mails clients sign-in links and uses them.
	Links *session.Links
	// Addresses tells whose address a call is made from, for the
	// per-address limits.
	Addresses grpcserver.ClientAddresses
}

// source is the key of the per-address limits for the call in ctx; empty,
// and so not limited, when the client's address is unknown or loopback
// (signinlink.Source).
func (s *Server) source(ctx context.Context) string {
	network, _ := signinlink.Source(ctx, s.Addresses)
	return network
}

// CreateConcern implements intakev1.IntakeServiceServer. Its response is the
// only place the access code ever appears.
func (s *Server) CreateConcern(ctx context.Context, req *intakev1.CreateConcernRequest) (*intakev1.Concern, error) {
	r, err := s.Concerns.Submit(ctx, concern.Submission{
		Parent:    req.GetParent(),
		Draft:     draftFromProto(req.GetConcern()),
		RequestID: req.GetRequestId(),
		Honeypot:  req.GetWebsite(),
		Source:    s.source(ctx),
	})
	if err != nil {
		return nil, err
	}
	out := concernToProto(r.Concern)
	out.AccessCode = r.AccessCode
	out.AccessCodeShownBefore = r.Repeated
	return out, nil
}

// GetConcern implements intakev1.IntakeServiceServer.
func (s *Server) GetConcern(ctx context.Context, req *intakev1.GetConcernRequest) (*intakev1.Concern, error) {
	c, err := s.Concerns.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return concernToProto(c), nil
}

// CreateClientSession implements intakev1.IntakeServiceServer. Its response
// is the only place the session's token ever appears.
func (s *Server) CreateClientSession(ctx context.Context, req *intakev1.CreateClientSessionRequest) (*intakev1.ClientSession, error) {
	var issued session.Issued
	var err error
	if req.GetLinkSecret() != "" {
		issued, err = s.Links.CreateFromLink(ctx, s.source(ctx), req.GetLinkSecret())
	} else {
		issued, err = s.Sessions.CreateFrom(ctx, s.source(ctx), req.GetReference(), req.GetAccessCode())
	}
	if err != nil {
		return nil, err
	}
	caseName, _ := names.CaseOfConcern(issued.Concern)
	return &intakev1.ClientSession{Token: issued.Token, ExpireTime: timestamppb.New(issued.ExpireTime), Concern: issued.Concern, Case: caseName}, nil
}

// RequestClientSignInLink implements intakev1.IntakeServiceServer.
func (s *Server) RequestClientSignInLink(ctx context.Context, req *intakev1.RequestClientSignInLinkRequest) (*emptypb.Empty, error) {
	source, where := signinlink.Source(ctx, s.Addresses)
	err := s.Links.Request(ctx, session.LinkRequest{Group: req.GetGroup(), Email: req.GetEmail(), Source: source, Where: where})
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// AuthenticateClient implements intakev1.IntakeServiceServer.
func (s *Server) AuthenticateClient(ctx context.Context, req *intakev1.AuthenticateClientRequest) (*intakev1.AuthenticateClientResponse, error) {
	a, err := s.Sessions.Authenticate(ctx, req.GetSecret())
	if err != nil {
		return nil, err
	}
	return &intakev1.AuthenticateClientResponse{
		Concern:    a.Concern,
		Group:      a.Group,
		ExpireTime: timestamppb.New(a.ExpireTime),
		CacheTtl:   durationpb.New(a.CacheTTL),
	}, nil
}

// EndClientSession implements intakev1.IntakeServiceServer: the session it
// ends is the one whose token authenticated the call.
func (s *Server) EndClientSession(ctx context.Context, _ *intakev1.EndClientSessionRequest) (*emptypb.Empty, error) {
	token, _ := auth.BearerFromMetadata(ctx)
	if err := s.Sessions.End(ctx, token); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// ReissueAccessCode implements intakev1.IntakeServiceServer. Its response is
// the only place the new access code ever appears.
func (s *Server) ReissueAccessCode(ctx context.Context, req *intakev1.ReissueAccessCodeRequest) (*intakev1.ReissueAccessCodeResponse, error) {
	r, err := s.Sessions.ReissueAccessCode(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &intakev1.ReissueAccessCodeResponse{Reference: r.Reference, AccessCode: r.AccessCode}, nil
}

func draftFromProto(c *intakev1.Concern) concern.Draft {
	return concern.Draft{
		Practitioner:   c.GetPractitioner(),
		Description:    c.GetDescription(),
		DesiredOutcome: c.GetDesiredOutcome(),
		ClientName:     c.GetClientName(),
		Contact: concern.Contact{
			Email: c.GetClientContact().GetEmail(),
			Phone: c.GetClientContact().GetPhone(),
		},
	}
}

func concernToProto(c concern.Concern) *intakev1.Concern {
	return &intakev1.Concern{
		Name:           c.Name(),
		Practitioner:   c.Practitioner,
		Description:    c.Description,
		DesiredOutcome: c.DesiredOutcome,
		ClientName:     c.ClientName,
		ClientContact: &intakev1.ClientContact{
			Email: c.Contact.Email,
			Phone: c.Contact.Phone,
		},
		Reference:  c.Reference,
		CreateTime: timestamppb.New(c.CreateTime),
		Case:       c.Case(),
	}
}

// Validate checks what the proto annotations cannot say (lengths, the form
// of e-mail addresses and telephone numbers, the practitioner's group, blank
// references and codes). The server reports annotation violations itself, so
// fields it already flags are left out here and each problem is reported
// once.
func Validate(_ context.Context, _ string, req any) error {
	var err error
	var msg proto.Message
	switch r := req.(type) {
	case *intakev1.CreateConcernRequest:
		err, msg = concern.Check(r.GetParent(), draftFromProto(r.GetConcern())), r
		if idErr, ok := fault.As(concern.CheckRequestID(r.GetRequestId())); ok {
			if fe, ok := fault.As(err); ok {
				fe.Violations = append(fe.Violations, idErr.Violations...)
			} else {
				err = idErr
			}
		}
	case *intakev1.CreateClientSessionRequest:
		err, msg = session.CheckCreate(r.GetReference(), r.GetAccessCode(), r.GetLinkSecret()), r
	case *intakev1.RequestClientSignInLinkRequest:
		err, msg = session.CheckRequest(r.GetGroup(), r.GetEmail()), r
	default:
		return nil
	}
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	flagged := map[string]bool{}
	for _, fv := range grpcserver.CheckAnnotations(msg) {
		flagged[fv.Field] = true
	}
	var v fault.Violations
	for _, fv := range fe.Violations {
		if !flaggedAlready(flagged, fv.Field) {
			v.Add(fv.Field, fv.Description)
		}
	}
	return v.Err()
}

// flaggedAlready reports whether field, or a message that holds it, is in
// flagged: a missing concern needs no list of its missing fields.
func flaggedAlready(flagged map[string]bool, field string) bool {
	for {
		if flagged[field] {
			return true
		}
		i := strings.LastIndexByte(field, '.')
		if i < 0 {
			return false
		}
		field = field[:i]
	}
}
