// Package intake takes concerns over from the intake service over gRPC, for
// the casefile package.
package intake

import (
	"context"
	"fmt"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Client implements casefile.Intake.
type Client struct {
	Intake intakev1.IntakeServiceClient
}

var _ casefile.Intake = Client{}

// Concern implements casefile.Intake.
func (c Client) Concern(ctx context.Context, name string) (casefile.Concern, bool, error) {
	got, err := c.Intake.GetConcern(ctx, &intakev1.GetConcernRequest{Name: name})
	if status.Code(err) == codes.NotFound {
		return casefile.Concern{}, false, nil
	}
	if grpcserver.Reason(err) == "CONCERN_HANDED_OVER" {
		return casefile.Concern{}, false, fmt.Errorf("intake GetConcern: %w: %w", casefile.ErrConcernHandedOver, err)
	}
	if err != nil {
		// The status message is intake's own and never carries the
		// concern's text.
		return casefile.Concern{}, false, fmt.Errorf("intake GetConcern: %w", err)
	}
	return casefile.Concern{
		Name:         got.GetName(),
		Practitioner: got.GetPractitioner(),
		Reference:    got.GetReference(),
		RegisterTime: got.GetCreateTime().AsTime(),
		Confidential: casefile.Confidential{
			Description:    got.GetDescription(),
			DesiredOutcome: got.GetDesiredOutcome(),
			ClientName:     got.GetClientName(),
			ClientEmail:    got.GetClientContact().GetEmail(),
			ClientPhone:    got.GetClientContact().GetPhone(),
		},
	}, true, nil
}

// ReissueAccessCode implements casefile.Intake.
func (c Client) ReissueAccessCode(ctx context.Context, concern string) (string, string, error) {
	got, err := c.Intake.ReissueAccessCode(ctx, &intakev1.ReissueAccessCodeRequest{Name: concern})
	if err != nil {
		return "", "", fmt.Errorf("intake ReissueAccessCode: %w", err)
	}
	return got.GetReference(), got.GetAccessCode(), nil
}
