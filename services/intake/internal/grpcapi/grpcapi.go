// Package grpcapi serves the IntakeService: it translates between the proto
// messages and the concern package, nothing more.
package grpcapi

import (
	"context"
	"strings"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/intake/internal/concern"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// PublicMethods need no credentials: the website's form is open to anyone.
var PublicMethods = []string{intakev1.IntakeService_CreateConcern_FullMethodName}

// Server implements intakev1.IntakeServiceServer.
type Server struct {
	intakev1.UnimplementedIntakeServiceServer
	Concerns *concern.Service
}

// CreateConcern implements intakev1.IntakeServiceServer. Its response is the
// only place the access code ever appears.
func (s *Server) CreateConcern(ctx context.Context, req *intakev1.CreateConcernRequest) (*intakev1.Concern, error) {
	r, err := s.Concerns.Register(ctx, req.GetParent(), draftFromProto(req.GetConcern()))
	if err != nil {
		return nil, err
	}
	out := concernToProto(r.Concern)
	out.AccessCode = r.AccessCode
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

func draftFromProto(c *intakev1.Concern) concern.Draft {
	return concern.Draft{
		Practitioner: c.GetPractitioner(),
		Description:  c.GetDescription(),
		ClientName:   c.GetClientName(),
		Contact: concern.Contact{
			Email: c.GetClientContact().GetEmail(),
			Phone: c.GetClientContact().GetPhone(),
		},
	}
}

func concernToProto(c concern.Concern) *intakev1.Concern {
	return &intakev1.Concern{
		Name:         c.Name(),
		Practitioner: c.Practitioner,
		Description:  c.Description,
		ClientName:   c.ClientName,
		ClientContact: &intakev1.ClientContact{
			Email: c.Contact.Email,
			Phone: c.Contact.Phone,
		},
		Reference:  c.Reference,
		CreateTime: timestamppb.New(c.CreateTime),
	}
}

// Validate checks what the proto annotations cannot say (lengths, the form
// of e-mail addresses and telephone numbers, the practitioner's group). The
// server reports annotation violations itself, so fields it already flags
// are left out here and each problem is reported once.
func Validate(_ context.Context, _ string, req any) error {
	r, ok := req.(*intakev1.CreateConcernRequest)
	if !ok {
		return nil
	}
	err := concern.Check(r.GetParent(), draftFromProto(r.GetConcern()))
	fe, ok := fault.As(err)
	if !ok {
		return err
	}
	flagged := map[string]bool{}
	for _, fv := range grpcserver.CheckAnnotations(proto.Message(r)) {
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
