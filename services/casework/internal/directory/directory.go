// Package directory answers the casefile package's questions about groups by
// asking the directory service over gRPC.
package directory

import (
	"context"
	"fmt"
	"time"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Client implements casefile.Directory.
type Client struct {
	Directory directoryv1.DirectoryServiceClient
}

var _ casefile.Directory = Client{}

// OverallTarget implements casefile.Directory.
func (c Client) OverallTarget(ctx context.Context, group string) (time.Duration, bool, error) {
	g, err := c.Directory.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: group})
	if status.Code(err) == codes.NotFound {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("directory GetGroup: %w", err)
	}
	target := g.GetProcedureSettings().GetOverallTarget()
	if target == nil {
		return 0, true, nil
	}
	return target.AsDuration(), true, nil
}
