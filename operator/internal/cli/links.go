package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/ipnmediation/disputes/operator/internal/render"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/emptypb"
)

func linksCommand(g *globals) *cobra.Command {
	return group("links", "Add, list and remove a group's link groups", linksAdd(g), linksList(g), linksRemove(g))
}

func linksAdd(g *globals) *cobra.Command {
	var name, localGroup, email, endpoint string
	cmd := &cobra.Command{
		Use:   "add <group-id> <link-id> --name NAME (--local-group GROUP-ID | --email EMAIL [--grpc-endpoint HOST:PORT])",
		Short: "Link a group to another IPN group (group admins and the operator)",
		Args:  exactArgs("<group-id>", "<link-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			link := &directoryv1.LinkGroup{DisplayName: name}
			if localGroup != "" {
				link.Target = &directoryv1.LinkGroup_LocalGroup{LocalGroup: groupName(localGroup)}
			} else {
				link.Target = &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: email, GrpcEndpoint: endpoint}}
			}
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.LinkGroup, error) {
				return c.CreateLinkGroup(ctx, &directoryv1.CreateLinkGroupRequest{Parent: groupName(args[0]), LinkGroupId: args[1], LinkGroup: link})
			}, render.LinkGroup)
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "name of the linked group (required)")
	f.StringVar(&localGroup, "local-group", "", "id of a group in this deployment")
	f.StringVar(&email, "email", "", "contact e-mail of a group elsewhere")
	f.StringVar(&endpoint, "grpc-endpoint", "", "gRPC endpoint (host:port) of a group elsewhere that takes notices over gRPC")
	_ = cmd.MarkFlagRequired("name")
	cmd.MarkFlagsOneRequired("local-group", "email")
	cmd.MarkFlagsMutuallyExclusive("local-group", "email")
	cmd.MarkFlagsMutuallyExclusive("local-group", "grpc-endpoint")
	return cmd
}

func linksList(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list <group-id>",
		Short: "List a group's link groups",
		Args:  exactArgs("<group-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.ListLinkGroupsResponse, error) {
				links, err := allPages(func(page string) ([]*directoryv1.LinkGroup, string, error) {
					resp, err := c.ListLinkGroups(ctx, &directoryv1.ListLinkGroupsRequest{Parent: groupName(args[0]), PageSize: maxPageSize, PageToken: page})
					return resp.GetLinkGroups(), resp.GetNextPageToken(), err
				})
				return &directoryv1.ListLinkGroupsResponse{LinkGroups: links}, err
			}, func(w io.Writer, resp *directoryv1.ListLinkGroupsResponse) error {
				return render.LinkGroups(w, resp.GetLinkGroups())
			})
		},
	}
}

func linksRemove(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove <group-id> <link-id>",
		Short: "Remove a link, for example to replace a link group (group admins and the operator)",
		Args:  exactArgs("<group-id>", "<link-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := linkName(args[0], args[1])
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*emptypb.Empty, error) {
				return c.DeleteLinkGroup(ctx, &directoryv1.DeleteLinkGroupRequest{Name: name})
			}, func(w io.Writer, _ *emptypb.Empty) error {
				_, err := fmt.Fprintf(w, "removed %s\n", name)
				return err
			})
		},
	}
}
