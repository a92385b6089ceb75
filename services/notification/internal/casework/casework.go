// Package casework answers dispatch's questions about cases by asking the
// casework service over gRPC with the notification service's credential,
// which casework answers with where a case stands and who holds its roles,
// and with the client's contact details (that read is logged by casework).
package casework

import (
	"context"
	"fmt"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Client implements dispatch.Casework.
type Client struct {
	Casework caseworkv1.CaseworkServiceClient
}

var _ dispatch.Casework = Client{}

// Case implements dispatch.Casework.
func (c Client) Case(ctx context.Context, name string) (dispatch.Case, error) {
	pc, err := c.Casework.GetCase(ctx, &caseworkv1.GetCaseRequest{Name: name})
	if err != nil {
		return dispatch.Case{}, failed("get case", err)
	}
	return caseOf(pc), nil
}

// caseOf keeps what dispatch needs of a case: its roles and next steps.
func caseOf(pc *caseworkv1.Case) dispatch.Case {
	out := dispatch.Case{
		Name:      pc.GetName(),
		Procedure: pc.GetProcedure(),
		Therapist: pc.GetTherapist(),
		SPT:       pc.GetSpt(),
		Nominee:   pc.GetSptNominee(),
		SPC:       pc.GetSpc(),
		LP:        pc.GetLp(),
		Closed:    pc.GetPhase() == procedurev1.Phase_PHASE_CLOSED,
	}
	for _, s := range pc.GetNextSteps() {
		step := dispatch.NextStep{Step: s.GetStep(), Title: s.GetTitle(), Optional: s.GetOptional(), TowardFirstResponse: s.GetTowardFirstResponse()}
		for _, a := range s.GetActors() {
			step.Actors = append(step.Actors, a.String())
		}
		for _, a := range s.GetExcludedActors() {
			step.Excluded = append(step.Excluded, a.String())
		}
		out.NextSteps = append(out.NextSteps, step)
	}
	return out
}

// MeetingKind implements dispatch.Casework from the procedure, which anyone
// may read, since the meeting itself is for its participants' eyes.
func (c Client) MeetingKind(ctx context.Context, procedure, step string) (string, error) {
	p, err := c.Casework.GetProcedure(ctx, &caseworkv1.GetProcedureRequest{Name: procedure})
	if err != nil {
		return "", failed("get procedure", err)
	}
	for _, s := range p.GetSteps() {
		if s.GetId() == step && s.GetMeetingKind() != procedurev1.MeetingKind_MEETING_KIND_UNSPECIFIED {
			return s.GetMeetingKind().String(), nil
		}
	}
	return "", nil
}

// ClientEmail implements dispatch.Casework.
func (c Client) ClientEmail(ctx context.Context, caseName string) (string, error) {
	rc, err := c.Casework.GetRegisteredConcern(ctx, &caseworkv1.GetRegisteredConcernRequest{Name: caseName + "/registeredConcern"})
	if err != nil {
		return "", failed("get the client's contact", err)
	}
	return rc.GetClientEmail(), nil
}

// failed turns NotFound into dispatch.ErrNotFound, marks what a retry cures
// (casework unreachable, overloaded or too slow, or our call cut short) as
// dispatch.Unreachable, and keeps anything else as it is, which counts
// toward a delivery's attempts. Casework's status messages carry no
// contact details.
func failed(what string, err error) error {
	switch status.Code(err) {
	case codes.NotFound:
		return fmt.Errorf("casework: %s: %w", what, dispatch.ErrNotFound)
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
		return dispatch.Unreachable(fmt.Errorf("casework: %s: %w", what, err))
	}
	return fmt.Errorf("casework: %s: %w", what, err)
}

// maxCasePages bounds the paging through a group's cases: 200 a page, so a
// hundred pages is a broken casework rather than a busy group.
const maxCasePages = 100

var _ dispatch.CaseLister = Client{}

// OpenCases implements dispatch.CaseLister: every page of the group's
// cases, without the closed ones, which have no next steps for anyone.
func (c Client) OpenCases(ctx context.Context, group string) ([]dispatch.Case, error) {
	var out []dispatch.Case
	token := ""
	for range maxCasePages {
		resp, err := c.Casework.ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: group, PageSize: 200, PageToken: token})
		if err != nil {
			return nil, failed("list cases", err)
		}
		for _, pc := range resp.GetCases() {
			if cs := caseOf(pc); !cs.Closed {
				out = append(out, cs)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("casework: cases of %s: more than %d pages", group, maxCasePages)
}
