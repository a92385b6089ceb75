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
	order, ok := listOrders[req.GetOrderBy()]
	if !ok {
		return nil, orderByViolation()
	}
	f := casefile.Filter{Role: req.GetCallerRole(), Overdue: req.GetOverdueOnly(), Open: req.GetOpenOnly(),
		Awaiting: awaitingFilters[req.GetAwaiting()], Order: order}
	if req.GetPhase() != procedurev1.Phase_PHASE_UNSPECIFIED {
		f.Phase = casefile.PhaseOf(req.GetPhase())
	}
	views, next, total, err := s.Cases.List(ctx, req.GetParent(), f, int(req.GetPageSize()), after)
	if err != nil {
		return nil, err
	}
	resp := &caseworkv1.ListCasesResponse{Cases: make([]*caseworkv1.Case, 0, len(views)), NextPageToken: encodePageToken(next),
		TotalSize: int32(total)}
	for _, v := range views {
		resp.Cases = append(resp.Cases, caseToProto(v))
	}
	return resp, nil
}

// listOrders are the orders ListCases's order_by names (AIP-132).
var listOrders = map[string]casefile.Order{
	"":         casefile.NewestFirst,
	"deadline": casefile.DeadlineFirst,
}

const orderByProblem = `must be empty (newest registration first) or "deadline" (the overall deadline soonest first)`

func orderByViolation() error {
	var v fault.Violations
	v.Add("order_by", orderByProblem)
	return v.Err()
}

// awaitingFilters are the domain's awaiting filters by the API's.
var awaitingFilters = map[caseworkv1.ListCasesRequest_Awaiting]casefile.AwaitingFilter{
	caseworkv1.ListCasesRequest_AWAITING_UNSPECIFIED: casefile.AwaitingAny,
	caseworkv1.ListCasesRequest_AWAITING_CALLER:      casefile.AwaitingCaller,
	caseworkv1.ListCasesRequest_AWAITING_OTHERS:      casefile.AwaitingOthers,
}

// Validate checks what the proto annotations cannot say: a page token must
// come from a previous response with the same order, a page size must not
// be negative, an order must be one ListCases knows.
func Validate(_ context.Context, _ string, req any) error {
	var v fault.Violations
	switch r := req.(type) {
	case *caseworkv1.ListCasesRequest:
		if r.GetPageSize() < 0 {
			v.Add("page_size", "must not be negative")
		}
		order, orderOK := listOrders[r.GetOrderBy()]
		if !orderOK {
			v.Add("order_by", orderByProblem)
		}
		if _, ok := awaitingFilters[r.GetAwaiting()]; !ok {
			v.Add("awaiting", "must be one of AWAITING_UNSPECIFIED, AWAITING_CALLER, AWAITING_OTHERS")
		}
		switch c, err := decodePageToken(r.GetPageToken()); {
		case err != nil:
			v.Add("page_token", tokenProblem)
		case c != nil && orderOK && c.Order != order:
			v.Add("page_token", "was made for another order_by")
		}
	case *caseworkv1.ListAccessLogEntriesRequest:
		if r.GetPageSize() < 0 {
			v.Add("page_size", "must not be negative")
		}
		if _, err := decodeSeqToken(r.GetPageToken()); err != nil {
			v.Add("page_token", tokenProblem)
		}
	case *caseworkv1.ListTimelineEntriesRequest:
		if r.GetPageSize() < 0 {
			v.Add("page_size", "must not be negative")
		}
		if _, err := decodeSeqToken(r.GetPageToken()); err != nil {
			v.Add("page_token", tokenProblem)
		}
	}
	return v.Err()
}

const tokenProblem = "is not a token from a previous response"

// encodePageToken makes the cursor opaque: base64url of
// "<register time in Unix microseconds>.<case id>" for the newest first (the
// form tokens had before there was another order, so that theirs still
// read), "d<deadline in Unix microseconds>.<case id>" for the soonest
// deadline first. Empty for no cursor.
func encodePageToken(c *casefile.Cursor) string {
	if c == nil {
		return ""
	}
	raw := strconv.FormatInt(c.RegisterTime.UnixMicro(), 10) + "." + c.ID
	if c.Order == casefile.DeadlineFirst {
		raw = "d" + strconv.FormatInt(c.Deadline.UnixMicro(), 10) + "." + c.ID
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
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
	order := casefile.NewestFirst
	key, isDeadline := strings.CutPrefix(string(raw), "d")
	if isDeadline {
		order = casefile.DeadlineFirst
	}
	micros, id, ok := strings.Cut(key, ".")
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
	at := time.UnixMicro(n).UTC()
	if order == casefile.DeadlineFirst {
		return &casefile.Cursor{Order: order, Deadline: at, ID: id}, nil
	}
	return &casefile.Cursor{Order: order, RegisterTime: at, ID: id}, nil
}

func caseToProto(v casefile.View) *caseworkv1.Case {
	c := v.Case
	out := &caseworkv1.Case{
		Name:               c.Name(),
		Concern:            c.Concern,
		Reference:          c.Reference,
		Therapist:          c.Therapist,
		Phase:              casefile.ProcedurePhase(c.Phase),
		Clock:              clockToProto(v.Clock),
		FirstResponseClock: clockToProto(v.FirstResponse),
		RegisterTime:       timestamppb.New(c.RegisterTime),
		CreateTime:         timestamppb.New(c.CreateTime),
		Etag:               c.Etag(),
		EthicalStatement:   c.Statement,
		Procedure:          c.Procedure,
		Spt:                c.Roles.SPT,
		SptNominee:         c.Roles.SPTNominee,
		Spc:                c.Roles.SPC,
		Lp:                 c.Roles.LP,
		Outcome:            caseworkv1.Case_Outcome(caseworkv1.Case_Outcome_value["OUTCOME_"+string(c.Outcome)]),
		CallerRoles:        v.Roles,
		ProgressSummary:    v.Summary,
	}
	if !c.CloseTime.IsZero() {
		out.CloseTime = timestamppb.New(c.CloseTime)
	}
	for _, n := range v.Next {
		out.NextSteps = append(out.NextSteps, &caseworkv1.NextStep{Step: n.Step, Title: n.Title, Actors: n.Actors,
			ExcludedActors: n.Excluded, Optional: n.Optional, TowardFirstResponse: n.TowardFirstResponse, CallerMayTake: n.CallerMay})
	}
	return out
}

func clockToProto(c casefile.Clock) *caseworkv1.Clock {
	out := &caseworkv1.Clock{
		Deadline:    timestamppb.New(c.Deadline),
		Elapsed:     durationpb.New(c.Elapsed),
		Remaining:   durationpb.New(c.Remaining),
		Overdue:     c.Overdue,
		State:       clockStates[c.State],
		StartTime:   timestamppb.New(c.Start),
		DaysLeft:    int32(c.DaysLeft),
		DaysOverdue: int32(c.DaysOverdue),
	}
	if !c.Met.IsZero() {
		out.MetTime = timestamppb.New(c.Met)
	}
	if !c.Stop.IsZero() {
		out.StopTime = timestamppb.New(c.Stop)
	}
	return out
}

// clockStates maps the domain's clock states to the API's.
var clockStates = map[casefile.ClockState]caseworkv1.Clock_State{
	casefile.ClockRunning: caseworkv1.Clock_STATE_RUNNING,
	casefile.ClockMet:     caseworkv1.Clock_STATE_MET,
	casefile.ClockMissed:  caseworkv1.Clock_STATE_MISSED,
	casefile.ClockStopped: caseworkv1.Clock_STATE_STOPPED,
}

// encodeSeqToken makes a timeline position opaque: base64url of "t<seq>".
// Empty for the end.
func encodeSeqToken(seq int) string {
	if seq == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("t" + strconv.Itoa(seq)))
}

// decodeSeqToken reads a token of encodeSeqToken; 0 for the empty token.
func decodeSeqToken(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	digits, ok := strings.CutPrefix(string(raw), "t")
	n, convErr := strconv.Atoi(digits)
	if err != nil || !ok || convErr != nil || n <= 0 || strconv.Itoa(n) != digits {
		var v fault.Violations
		v.Add("page_token", tokenProblem)
		return 0, v.Err()
	}
	return n, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
