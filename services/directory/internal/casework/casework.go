// Package casework answers the directory package's question of which
// procedure versions exist by asking the casework service over gRPC.
package casework

import (
	"context"
	"fmt"

	"github.com/ipnmediation/disputes/platform/fault"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"github.com/ipnmediation/disputes/services/directory/internal/directory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Client implements directory.Procedures.
type Client struct {
	Casework caseworkv1.CaseworkServiceClient
}

var _ directory.Procedures = Client{}

// Known implements directory.Procedures.
func (c Client) Known(ctx context.Context) ([]string, error) {
	resp, err := c.Casework.ListProcedures(ctx, &caseworkv1.ListProceduresRequest{})
	if err != nil {
		return nil, failed(err)
	}
	names := make([]string, 0, len(resp.GetProcedures()))
	for _, p := range resp.GetProcedures() {
		names = append(names, p.GetName())
	}
	return names, nil
}

// failed tells a casework that is down or slow, where the caller should try
// again shortly rather than have the setting accepted unchecked, from
// anything else (casework not trusting the directory's credential, say),
// which is this deployment's fault and stays internal.
func failed(err error) error {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
		return &fault.Error{Kind: fault.Unavailable, Reason: "CASEWORK_UNAVAILABLE",
			Message: "casework, which knows the versions of the procedure, cannot be reached just now; please try again shortly",
			Cause:   fmt.Errorf("list procedures: %w", err)}
	}
	return fmt.Errorf("casework: list procedures: %w", err)
}
