package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/operator/internal/render"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/spf13/cobra"
)

func statementsCommand(g *globals) *cobra.Command {
	return group("statements", "Import, publish, list and show a group's ethical statement",
		statementsImport(g), statementsPublish(g), statementsList(g), statementsShow(g))
}

// maxStatementBytes bounds what import reads, far above any real statement,
// so that a wrong file (an image, a log) fails here rather than at the service.
const maxStatementBytes = 1 << 20

func statementsImport(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import <group-id> <file.md|->",
		Short: "Create a draft version of the statement from a Markdown file, or from stdin with - (group admins and the operator)",
		Long: `Create a draft version of the group's ethical statement from a Markdown file
("-" reads stdin). Each second-level heading ("## Confidentiality") starts a named
section. The draft is not in force until it is published with
'disputesctl statements publish <group-id> <version>'.`,
		Args: exactArgs("<group-id>", "<file.md|->"),
		RunE: func(cmd *cobra.Command, args []string) error {
			markdown, err := readMarkdown(args[1], g.io.Stdin)
			if err != nil {
				return err
			}
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.Statement, error) {
				return c.CreateStatement(ctx, &directoryv1.CreateStatementRequest{Parent: groupName(args[0]), Statement: &directoryv1.Statement{Markdown: markdown}})
			}, func(w io.Writer, s *directoryv1.Statement) error {
				if err := render.StatementSummary(w, s); err != nil {
					return err
				}
				_, err := fmt.Fprintf(w, "\nPublish it with: %s statements publish %s %d\n", Name, args[0], s.GetVersion())
				return err
			})
		},
	}
}

func readMarkdown(path string, stdin io.Reader) (string, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("read statement: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxStatementBytes+1))
	if err != nil {
		return "", fmt.Errorf("read statement %s: %w", path, err)
	}
	if len(b) > maxStatementBytes {
		return "", fmt.Errorf("statement %s is larger than %d bytes", path, maxStatementBytes)
	}
	return string(b), nil
}

// versionArg checks a statement version on the command line: a positive
// number, or "current" where allowed.
func versionArg(v string, currentAllowed bool) error {
	if currentAllowed && v == "current" {
		return nil
	}
	if n, err := strconv.Atoi(v); err != nil || n < 1 {
		if currentAllowed {
			return exitcode.Usagef("version must be a number from 1 or \"current\", not %q", v)
		}
		return exitcode.Usagef("version must be a number from 1, not %q", v)
	}
	return nil
}

func statementsPublish(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "publish <group-id> <version>",
		Short: "Make a draft version the group's current statement (group admins and the operator)",
		Args:  exactArgs("<group-id>", "<version>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := versionArg(args[1], false); err != nil {
				return err
			}
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.Statement, error) {
				return c.PublishStatement(ctx, &directoryv1.PublishStatementRequest{Name: statementName(args[0], args[1])})
			}, render.StatementSummary)
		},
	}
}

func statementsList(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list <group-id>",
		Short: "List the versions of a group's statement, newest first (drafts only for the group's members and the operator)",
		Args:  exactArgs("<group-id>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.ListStatementsResponse, error) {
				statements, err := allPages(func(page string) ([]*directoryv1.Statement, string, error) {
					resp, err := c.ListStatements(ctx, &directoryv1.ListStatementsRequest{Parent: groupName(args[0]), PageSize: maxPageSize, PageToken: page})
					return resp.GetStatements(), resp.GetNextPageToken(), err
				})
				return &directoryv1.ListStatementsResponse{Statements: statements}, err
			}, func(w io.Writer, resp *directoryv1.ListStatementsResponse) error {
				return render.Statements(w, resp.GetStatements())
			})
		},
	}
}

func statementsShow(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show <group-id> <version|current>",
		Short: "Show a version of a group's statement with its Markdown",
		Args:  exactArgs("<group-id>", "<version|current>"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := versionArg(args[1], true); err != nil {
				return err
			}
			return respond(cmd, g, func(ctx context.Context, c directoryv1.DirectoryServiceClient) (*directoryv1.Statement, error) {
				return c.GetStatement(ctx, &directoryv1.GetStatementRequest{Name: statementName(args[0], args[1])})
			}, render.Statement)
		},
	}
}
