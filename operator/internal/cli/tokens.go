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
	return group("tokens", "Issue, list and revoke members' personal access tokens", tokensIssue(g), tokensList(g), tokensRevoke(g))
}

func tokensIssue(g *globals) *cobra.Command {
	var (
		name    string
		expires time.Duration
	)
	cmd := &cobra.Command{
		Use:   "issue <group-id> <member-id> [--name TEXT] [--expires 720h]",
		Short: "Issue a personal access token; its secret is printed once (group admins and the operator)",
		Args:  exactArgs("<group-id>", "<member-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if expires < 0 {
				return exitcode.Usagef("--expires must not be negative")
			}
			token := &directoryv1.AccessToken{DisplayName: name}
			if expires > 0 {
				token.ExpireTime = timestamppb.New(time.Now().Add(expires))
			}
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.AccessToken, error) {
				return c.CreateAccessToken(ctx, &directoryv1.CreateAccessTokenRequest{Parent: memberName(args[0], args[1]), AccessToken: token})
			}, render.IssuedToken)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "what the token is for, for example \"laptop\"")
	cmd.Flags().DurationVar(&expires, "expires", 0, "how long the token works, for example 720h; the directory's default (90 days) when unset")
	return cmd
}

func tokensList(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list <group-id> <member-id>",
		Short: "List a member's tokens, without secrets (the member, group admins and the operator)",
		Args:  exactArgs("<group-id>", "<member-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.ListAccessTokensResponse, error) {
				tokens, err := allPages(func(page string) ([]*directoryv1.AccessToken, string, error) {
					resp, err := c.ListAccessTokens(ctx, &directoryv1.ListAccessTokensRequest{Parent: memberName(args[0], args[1]), PageSize: maxPageSize, PageToken: page})
					return resp.GetAccessTokens(), resp.GetNextPageToken(), err
				})
				return &directoryv1.ListAccessTokensResponse{AccessTokens: tokens}, err
			}, func(w io.Writer, resp *directoryv1.ListAccessTokensResponse) error {
				return render.AccessTokens(w, resp.GetAccessTokens())
			})
		},
	}
}

func tokensRevoke(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke <group-id> <member-id> <token-id>",
		Short: "Revoke a token; the directory refuses it at once (the member, group admins and the operator)",
		Args:  exactArgs("<group-id>", "<member-id>", "<token-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.AccessToken, error) {
				return c.RevokeAccessToken(ctx, &directoryv1.RevokeAccessTokenRequest{Name: tokenName(args[0], args[1], args[2])})
			}, render.AccessToken)
		},
	}
}
