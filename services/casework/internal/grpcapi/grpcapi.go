// Package grpcapi serves the CaseworkService: it translates between the proto
// messages and the casefile package, nothing more.
package grpcapi

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/fault"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server implements caseworkv1.CaseworkServiceServer.
type Server struct {
	caseworkv1.UnimplementedCaseworkServiceServer
	Cases *casefile.Service
}

// GetCase implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetCase(ctx context.Context, req *caseworkv1.GetCaseRequest) (*caseworkv1.Case, error) {
	v, err := s.Cases.Get(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return caseToProto(v), nil
}

// ListCases implements caseworkv1.CaseworkServiceServer.
func (s *Server) ListCases(ctx context.Context, req *caseworkv1.ListCasesRequest) (*caseworkv1.ListCasesResponse, error) {
	after, err := decodePageToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	views, next, err := s.Cases.List(ctx, req.GetParent(), int(req.GetPageSize()), after)
	if err != nil {
		return nil, err
	}
	resp := &caseworkv1.ListCasesResponse{Cases: make([]*caseworkv1.Case, 0, len(views)), NextPageToken: encodePageToken(next)}
	for _, v := range views {
		resp.Cases = append(resp.Cases, caseToProto(v))
	}
	return resp, nil
}

// Validate checks what the proto annotations cannot say: a page token must
// come from a previous response, a page size must not be negative.
func Validate(_ context.Context, _ string, req any) error {
	r, ok := req.(*caseworkv1.ListCasesRequest)
	if !ok {
		return nil
	}
	var v fault.Violations
	if r.GetPageSize() < 0 {
		v.Add("page_size", "must not be negative")
	}
	if _, err := decodePageToken(r.GetPageToken()); err != nil {
		v.Add("page_token", tokenProblem)
	}
	return v.Err()
}

const tokenProblem = "is not a token from a previous response"

// encodePageToken makes the cursor opaque: base64url of
// "<register time in Unix microseconds>.<case id>". Empty for no cursor.
func encodePageToken(c *casefile.Cursor) string {
	if c == nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.RegisterTime.UnixMicro(), 10) + "." + c.ID))
}

// decodePageToken reads a token of encodePageToken; nil for the empty token.
func decodePageToken(token string) (*casefile.Cursor, error) {
	if token == "" {
		return nil, nil
	}
	bad := func() error {
		var v fault.Violations
		v.Add("page_token", tokenProblem)
		return v.Err()
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad()
	}
	micros, id, ok := strings.Cut(string(raw), ".")
	if !ok {
		return nil, bad()
	}
	n, err := strconv.ParseInt(micros, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != micros {
		return nil, bad()
	}
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		return nil, bad()
	}
	return &casefile.Cursor{RegisterTime: time.UnixMicro(n).UTC(), ID: id}, nil
}

var phases = map[casefile.Phase]procedurev1.Phase{
	casefile.Registered: procedurev1.Phase_PHASE_REGISTERED,
}

func caseToProto(v casefile.View) *caseworkv1.Case {
	c := v.Case
	return &caseworkv1.Case{
		Name:      c.Name(),
		Concern:   c.Concern,
		Reference: c.Reference,
		Therapist: c.Therapist,
		Phase:     phases[c.Phase],
		Clock: &caseworkv1.Clock{
			Deadline:  timestamppb.New(v.Clock.Deadline),
			Elapsed:   durationpb.New(v.Clock.Elapsed),
			Remaining: durationpb.New(v.Clock.Remaining),
			Overdue:   v.Clock.Overdue,
		},
		RegisterTime:     timestamppb.New(c.RegisterTime),
		CreateTime:       timestamppb.New(c.CreateTime),
		Etag:             c.Etag(),
		EthicalStatement: c.Statement,
	}
}
