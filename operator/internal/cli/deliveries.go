package cli

import (
	"context"
	"fmt"

	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/spf13/cobra"
)

func deliveriesCommand(g *globals) *cobra.Command {
	return group("deliveries", "Act on a group's message deliveries (through the notification service)", deliveriesRetryDead(g))
}

func deliveriesRetryDead(g *globals) *cobra.Command {
	var caseID string
	cmd := &cobra.Command{
		Use:   "retry-dead <group-id> [--case CASE-ID]",
		Short: "Send every dead delivery of a group again, for example after an outage (group admins)",
		Long: `Makes every dead delivery of the group pending again, due at once, with a
fresh allowance of attempts, as retrying each one would; with --case only
those about that case. Deliveries in other states are left alone. Prints how
many were retried. Only the group's admins may: use an admin's personal
access token.`,
		Args: exactArgs("<group-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &notificationv1.RetryDeadDeliveriesRequest{Parent: groupName(args[0])}
			if caseID != "" {
				req.Case = req.GetParent() + "/cases/" + caseID
			}
			resp, err := callNotification(cmd.Context(), g, func(ctx context.Context, c notificationv1.NotificationServiceClient) (*notificationv1.RetryDeadDeliveriesResponse, error) {
				return c.RetryDeadDeliveries(ctx, req)
			})
			if err != nil {
				return err
			}
			if g.json {
				// "retriedCount": 0 rather than a missing field.
				return jsonWithZeros(g.io.Stdout, resp)
			}
			of := req.GetParent()
			if req.GetCase() != "" {
				of = req.GetCase()
			}
			_, err = fmt.Fprintf(g.io.Stdout, "retried %d dead deliveries of %s\n", resp.GetRetriedCount(), of)
			return err
		},
	}
	cmd.Flags().StringVar(&caseID, "case", "", "only deliveries about this case of the group, by its id (the part after cases/)")
	return cmd
}
