package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"google.golang.org/grpc/codes"
)

const statementV1 = "# Riverside ethical statement\n\nWho we are.\n\n## Values\n\nRespect for clients.\n\n## Confidentiality\n\nWhat clients tell us stays with us.\n"

func (e *env) createStatement(t *testing.T, ctx context.Context, group, markdown string) *directoryv1.Statement {
	t.Helper()
	st, err := e.client.CreateStatement(ctx, &directoryv1.CreateStatementRequest{Parent: "groups/" + group, Statement: &directoryv1.Statement{Markdown: markdown}})
	if err != nil {
		t.Fatalf("CreateStatement: %v", err)
	}
	return st
}

func (e *env) statement(t *testing.T, ctx context.Context, name string) *directoryv1.Statement {
	t.Helper()
	st, err := e.client.GetStatement(ctx, &directoryv1.GetStatementRequest{Name: name})
	if err != nil {
		t.Fatalf("GetStatement(%s): %v", name, err)
	}
	return st
}

// statementNames lists every version the caller sees, reading pages of one.
func (e *env) statementNames(t *testing.T, ctx context.Context, group string) []string {
	t.Helper()
	var names []string
	token := ""
	for {
		resp, err := e.client.ListStatements(ctx, &directoryv1.ListStatementsRequest{Parent: "groups/" + group, PageSize: 1, PageToken: token})
		if err != nil {
			t.Fatalf("ListStatements: %v", err)
		}
		for _, st := range resp.GetStatements() {
			names = append(names, st.GetName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			return names
		}
	}
}

func TestCreateStatementErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside")
	otherAdmin, _ := e.seed(t, "hillside")
	tests := []struct {
		name     string
		ctx      context.Context
		parent   string
		markdown string
		code     codes.Code
		reason   string
		field    string
	}{
		{"admin writes a draft", as(admin), "groups/riverside", statementV1, codes.OK, "", ""},
		{"operator writes a draft", as(operatorToken), "groups/riverside", "## Values\nRespect.", codes.OK, "", ""},
		{"empty", as(admin), "groups/riverside", "", codes.InvalidArgument, "INVALID_FIELDS", "statement.markdown"},
		{"blank", as(admin), "groups/riverside", " \n\t\n", codes.InvalidArgument, "INVALID_FIELDS", "statement.markdown"},
		{"too long", as(admin), "groups/riverside", "## Values\n" + strings.Repeat("x", 100000), codes.InvalidArgument, "INVALID_FIELDS", "statement.markdown"},
		{"plain member may not", as(member), "groups/riverside", statementV1, codes.PermissionDenied, "CALLER_NOT_ALLOWED", ""},
		{"other group's admin may not", as(otherAdmin), "groups/riverside", statementV1, codes.PermissionDenied, "PERMISSION_DENIED", ""},
		{"anonymous", as(""), "groups/riverside", statementV1, codes.Unauthenticated, "UNAUTHENTICATED", ""},
		{"unknown group", as(operatorToken), "groups/nowhere", statementV1, codes.NotFound, "GROUP_NOT_FOUND", ""},
	}
	version := int32(0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := e.client.CreateStatement(tc.ctx, &directoryv1.CreateStatementRequest{Parent: tc.parent, Statement: &directoryv1.Statement{Markdown: tc.markdown}})
			if tc.code != codes.OK {
				testenv.WantStatus(t, err, tc.code, tc.reason, fieldsOf(tc.field)...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			version++
			if st.GetVersion() != version || st.GetState() != directoryv1.Statement_STATE_DRAFT || st.GetPublishTime() != nil || st.GetMarkdown() != tc.markdown {
				t.Errorf("created = %v; want draft version %d", st, version)
			}
		})
	}
	t.Run("sections are read from the Markdown", func(t *testing.T) {
		st := e.statement(t, as(member), "groups/riverside/statements/1")
		var titles []string
		for _, s := range st.GetSections() {
			titles = append(titles, s.GetTitle())
		}
		if strings.Join(titles, "|") != "|Values|Confidentiality" || st.GetSections()[2].GetMarkdown() != "What clients tell us stays with us." {
			t.Errorf("sections = %v", st.GetSections())
		}
	})
}

func TestStatementPublishFlow(t *testing.T) {
	t.Parallel()
	e := start(t)
	admin, member := e.seed(t, "riverside")
	_, otherMember := e.seed(t, "hillside")
	current := "groups/riverside/statements/current"
	v1, v2 := "groups/riverside/statements/1", "groups/riverside/statements/2"

	_, err := e.client.GetStatement(as(""), &directoryv1.GetStatementRequest{Name: current})
	testenv.WantStatus(t, err, codes.NotFound, "STATEMENT_NOT_FOUND")

	e.createStatement(t, as(admin), "riverside", statementV1)
	t.Run("a draft is hidden from everyone outside the group", func(t *testing.T) {
		for _, who := range []struct {
			name string
			ctx  context.Context
		}{{"anonymous", as("")}, {"other group's member", as(otherMember)}} {
			_, err := e.client.GetStatement(who.ctx, &directoryv1.GetStatementRequest{Name: v1})
			testenv.WantStatus(t, err, codes.NotFound, "STATEMENT_NOT_FOUND")
			if names := e.statementNames(t, who.ctx, "riverside"); len(names) != 0 {
				t.Errorf("%s lists %v", who.name, names)
			}
		}
		for _, ctx := range []context.Context{as(member), as(operatorToken)} {
			if st := e.statement(t, ctx, v1); st.GetState() != directoryv1.Statement_STATE_DRAFT {
				t.Errorf("draft = %v", st)
			}
		}
	})

	publishErrors := []struct {
		name   string
		ctx    context.Context
		target string
		code   codes.Code
		reason string
	}{
		{"plain member may not", as(member), v1, codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"anonymous", as(""), v1, codes.Unauthenticated, "UNAUTHENTICATED"},
		{"unknown version", as(admin), "groups/riverside/statements/9", codes.NotFound, "STATEMENT_NOT_FOUND"},
		{"not a version", as(admin), "groups/riverside/statements/first", codes.NotFound, "STATEMENT_NOT_FOUND"},
		{"no current version yet", as(admin), current, codes.NotFound, "STATEMENT_NOT_FOUND"},
		{"unknown group", as(operatorToken), "groups/nowhere/statements/1", codes.NotFound, "GROUP_NOT_FOUND"},
	}
	for _, tc := range publishErrors {
		t.Run("publish: "+tc.name, func(t *testing.T) {
			_, err := e.client.PublishStatement(tc.ctx, &directoryv1.PublishStatementRequest{Name: tc.target})
			testenv.WantStatus(t, err, tc.code, tc.reason)
		})
	}

	published, err := e.client.PublishStatement(as(admin), &directoryv1.PublishStatementRequest{Name: v1})
	if err != nil {
		t.Fatal(err)
	}
	if published.GetState() != directoryv1.Statement_STATE_PUBLISHED || published.GetPublishTime() == nil {
		t.Errorf("published = %v", published)
	}
	_, err = e.client.PublishStatement(as(admin), &directoryv1.PublishStatementRequest{Name: v1})
	testenv.WantStatus(t, err, codes.FailedPrecondition, "STATEMENT_NOT_DRAFT")

	e.createStatement(t, as(admin), "riverside", strings.Replace(statementV1, "Respect for clients.", "Respect for clients and colleagues.", 1))
	t.Run("v2 as a draft changes nothing in public", func(t *testing.T) {
		if st := e.statement(t, as(""), current); st.GetName() != v1 {
			t.Errorf("current = %s; want %s", st.GetName(), v1)
		}
		_, err := e.client.GetStatement(as(""), &directoryv1.GetStatementRequest{Name: v2})
		testenv.WantStatus(t, err, codes.NotFound, "STATEMENT_NOT_FOUND")
		if names := e.statementNames(t, as(""), "riverside"); strings.Join(names, ",") != v1 {
			t.Errorf("anonymous list = %v", names)
		}
		if names := e.statementNames(t, as(member), "riverside"); strings.Join(names, ",") != v2+","+v1 {
			t.Errorf("member's list = %v; want newest first", names)
		}
	})

	if _, err := e.client.PublishStatement(as(operatorToken), &directoryv1.PublishStatementRequest{Name: v2}); err != nil {
		t.Fatal(err)
	}
	t.Run("publishing v2 supersedes v1", func(t *testing.T) {
		cur := e.statement(t, as(""), current)
		if cur.GetName() != v2 || cur.GetState() != directoryv1.Statement_STATE_PUBLISHED || !strings.Contains(cur.GetMarkdown(), "colleagues") {
			t.Errorf("current = %v", cur)
		}
		if old := e.statement(t, as(""), v1); old.GetState() != directoryv1.Statement_STATE_SUPERSEDED || old.GetPublishTime() == nil {
			t.Errorf("v1 = %v", old)
		}
		if names := e.statementNames(t, as(""), "riverside"); strings.Join(names, ",") != v2+","+v1 {
			t.Errorf("anonymous list = %v", names)
		}
		_, err := e.client.PublishStatement(as(admin), &directoryv1.PublishStatementRequest{Name: current})
		testenv.WantStatus(t, err, codes.FailedPrecondition, "STATEMENT_NOT_DRAFT")
		_, err = e.client.ListStatements(as(""), &directoryv1.ListStatementsRequest{Parent: "groups/riverside", PageToken: "bm9wZQ"})
		testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "page_token")
	})

	t.Run("events name the versions", func(t *testing.T) {
		var got []*eventsv1.StatementPublished
		for _, ev := range e.events(t, "statement", "published", 2) {
			var msg eventsv1.StatementPublished
			ev.decode(t, &msg)
			got = append(got, &msg)
		}
		if got[0].GetStatement() != v1 || got[0].GetSuperseded() != "" || got[1].GetStatement() != v2 || got[1].GetSuperseded() != v1 {
			t.Errorf("events = %v", got)
		}
		if got[1].GetMetadata().GetProducer() != "directory" || got[1].GetMetadata().GetGroup() != "groups/riverside" {
			t.Errorf("metadata = %v", got[1].GetMetadata())
		}
	})
}
