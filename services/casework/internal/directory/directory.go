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
	settings := g.GetProcedureSettings()
	terms := casefile.Terms{
		OverallTarget:       settings.GetOverallTarget().AsDuration(),
		FirstResponseTarget: settings.GetFirstResponseTarget().AsDuration(),
		Procedure:           settings.GetProcedure(),
		Retention:           settings.GetRetention().AsDuration(),
	}
	for _, o := range settings.GetReminderOffsets() {
		terms.ReminderOffsets = append(terms.ReminderOffsets, o.AsDuration())
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

// ActiveMember implements casefile.Directory.
func (c Client) ActiveMember(ctx context.Context, member string) (bool, error) {
	m, err := c.Directory.GetMember(ctx, &directoryv1.GetMemberRequest{Name: member})
	switch status.Code(err) {
	case codes.OK:
		return m.GetState() == directoryv1.Member_STATE_ACTIVE, nil
	case codes.NotFound:
		return false, nil
	default:
		return false, fmt.Errorf("directory GetMember: %w", err)
	}
}
