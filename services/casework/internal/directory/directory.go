// Package directory answers the casefile package's questions about groups by
// asking the directory service over gRPC.
package directory

import (
	"context"
	"fmt"

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

// Terms implements casefile.Directory.
func (c Client) Terms(ctx context.Context, group string) (casefile.Terms, bool, error) {
	g, err := c.Directory.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: group})
	if status.Code(err) == codes.NotFound {
		return casefile.Terms{}, false, nil
	}
	if err != nil {
		return casefile.Terms{}, false, fmt.Errorf("directory GetGroup: %w", err)
	}
	var terms casefile.Terms
	if target := g.GetProcedureSettings().GetOverallTarget(); target != nil {
		terms.OverallTarget = target.AsDuration()
	}
	st, err := c.Directory.GetStatement(ctx, &directoryv1.GetStatementRequest{Name: group + "/statements/current"})
	switch status.Code(err) {
	case codes.OK:
		terms.Statement = st.GetName()
	case codes.NotFound: // the group has published no statement
	default:
		return casefile.Terms{}, false, fmt.Errorf("directory GetStatement: %w", err)
	}
	return terms, true, nil
}
