package cli_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/internal/cli"
	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	operatorToken = "operator-secret"
	memberToken   = "member-secret"
)

// fakeDirectory is a test double of the directory with canned answers; it
// records each request and the bearer secret it came with.
type fakeDirectory struct {
	directoryv1.UnimplementedDirectoryServiceServer
	mu       sync.Mutex
	requests []proto.Message
	bearers  []string
}

func (f *fakeDirectory) record(ctx context.Context, req proto.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	secret, _ := auth.BearerFromMetadata(ctx)
	f.requests = append(f.requests, req)
	f.bearers = append(f.bearers, secret)
}

func (f *fakeDirectory) last() (proto.Message, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return nil, ""
	}
	return f.requests[len(f.requests)-1], f.bearers[len(f.bearers)-1]
}

func (f *fakeDirectory) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// status turns a domain error into what the real directory would send.
func status(err error) error {
	return grpcserver.ToStatus(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), "/fake", err)
}

func (f *fakeDirectory) ListGroups(ctx context.Context, req *directoryv1.ListGroupsRequest) (*directoryv1.ListGroupsResponse, error) {
	f.record(ctx, req)
	// Two pages, so that the CLI must follow next_page_token.
	if req.GetPageToken() == "" {
		return &directoryv1.ListGroupsResponse{Groups: []*directoryv1.Group{{Name: "groups/alpha", DisplayName: "Alpha"}}, NextPageToken: "page2"}, nil
	}
	return &directoryv1.ListGroupsResponse{Groups: []*directoryv1.Group{{Name: "groups/beta", DisplayName: "Beta", IpnStatus: directoryv1.Group_IPN_STATUS_FORMING}}}, nil
}

func (f *fakeDirectory) GetGroup(ctx context.Context, req *directoryv1.GetGroupRequest) (*directoryv1.Group, error) {
	f.record(ctx, req)
	switch req.GetName() {
	case "groups/riverside":
		return &directoryv1.Group{Name: req.GetName(), DisplayName: "Riverside"}, nil
	case "groups/slow":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, status(fault.New(fault.NotFound, "GROUP_NOT_FOUND", "no such group"))
}

func (f *fakeDirectory) CreateGroup(ctx context.Context, req *directoryv1.CreateGroupRequest) (*directoryv1.Group, error) {
	f.record(ctx, req)
	if secret, _ := auth.BearerFromMetadata(ctx); secret != operatorToken {
		return nil, status(fault.New(fault.PermissionDenied, "OPERATOR_ONLY", "only the deployment's operator may create groups"))
	}
	g := proto.Clone(req.GetGroup()).(*directoryv1.Group)
	g.Name = "groups/" + req.GetGroupId()
	return g, nil
}

func (f *fakeDirectory) CreateMember(ctx context.Context, req *directoryv1.CreateMemberRequest) (*directoryv1.Member, error) {
	f.record(ctx, req)
	if req.GetMemberId() == "dup" {
		return nil, status(fault.New(fault.AlreadyExists, "ALREADY_EXISTS", "member already exists"))
	}
	if !strings.Contains(req.GetMember().GetContact().GetEmail(), "@") {
		var v fault.Violations
		v.Add("member.contact.email", "must be an e-mail address")
		return nil, status(v.Err())
	}
	m := proto.Clone(req.GetMember()).(*directoryv1.Member)
	m.Name = req.GetParent() + "/members/" + req.GetMemberId()
	m.State = directoryv1.Member_STATE_ACTIVE
	return m, nil
}

func (f *fakeDirectory) GetMember(ctx context.Context, req *directoryv1.GetMemberRequest) (*directoryv1.Member, error) {
	f.record(ctx, req)
	if secret, ok := auth.BearerFromMetadata(ctx); ok && secret != memberToken && secret != operatorToken {
		return nil, status(auth.ErrUnauthenticated())
	}
	return &directoryv1.Member{Name: req.GetName(), DisplayName: "Bea", Contact: &directoryv1.ContactDetails{Email: "bea@example.org"}}, nil
}

func (f *fakeDirectory) ListMembers(ctx context.Context, req *directoryv1.ListMembersRequest) (*directoryv1.ListMembersResponse, error) {
	f.record(ctx, req)
	return nil, status(errFailing)
}

// errFailing is a bug in the service: ToStatus hides it behind INTERNAL. (Not
// io.ErrUnexpectedEOF, which ToStatus takes for a connection lost under a
// query, an outage: UNAVAILABLE.)
var errFailing = errors.New("nil pointer in the member store")

func (f *fakeDirectory) DeactivateMember(ctx context.Context, req *directoryv1.DeactivateMemberRequest) (*directoryv1.Member, error) {
	f.record(ctx, req)
	return nil, status(fault.New(fault.FailedPrecondition, "LAST_ADMIN", "the group would have no active admin"))
}

func (f *fakeDirectory) CreateLinkGroup(ctx context.Context, req *directoryv1.CreateLinkGroupRequest) (*directoryv1.LinkGroup, error) {
	f.record(ctx, req)
	l := proto.Clone(req.GetLinkGroup()).(*directoryv1.LinkGroup)
	l.Name = req.GetParent() + "/linkGroups/" + req.GetLinkGroupId()
	return l, nil
}

func (f *fakeDirectory) DeleteLinkGroup(ctx context.Context, req *directoryv1.DeleteLinkGroupRequest) (*emptypb.Empty, error) {
	f.record(ctx, req)
	return &emptypb.Empty{}, nil
}

func (f *fakeDirectory) CreateStatement(ctx context.Context, req *directoryv1.CreateStatementRequest) (*directoryv1.Statement, error) {
	f.record(ctx, req)
	return &directoryv1.Statement{Name: req.GetParent() + "/statements/3", Version: 3, State: directoryv1.Statement_STATE_DRAFT, Markdown: req.GetStatement().GetMarkdown()}, nil
}

func (f *fakeDirectory) PublishStatement(ctx context.Context, req *directoryv1.PublishStatementRequest) (*directoryv1.Statement, error) {
	f.record(ctx, req)
	return nil, status(fault.New(fault.FailedPrecondition, "STATEMENT_NOT_DRAFT", "only a draft can be published"))
}

func (f *fakeDirectory) GetStatement(ctx context.Context, req *directoryv1.GetStatementRequest) (*directoryv1.Statement, error) {
	f.record(ctx, req)
	return &directoryv1.Statement{Name: req.GetName(), Version: 2, State: directoryv1.Statement_STATE_PUBLISHED, Markdown: "## Values\n\nWe listen.\n"}, nil
}

func (f *fakeDirectory) CreateAccessToken(ctx context.Context, req *directoryv1.CreateAccessTokenRequest) (*directoryv1.AccessToken, error) {
	f.record(ctx, req)
	return &directoryv1.AccessToken{Name: req.GetParent() + "/accessTokens/t1", DisplayName: req.GetAccessToken().GetDisplayName(), ExpireTime: req.GetAccessToken().GetExpireTime(), Secret: "pat_fresh_secret"}, nil
}

func (f *fakeDirectory) RevokeAccessToken(ctx context.Context, req *directoryv1.RevokeAccessTokenRequest) (*directoryv1.AccessToken, error) {
	f.record(ctx, req)
	return &directoryv1.AccessToken{Name: req.GetName()}, nil
}

func startFake(t *testing.T) (*fakeDirectory, string) {
	t.Helper()
	fake := &fakeDirectory{}
	addr := testenv.ServeGRPC(t, func(s *grpc.Server) { directoryv1.RegisterDirectoryServiceServer(s, fake) })
	return fake, addr
}

type result struct {
	code           int
	stdout, stderr string
}

// expect checks that r's output holds each of stdout and stderr. protojson
// puts one space or two after a key's colon, at random, so that nobody
// depends on its exact output: both count as one here.
func (r result) expect(t *testing.T, stdout, stderr []string) {
	t.Helper()
	out := strings.ReplaceAll(r.stdout, ":  ", ": ")
	for _, s := range stdout {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	for _, s := range stderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

func run(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, cli.IO{
		Stdin:  strings.NewReader(stdin),
		Stdout: &stdout,
		Stderr: &stderr,
		Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	return result{code, stdout.String(), stderr.String()}
}

func TestExitStatusesAndOutput(t *testing.T) {
	t.Parallel()
	fake, addr := startFake(t)
	unreachable := testenv.FreeAddr(t)
	statementFile := filepath.Join(t.TempDir(), "statement.md")
	if err := os.WriteFile(statementFile, []byte("## Values\n\nWe listen.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DIRECTORY_ADDR": addr, "DISPUTES_TOKEN": operatorToken}
	tests := []struct {
		name       string
		env        map[string]string
		stdin      string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr []string // substrings
		wantSent   bool     // whether a request reached the directory
	}{
		{name: "help lists the exit statuses", args: []string{"help"}, wantCode: 0,
			wantStdout: []string{"Exit statuses:", "  2  usage error", "  8  UNAVAILABLE"}},
		{name: "create a group", args: []string{"groups", "create", "oakfield", "--name", "Oakfield Group", "--status", "forming", "--since", "2021"}, wantCode: 0,
			wantStdout: []string{"group   groups/oakfield", "status  forming", "since   2021"}, wantSent: true},
		{name: "bare command", args: nil, wantCode: exitcode.Usage, wantStderr: []string{"disputesctl: a command is required (USAGE)"}},
		{name: "unknown command", args: []string{"grups", "list"}, wantCode: exitcode.Usage, wantStderr: []string{`unknown command "grups"`}},
		{name: "unknown subcommand", args: []string{"groups", "delete", "x"}, wantCode: exitcode.Usage, wantStderr: []string{`unknown command "delete" for "disputesctl groups"`}},
		{name: "group of commands alone", args: []string{"members"}, wantCode: exitcode.Usage},
		{name: "unknown flag", args: []string{"groups", "list", "--colour"}, wantCode: exitcode.Usage, wantStderr: []string{"unknown flag: --colour (USAGE)", "see 'disputesctl groups list --help'"}},
		{name: "missing argument", args: []string{"members", "show", "riverside"}, wantCode: exitcode.Usage, wantStderr: []string{"takes 2 argument(s): <group-id> <member-id>; got 1"}},
		{name: "missing required flag", args: []string{"members", "add", "riverside", "bea", "--name", "Bea"}, wantCode: exitcode.Usage, wantStderr: []string{`"email" not set`}},
		{name: "bad status word", args: []string{"groups", "create", "oakfield", "--name", "O", "--status", "full"}, wantCode: exitcode.Usage, wantStderr: []string{"--status must be member or forming"}},
		{name: "bad year", args: []string{"groups", "create", "oakfield", "--name", "O", "--since", "long-ago"}, wantCode: exitcode.Usage},
		{name: "link to both a local and an external group", args: []string{"links", "add", "riverside", "hill", "--name", "Hill", "--local-group", "hill", "--email", "h@example.org"}, wantCode: exitcode.Usage},
		{name: "link to nowhere", args: []string{"links", "add", "riverside", "hill", "--name", "Hill"}, wantCode: exitcode.Usage},
		{name: "gRPC endpoint for a local group", args: []string{"links", "add", "riverside", "hill", "--name", "Hill", "--local-group", "hill", "--grpc-endpoint", "h:1"}, wantCode: exitcode.Usage},
		{name: "bad statement version", args: []string{"statements", "publish", "riverside", "latest"}, wantCode: exitcode.Usage, wantStderr: []string{`version must be a number from 1, not "latest"`}},
		{name: "negative expiry", args: []string{"tokens", "issue", "riverside", "bea", "--expires", "-1h"}, wantCode: exitcode.Usage},
		{name: "demo load without a token", env: map[string]string{"DIRECTORY_ADDR": addr}, args: []string{"demo", "load"}, wantCode: exitcode.Usage, wantStderr: []string{"needs the operator token"}},
		{name: "unknown group", args: []string{"groups", "show", "nowhere"}, wantCode: exitcode.NotFound, wantSent: true,
			wantStderr: []string{"disputesctl: no such group (GROUP_NOT_FOUND)\n"}},
		{name: "revoked or wrong token", env: map[string]string{"DIRECTORY_ADDR": addr, "DISPUTES_TOKEN": "revoked"}, args: []string{"members", "show", "riverside", "bea"}, wantCode: exitcode.Denied, wantSent: true,
			wantStderr: []string{"(UNAUTHENTICATED)"}},
		{name: "member token may not create groups", args: []string{"--token", memberToken, "groups", "create", "oakfield", "--name", "O"}, wantCode: exitcode.Denied, wantSent: true,
			wantStderr: []string{"(OPERATOR_ONLY)"}},
		{name: "duplicate member", args: []string{"members", "add", "riverside", "dup", "--name", "D", "--email", "d@example.org"}, wantCode: exitcode.AlreadyExists, wantSent: true},
		{name: "bad e-mail lists the field violation", args: []string{"members", "add", "riverside", "bea", "--name", "Bea", "--email", "not-an-address"}, wantCode: exitcode.InvalidArgument, wantSent: true,
			wantStderr: []string{"(INVALID_FIELDS)\n", "disputesctl:   member.contact.email: must be an e-mail address\n"}},
		{name: "publish a non-draft", args: []string{"statements", "publish", "riverside", "1"}, wantCode: exitcode.Conflict, wantSent: true, wantStderr: []string{"(STATEMENT_NOT_DRAFT)"}},
		{name: "deactivate the last admin", args: []string{"members", "deactivate", "riverside", "alex"}, wantCode: exitcode.Conflict, wantSent: true, wantStderr: []string{"(LAST_ADMIN)"}},
		{name: "internal error of the service", args: []string{"members", "list", "riverside"}, wantCode: exitcode.Failure, wantSent: true, wantStderr: []string{"internal error (INTERNAL)"}},
		{name: "method the service does not have", args: []string{"tokens", "list", "riverside", "bea"}, wantCode: exitcode.Failure, wantSent: false, wantStderr: []string{"(UNIMPLEMENTED)"}},
		{name: "unreadable statement file", args: []string{"statements", "import", "riverside", filepath.Join(t.TempDir(), "missing.md")}, wantCode: exitcode.Failure, wantStderr: []string{"read statement"}},
		{name: "service unreachable", env: map[string]string{"DIRECTORY_ADDR": unreachable}, args: []string{"groups", "list"}, wantCode: exitcode.Unavailable,
			wantStderr: []string{"cannot reach the directory service at " + unreachable, "(UNAVAILABLE)"}},
		{name: "flag wins over the environment", env: map[string]string{"DIRECTORY_ADDR": unreachable}, args: []string{"--directory-addr", addr, "groups", "show", "riverside"}, wantCode: 0, wantSent: true,
			wantStdout: []string{"name   Riverside"}},
		{name: "service too slow", args: []string{"--timeout", "200ms", "groups", "show", "slow"}, wantCode: exitcode.Unavailable, wantSent: true,
			wantStderr: []string{"did not answer within 200ms (DEADLINE_EXCEEDED)"}},
		{name: "member sees contact details", env: map[string]string{"DIRECTORY_ADDR": addr, "DISPUTES_TOKEN": memberToken}, args: []string{"members", "show", "riverside", "bea"}, wantCode: 0, wantSent: true,
			wantStdout: []string{"member  groups/riverside/members/bea", "email   bea@example.org"}},
		{name: "issued secret is labelled", args: []string{"tokens", "issue", "riverside", "bea", "--name", "laptop", "--expires", "720h"}, wantCode: 0, wantSent: true,
			wantStdout: []string{"token    groups/riverside/members/bea/accessTokens/t1", "SECRET (shown only now", "\npat_fresh_secret\n"}},
		{name: "remove a link", args: []string{"links", "remove", "riverside", "hill"}, wantCode: 0, wantSent: true, wantStdout: []string{"removed groups/riverside/linkGroups/hill\n"}},
		{name: "import from a file", args: []string{"statements", "import", "riverside", statementFile}, wantCode: 0, wantSent: true,
			wantStdout: []string{"version    3", "state      draft", "Publish it with: disputesctl statements publish riverside 3"}},
		{name: "show the current statement", args: []string{"statements", "show", "riverside", "current"}, wantCode: 0, wantSent: true, wantStdout: []string{"state      published", "\n## Values\n\nWe listen.\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Sequential: each case checks whether it reached the one fake.
			e := env
			if tc.env != nil {
				e = tc.env
			}
			before := fake.count()
			got := run(t, e, tc.stdin, tc.args...)
			if got.code != tc.wantCode {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", got.code, tc.wantCode, got.stdout, got.stderr)
			}
			got.expect(t, tc.wantStdout, tc.wantStderr)
			if tc.wantCode != 0 && got.stdout != "" && len(tc.args) > 0 && tc.args[0] != "help" {
				t.Errorf("a failed command wrote to stdout: %q", got.stdout)
			}
			if tc.wantCode == 0 && got.stderr != "" {
				t.Errorf("a successful command wrote to stderr: %q", got.stderr)
			}
			if sent := fake.count() > before; sent != tc.wantSent {
				t.Errorf("request reached the directory: %v, want %v", sent, tc.wantSent)
			}
		})
	}
}

// TestRequests checks what the commands send: resource names built from the
// ids, every flag in its field, and the bearer secret.
func TestRequests(t *testing.T) {
	t.Parallel()
	fake, addr := startFake(t)
	tests := []struct {
		name       string
		stdin      string
		args       []string
		want       proto.Message
		wantBearer string
	}{
		{name: "group with every flag", args: []string{"groups", "create", "oakfield", "--name", "Oakfield", "--status", "member", "--since", "2004", "--meets", "monthly", "--contact", "hello@oakfield.example.org"},
			want:       &directoryv1.CreateGroupRequest{GroupId: "oakfield", Group: &directoryv1.Group{DisplayName: "Oakfield", IpnStatus: directoryv1.Group_IPN_STATUS_MEMBER_GROUP, IpnStatusSinceYear: 2004, MeetingFrequency: "monthly", PublicContact: "hello@oakfield.example.org"}},
			wantBearer: operatorToken},
		{name: "member with every flag", args: []string{"members", "add", "oakfield", "bea", "--name", "Bea", "--email", "bea@example.org", "--phone", "+44 20 7946 0000", "--admin",
			"--training", "T", "--qualifications", "Q", "--experience", "E", "--way-of-working", "W"},
			want: &directoryv1.CreateMemberRequest{Parent: "groups/oakfield", MemberId: "bea", Member: &directoryv1.Member{DisplayName: "Bea", GroupAdmin: true,
				Contact:       &directoryv1.ContactDetails{Email: "bea@example.org", Phone: "+44 20 7946 0000"},
				PublicProfile: &directoryv1.PublicProfile{Training: "T", Qualifications: "Q", Experience: "E", WayOfWorking: "W"}}},
			wantBearer: operatorToken},
		{name: "local link", args: []string{"links", "add", "oakfield", "hill", "--name", "Hill", "--local-group", "hillside"},
			want:       &directoryv1.CreateLinkGroupRequest{Parent: "groups/oakfield", LinkGroupId: "hill", LinkGroup: &directoryv1.LinkGroup{DisplayName: "Hill", Target: &directoryv1.LinkGroup_LocalGroup{LocalGroup: "groups/hillside"}}},
			wantBearer: operatorToken},
		{name: "external link", args: []string{"links", "add", "oakfield", "moor", "--name", "Moor", "--email", "m@example.org", "--grpc-endpoint", "moor.example.org:443"},
			want:       &directoryv1.CreateLinkGroupRequest{Parent: "groups/oakfield", LinkGroupId: "moor", LinkGroup: &directoryv1.LinkGroup{DisplayName: "Moor", Target: &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: "m@example.org", GrpcEndpoint: "moor.example.org:443"}}}},
			wantBearer: operatorToken},
		{name: "statement from stdin", stdin: "## Boundaries\n\nClear.\n", args: []string{"statements", "import", "oakfield", "-"},
			want: &directoryv1.CreateStatementRequest{Parent: "groups/oakfield", Statement: &directoryv1.Statement{Markdown: "## Boundaries\n\nClear.\n"}}, wantBearer: operatorToken},
		{name: "revoke with a member's own token", args: []string{"--token", memberToken, "tokens", "revoke", "oakfield", "bea", "t1"},
			want: &directoryv1.RevokeAccessTokenRequest{Name: "groups/oakfield/members/bea/accessTokens/t1"}, wantBearer: memberToken},
		{name: "issue to a link group", args: []string{"tokens", "issue", "oakfield", "moor", "--link", "--name", "partner system"},
			want: &directoryv1.CreateAccessTokenRequest{Parent: "groups/oakfield/linkGroups/moor", AccessToken: &directoryv1.AccessToken{DisplayName: "partner system"}}, wantBearer: operatorToken},
		{name: "revoke a link group's token", args: []string{"tokens", "revoke", "--link", "oakfield", "moor", "t1"},
			want: &directoryv1.RevokeAccessTokenRequest{Name: "groups/oakfield/linkGroups/moor/accessTokens/t1"}, wantBearer: operatorToken},
		{name: "public read without a token", args: []string{"--token", "", "statements", "show", "oakfield", "2"},
			want: &directoryv1.GetStatementRequest{Name: "groups/oakfield/statements/2"}, wantBearer: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"DIRECTORY_ADDR": addr, "DISPUTES_TOKEN": operatorToken}
			if tc.wantBearer == "" {
				delete(env, "DISPUTES_TOKEN")
			}
			if got := run(t, env, tc.stdin, tc.args...); got.code != 0 {
				t.Fatalf("exit status %d: %s", got.code, got.stderr)
			}
			req, bearer := fake.last()
			if !proto.Equal(req, tc.want) {
				t.Errorf("request = %v\nwant %v", req, tc.want)
			}
			if bearer != tc.wantBearer {
				t.Errorf("bearer = %q, want %q", bearer, tc.wantBearer)
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	fake, addr := startFake(t)
	before := time.Now()
	if got := run(t, map[string]string{"DIRECTORY_ADDR": addr}, "", "tokens", "issue", "riverside", "bea", "--expires", "720h"); got.code != 0 {
		t.Fatalf("exit status %d: %s", got.code, got.stderr)
	}
	req, _ := fake.last()
	exp := req.(*directoryv1.CreateAccessTokenRequest).GetAccessToken().GetExpireTime().AsTime()
	if exp.Before(before.Add(720*time.Hour)) || exp.After(time.Now().Add(720*time.Hour)) {
		t.Errorf("expire_time = %v, want 720h from now", exp)
	}
	if got := run(t, map[string]string{"DIRECTORY_ADDR": addr}, "", "tokens", "issue", "riverside", "bea"); got.code != 0 {
		t.Fatalf("exit status %d: %s", got.code, got.stderr)
	}
	req, _ = fake.last()
	if req.(*directoryv1.CreateAccessTokenRequest).GetAccessToken().GetExpireTime() != nil {
		t.Errorf("without --expires the directory's default must apply; got %v", req)
	}
}

// TestJSON checks that --json prints one protojson object holding every
// page of a list, and the secret of an issued token.
func TestJSON(t *testing.T) {
	t.Parallel()
	_, addr := startFake(t)
	env := map[string]string{"DIRECTORY_ADDR": addr, "DISPUTES_TOKEN": operatorToken}

	got := run(t, env, "", "groups", "list", "--json")
	if got.code != 0 {
		t.Fatalf("exit status %d: %s", got.code, got.stderr)
	}
	var groups directoryv1.ListGroupsResponse
	if err := protojson.Unmarshal([]byte(got.stdout), &groups); err != nil {
		t.Fatalf("decode %q: %v", got.stdout, err)
	}
	if len(groups.GetGroups()) != 2 || groups.GetGroups()[1].GetName() != "groups/beta" || groups.GetNextPageToken() != "" {
		t.Errorf("groups list --json = %v, want both pages in one object", &groups)
	}

	got = run(t, env, "", "--json", "tokens", "issue", "riverside", "bea")
	var token directoryv1.AccessToken
	if err := protojson.Unmarshal([]byte(got.stdout), &token); err != nil || token.GetSecret() != "pat_fresh_secret" {
		t.Errorf("tokens issue --json = %q (%v), want the secret", got.stdout, err)
	}

	got = run(t, env, "", "--json", "links", "remove", "riverside", "hill")
	if strings.TrimSpace(got.stdout) != "{}" {
		t.Errorf("links remove --json = %q, want {}", got.stdout)
	}
}
