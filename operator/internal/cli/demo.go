package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/operator/internal/render"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/spf13/cobra"
)

func demoCommand(g *globals) *cobra.Command {
	return group("demo", "Load the fictional demo group", demoLoad(g))
}

// demoToken is one line of `demo load --json`.
type demoToken struct {
	Member      string `json:"member"`
	DisplayName string `json:"displayName"`
	GroupAdmin  bool   `json:"groupAdmin"`
	Secret      string `json:"secret"`
}

func demoLoad(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "load",
		Short: "Create the fictional demo group, its six members and two link groups when missing, and issue each member a fresh token (operator only)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.token == "" {
				return exitcode.Usagef("demo load needs the operator token (--token or %s)", EnvToken)
			}
			// demo.Load presents the operator token itself.
			creds, err := callAs(cmd.Context(), g, "", func(ctx context.Context, c directoryv1.DirectoryServiceClient) ([]demo.Credential, error) {
				return demo.Load(ctx, c, g.token)
			})
			if err != nil {
				return err
			}
			tokens := make([]demoToken, 0, len(creds))
			for _, c := range creds {
				tokens = append(tokens, demoToken{Member: memberName(demo.GroupID, c.Member.ID), DisplayName: c.Member.Name, GroupAdmin: c.Member.Admin, Secret: c.Token})
			}
			out := g.io.Stdout
			if g.json {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"group": groupName(demo.GroupID), "tokens": tokens})
			}
			fmt.Fprintf(out, "Demo group %s is loaded. Fresh access tokens (SECRETS, shown only now):\n\n", groupName(demo.GroupID))
			rows := make([][]string, 0, len(tokens))
			for _, t := range tokens {
				role := ""
				if t.GroupAdmin {
					role = "admin"
				}
				rows = append(rows, []string{render.ID(t.Member), t.DisplayName, role, t.Secret})
			}
			return render.Table(out, []string{"MEMBER", "NAME", "ROLE", "SECRET"}, rows)
		},
	}
}
