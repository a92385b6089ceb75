package cli

import (
	"context"
	"io"
	"time"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/operator/internal/render"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func tokensCommand(g *globals) *cobra.Command {
	return group("tokens", "Issue, list and revoke the personal access tokens of members and link groups", tokensIssue(g), tokensList(g), tokensRevoke(g))
}

// linkFlag declares --link, which makes the holder argument a link group's
// id: link groups hold tokens so that their own systems can call this one.
func linkFlag(cmd *cobra.Command, link *bool) {
	cmd.Flags().BoolVar(link, "link", false, "the holder is a link group: <holder-id> is the link's id, not a member's")
}

// holderName is the resource name of a token holder.
func holderName(group, holder string, link bool) string {
	if link {
		return linkName(group, holder)
	}
	return memberName(group, holder)
}

func tokensIssue(g *globals) *cobra.Command {
	var (
		name    string
		expires time.Duration
		link    bool
	)
	cmd := &cobra.Command{
		Use:   "issue <group-id> <holder-id> [--link] [--name TEXT] [--expires 720h]",
		Short: "Issue a personal access token to a member or, with --link, a link group; its secret is printed once (group admins and the operator)",
		Args:  exactArgs("<group-id>", "<holder-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if expires < 0 {
				return exitcode.Usagef("--expires must not be negative")
			}
			token := &directoryv1.AccessToken{DisplayName: name}
			if expires > 0 {
				token.ExpireTime = timestamppb.New(time.Now().Add(expires))
			}
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.AccessToken, error) {
				return c.CreateAccessToken(ctx, &directoryv1.CreateAccessTokenRequest{Parent: holderName(args[0], args[1], link), AccessToken: token})
			}, render.IssuedToken)
		},
	}
	linkFlag(cmd, &link)
	cmd.Flags().StringVar(&name, "name", "", "what the token is for, for example \"laptop\"")
	cmd.Flags().DurationVar(&expires, "expires", 0, "how long the token works, for example 720h; the directory's default (90 days) when unset")
	return cmd
}

func tokensList(g *globals) *cobra.Command {
	var link bool
	cmd := &cobra.Command{
		Use:   "list <group-id> <holder-id> [--link]",
		Short: "List a member's or, with --link, a link group's tokens, without secrets (the holder, group admins and the operator)",
		Args:  exactArgs("<group-id>", "<holder-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.ListAccessTokensResponse, error) {
				tokens, err := allPages(func(page string) ([]*directoryv1.AccessToken, string, error) {
					resp, err := c.ListAccessTokens(ctx, &directoryv1.ListAccessTokensRequest{Parent: holderName(args[0], args[1], link), PageSize: maxPageSize, PageToken: page})
					return resp.GetAccessTokens(), resp.GetNextPageToken(), err
				})
				return &directoryv1.ListAccessTokensResponse{AccessTokens: tokens}, err
			}, func(w io.Writer, resp *directoryv1.ListAccessTokensResponse) error {
				return render.AccessTokens(w, resp.GetAccessTokens())
			})
		},
	}
	linkFlag(cmd, &link)
	return cmd
}

func tokensRevoke(g *globals) *cobra.Command {
	var link bool
	cmd := &cobra.Command{
		Use:   "revoke <group-id> <holder-id> <token-id> [--link]",
		Short: "Revoke a member's or, with --link, a link group's token; the directory refuses it at once (the holder, group admins and the operator)",
		Args:  exactArgs("<group-id>", "<holder-id>", "<token-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.AccessToken, error) {
				return c.RevokeAccessToken(ctx, &directoryv1.RevokeAccessTokenRequest{Name: holderName(args[0], args[1], link) + "/accessTokens/" + args[2]})
			}, render.AccessToken)
		},
	}
	linkFlag(cmd, &link)
	return cmd
}
