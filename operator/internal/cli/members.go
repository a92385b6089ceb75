package cli

import (
	"context"
	"io"

	"github.com/ipnmediation/disputes/operator/internal/render"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/spf13/cobra"
)

func membersCommand(g *globals) *cobra.Command {
	return group("members", "Add, list, show and deactivate a group's members",
		membersAdd(g), membersList(g), membersShow(g), membersDeactivate(g))
}

func membersAdd(g *globals) *cobra.Command {
	member := directoryv1.Member{Contact: &directoryv1.ContactDetails{}, PublicProfile: &directoryv1.PublicProfile{}}
	cmd := &cobra.Command{
		Use:   "add <group-id> <member-id> --name NAME --email EMAIL [--phone PHONE] [--admin] [--training ...] [--qualifications ...] [--experience ...] [--way-of-working ...]",
		Short: "Add a member to a group (group admins and the operator)",
		Args:  exactArgs("<group-id>", "<member-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.Member, error) {
				return c.CreateMember(ctx, &directoryv1.CreateMemberRequest{Parent: groupName(args[0]), MemberId: args[1], Member: &member})
			}, render.Member)
		},
	}
	f := cmd.Flags()
	f.StringVar(&member.DisplayName, "name", "", "name shown to people (required)")
	f.StringVar(&member.Contact.Email, "email", "", "private e-mail address (required)")
	f.StringVar(&member.Contact.Phone, "phone", "", "private telephone number")
	f.BoolVar(&member.GroupAdmin, "admin", false, "make the member an admin of the group")
	f.StringVar(&member.PublicProfile.Training, "training", "", "public profile: training")
	f.StringVar(&member.PublicProfile.Qualifications, "qualifications", "", "public profile: qualifications")
	f.StringVar(&member.PublicProfile.Experience, "experience", "", "public profile: experience")
	f.StringVar(&member.PublicProfile.WayOfWorking, "way-of-working", "", "public profile: how the member works with clients")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

func membersList(g *globals) *cobra.Command {
	var activeOnly bool
	cmd := &cobra.Command{
		Use:   "list <group-id> [--active]",
		Short: "List a group's members (contact details only for the group's own members and the operator)",
		Args:  exactArgs("<group-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.ListMembersResponse, error) {
				members, err := allPages(func(page string) ([]*directoryv1.Member, string, error) {
					resp, err := c.ListMembers(ctx, &directoryv1.ListMembersRequest{Parent: groupName(args[0]), ActiveOnly: activeOnly, PageSize: maxPageSize, PageToken: page})
					return resp.GetMembers(), resp.GetNextPageToken(), err
				})
				return &directoryv1.ListMembersResponse{Members: members}, err
			}, func(w io.Writer, resp *directoryv1.ListMembersResponse) error {
				return render.Members(w, resp.GetMembers())
			})
		},
	}
	cmd.Flags().BoolVar(&activeOnly, "active", false, "only active members")
	return cmd
}

func membersShow(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show <group-id> <member-id>",
		Short: "Show a member (contact details only for the group's own members and the operator)",
		Args:  exactArgs("<group-id>", "<member-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.Member, error) {
				return c.GetMember(ctx, &directoryv1.GetMemberRequest{Name: memberName(args[0], args[1])})
			}, render.Member)
		},
	}
}

func membersDeactivate(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "deactivate <group-id> <member-id>",
		Short: "Record that a member has left; their history stays (group admins and the operator)",
		Args:  exactArgs("<group-id>", "<member-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.Member, error) {
				return c.DeactivateMember(ctx, &directoryv1.DeactivateMemberRequest{Name: memberName(args[0], args[1])})
			}, render.Member)
		},
	}
}
