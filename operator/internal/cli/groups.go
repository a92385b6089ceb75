package cli

import (
	"context"
	"io"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/operator/internal/render"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/spf13/cobra"
)

func groupsCommand(g *globals) *cobra.Command {
	return group("groups", "Create, list and show IPN groups", groupsCreate(g), groupsList(g), groupsShow(g))
}

// ipnStatuses are the words --status accepts.
var ipnStatuses = map[string]directoryv1.Group_IpnStatus{
	"member":  directoryv1.Group_IPN_STATUS_MEMBER_GROUP,
	"forming": directoryv1.Group_IPN_STATUS_FORMING,
}

func groupsCreate(g *globals) *cobra.Command {
	var (
		group  directoryv1.Group
		status string
	)
	cmd := &cobra.Command{
		Use:   "create <group-id> --name NAME [--status member|forming] [--since YEAR] [--meets TEXT] [--contact TEXT]",
		Short: "Create a group (operator only)",
		Args:  exactArgs("<group-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if status != "" {
				s, ok := ipnStatuses[status]
				if !ok {
					return exitcode.Usagef("--status must be member or forming, not %q", status)
				}
				group.IpnStatus = s
			}
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.Group, error) {
				return c.CreateGroup(ctx, &directoryv1.CreateGroupRequest{GroupId: args[0], Group: &group})
			}, render.Group)
		},
	}
	cmd.Flags().StringVar(&group.DisplayName, "name", "", "name shown to people (required)")
	cmd.Flags().StringVar(&status, "status", "", "IPN status: member or forming")
	cmd.Flags().Int32Var(&group.IpnStatusSinceYear, "since", 0, "year the group reached that status, for example 2004")
	cmd.Flags().StringVar(&group.MeetingFrequency, "meets", "", "how often the group meets, in its own words")
	cmd.Flags().StringVar(&group.PublicContact, "contact", "", "how the public reaches the group, for example an e-mail address")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func groupsList(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the groups of this deployment",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.ListGroupsResponse, error) {
				groups, err := allPages(func(page string) ([]*directoryv1.Group, string, error) {
					resp, err := c.ListGroups(ctx, &directoryv1.ListGroupsRequest{PageSize: maxPageSize, PageToken: page})
					return resp.GetGroups(), resp.GetNextPageToken(), err
				})
				return &directoryv1.ListGroupsResponse{Groups: groups}, err
			}, func(w io.Writer, resp *directoryv1.ListGroupsResponse) error {
				return render.Groups(w, resp.GetGroups())
			})
		},
	}
}

func groupsShow(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show <group-id>",
		Short: "Show a group",
		Args:  exactArgs("<group-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.Group, error) {
				return c.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: groupName(args[0])})
			}, render.Group)
		},
	}
}
