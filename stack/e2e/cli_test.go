package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/stack/launch"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// disputesctl runs the built operator CLI against a running system.
type disputesctl struct {
	path, directoryAddr string
	// env is more environment, over the defaults run sets: the TLS
	// settings of a run against a system with mutual TLS, say.
	env []string
}

// buildCLI builds disputesctl beside the system's binaries, to run against
// its directory.
func (s *system) buildCLI(t *testing.T) disputesctl {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := launch.Build(ctx, root, s.BinDir, "disputesctl"); err != nil {
		t.Fatal(err)
	}
	return disputesctl{path: filepath.Join(s.BinDir, "disputesctl"), directoryAddr: s.Addr("directory")}
}

// ctlResult is one run of disputesctl.
type ctlResult struct {
	code           int
	stdout, stderr string
}

// run runs disputesctl with token in DISPUTES_TOKEN (none when empty).
func (c disputesctl) run(t *testing.T, token string, args ...string) ctlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, args...)
	// Later entries win, so the caller's own settings cannot leak in: not
	// even TLS settings in the tester's shell, unless c.env sets them.
	cmd.Env = append(os.Environ(), "DIRECTORY_ADDR="+c.directoryAddr, "DISPUTES_TOKEN="+token, "TLS_CERT_FILE=", "TLS_KEY_FILE=", "TLS_CA_FILE=")
	cmd.Env = append(cmd.Env, c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("disputesctl %v: %v", args, err)
	}
	return ctlResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// want runs disputesctl and fails the test unless it exits with code.
func (c disputesctl) want(t *testing.T, code int, token string, args ...string) ctlResult {
	t.Helper()
	r := c.run(t, token, args...)
	if r.code != code {
		t.Fatalf("disputesctl %s: exit status %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	if code != 0 && !strings.HasPrefix(r.stderr, "disputesctl: ") {
		t.Errorf("disputesctl %s: stderr %q does not start with \"disputesctl: \"", strings.Join(args, " "), r.stderr)
	}
	return r
}

// decode reads the protojson object a --json command printed.
func decode[M proto.Message](t *testing.T, r ctlResult, m M) M {
	t.Helper()
	if err := protojson.Unmarshal([]byte(r.stdout), m); err != nil {
		t.Fatalf("decode %q: %v", r.stdout, err)
	}
	return m
}

// TestOperatorCLI drives the built disputesctl binary, as an operator and as
// members, against the real services: every command, --json output, and the
// exit statuses scripts rely on.
func TestOperatorCLI(t *testing.T) {
	s := startSystem(t)
	ctl := s.buildCLI(t)
	op := s.OperatorToken

	// A group with an admin and a member.
	ctl.want(t, 0, op, "groups", "create", "oakfield", "--name", "Oakfield Practitioners (test)", "--status", "member", "--since", "2011",
		"--meets", "Monthly", "--contact", "hello@oakfield.example.org")
	ctl.want(t, 0, op, "members", "add", "oakfield", "ann-admin", "--name", "Ann Admin", "--email", "ann@oakfield.example.org", "--admin",
		"--training", "Integrative psychotherapy", "--way-of-working", "Adults, individually")
	r := ctl.want(t, 0, op, "members", "add", "oakfield", "ben-member", "--name", "Ben Member", "--email", "ben@oakfield.example.org", "--phone", "+44 20 7946 0123")
	if !strings.Contains(r.stdout, "groups/oakfield/members/ben-member") || !regexp.MustCompile(`(?m)^state +active$`).MatchString(r.stdout) {
		t.Errorf("members add printed %q", r.stdout)
	}
	groups := decode(t, ctl.want(t, 0, "", "groups", "list", "--json"), &directoryv1.ListGroupsResponse{})
	if !slices.ContainsFunc(groups.GetGroups(), func(g *directoryv1.Group) bool {
		return g.GetName() == "groups/oakfield" && g.GetIpnStatus() == directoryv1.Group_IPN_STATUS_MEMBER_GROUP && g.GetIpnStatusSinceYear() == 2011
	}) {
		t.Errorf("groups list --json = %v, want oakfield as a member group since 2011", groups)
	}

	// Two link groups: one in this deployment, one elsewhere; a third is refused.
	ctl.want(t, 0, op, "links", "add", "oakfield", "riverside", "--name", "Riverside Practitioners", "--local-group", demo.GroupID)
	ctl.want(t, 0, op, "links", "add", "oakfield", "moorland", "--name", "Moorland IPN Group", "--email", "moorland@example.org", "--grpc-endpoint", "moorland.example.org:443")
	ctl.want(t, 7, op, "links", "add", "oakfield", "fenland", "--name", "Fenland", "--email", "fen@example.org")
	links := decode(t, ctl.want(t, 0, op, "links", "list", "oakfield", "--json"), &directoryv1.ListLinkGroupsResponse{})
	want := &directoryv1.ListLinkGroupsResponse{LinkGroups: []*directoryv1.LinkGroup{
		{Name: "groups/oakfield/linkGroups/moorland", DisplayName: "Moorland IPN Group", Target: &directoryv1.LinkGroup_ExternalGroup{
			ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: "moorland@example.org", GrpcEndpoint: "moorland.example.org:443"}}},
		{Name: "groups/oakfield/linkGroups/riverside", DisplayName: "Riverside Practitioners", Target: &directoryv1.LinkGroup_LocalGroup{LocalGroup: "groups/" + demo.GroupID}},
	}}
	for _, l := range links.GetLinkGroups() {
		if l.GetExternalGroup().GetContactEmail() == "" && l.GetLocalGroup() == "" {
			t.Errorf("link group %s has no target in an operator's listing", l.GetName())
		}
		l.CreateTime = nil
	}
	if !proto.Equal(links, want) {
		t.Errorf("links list --json =\n%v\nwant\n%v", links, want)
	}
	// Anyone sees the link groups' names, not how to reach them.
	r = ctl.want(t, 0, "", "links", "list", "oakfield")
	if !strings.Contains(r.stdout, "Moorland IPN Group") || strings.Contains(r.stdout, "moorland@example.org") {
		t.Errorf("links list without a token:\n%s\nwant the names without contact e-mails", r.stdout)
	}

	// An ethical statement: imported as a draft from a Markdown file, then
	// published; a published version cannot be published again.
	file := filepath.Join(t.TempDir(), "statement.md")
	markdown := "# Oakfield's ethical statement\n\n## Values\n\nWe listen.\n\n## Confidentiality\n\nWhat is said stays here.\n"
	if err := os.WriteFile(file, []byte(markdown), 0o600); err != nil {
		t.Fatal(err)
	}
	r = ctl.want(t, 0, op, "statements", "import", "oakfield", file)
	if !strings.Contains(r.stdout, "state      draft") || !strings.Contains(r.stdout, "statements publish oakfield 1") {
		t.Errorf("statements import printed %q", r.stdout)
	}
	ctl.want(t, 0, op, "statements", "publish", "oakfield", "1")
	ctl.want(t, 7, op, "statements", "publish", "oakfield", "1")
	current := decode(t, ctl.want(t, 0, "", "statements", "show", "oakfield", "current", "--json"), &directoryv1.Statement{})
	var titles []string
	for _, sec := range current.GetSections() {
		titles = append(titles, sec.GetTitle())
	}
	if current.GetVersion() != 1 || current.GetState() != directoryv1.Statement_STATE_PUBLISHED || !slices.Equal(titles, []string{"", "Values", "Confidentiality"}) {
		t.Errorf("current statement = version %d, %v, sections %q; want version 1, published, the untitled opening, Values and Confidentiality", current.GetVersion(), current.GetState(), titles)
	}
	statements := decode(t, ctl.want(t, 0, op, "statements", "list", "oakfield", "--json"), &directoryv1.ListStatementsResponse{})
	if len(statements.GetStatements()) != 1 {
		t.Errorf("statements list --json = %v, want one version", statements)
	}

	// A token for Ben, shown once; with it Ben sees his own group's contact
	// details but not another group's, and may not act as the operator.
	issued := decode(t, ctl.want(t, 0, op, "tokens", "issue", "oakfield", "ben-member", "--name", "e2e laptop", "--expires", "1h", "--json"), &directoryv1.AccessToken{})
	if issued.GetSecret() == "" || issued.GetDisplayName() != "e2e laptop" {
		t.Fatalf("tokens issue --json = %v, want a secret and the name", issued)
	}
	if left := time.Until(issued.GetExpireTime().AsTime()); left <= 0 || left > time.Hour {
		t.Errorf("token expires in %v, want within the hour", left)
	}
	ben := issued.GetSecret()
	r = ctl.want(t, 0, ben, "members", "show", "oakfield", "ann-admin")
	if !strings.Contains(r.stdout, "ann@oakfield.example.org") {
		t.Errorf("a member of the group does not see a colleague's e-mail:\n%s", r.stdout)
	}
	r = ctl.want(t, 0, ben, "members", "show", demo.GroupID, demo.Members[0].ID)
	if strings.Contains(r.stdout, demo.Members[0].Email) || strings.Contains(r.stdout, "email") {
		t.Errorf("a member of another group sees contact details:\n%s", r.stdout)
	}
	ctl.want(t, 4, ben, "groups", "create", "benland", "--name", "Ben's group")
	human := ctl.want(t, 0, op, "tokens", "issue", "oakfield", "ann-admin")
	if !strings.Contains(human.stdout, "SECRET (shown only now") {
		t.Errorf("tokens issue does not label the secret:\n%s", human.stdout)
	}
	tokens := decode(t, ctl.want(t, 0, ben, "tokens", "list", "oakfield", "ben-member", "--json"), &directoryv1.ListAccessTokensResponse{})
	if len(tokens.GetAccessTokens()) != 1 || tokens.GetAccessTokens()[0].GetName() != issued.GetName() || tokens.GetAccessTokens()[0].GetSecret() != "" {
		t.Fatalf("tokens list --json = %v, want Ben's one token without its secret", tokens)
	}

	// Revoked, the token stops working at the directory at once.
	tokenID := issued.GetName()[strings.LastIndex(issued.GetName(), "/")+1:]
	ctl.want(t, 0, op, "tokens", "revoke", "oakfield", "ben-member", tokenID)
	r = ctl.want(t, 4, ben, "members", "show", "oakfield", "ann-admin")
	if !strings.Contains(r.stderr, "(UNAUTHENTICATED)") {
		t.Errorf("revoked token: stderr %q, want the UNAUTHENTICATED reason", r.stderr)
	}

	// Ben leaves; his record stays.
	ctl.want(t, 0, op, "members", "deactivate", "oakfield", "ben-member")
	active := decode(t, ctl.want(t, 0, op, "members", "list", "oakfield", "--active", "--json"), &directoryv1.ListMembersResponse{})
	if len(active.GetMembers()) != 1 || active.GetMembers()[0].GetName() != "groups/oakfield/members/ann-admin" {
		t.Errorf("members list --active --json = %v, want only Ann", active)
	}
	all := decode(t, ctl.want(t, 0, op, "members", "list", "oakfield", "--json"), &directoryv1.ListMembersResponse{})
	if len(all.GetMembers()) != 2 || all.GetMembers()[1].GetState() != directoryv1.Member_STATE_INACTIVE || all.GetMembers()[1].GetLeaveTime() == nil {
		t.Errorf("members list --json = %v, want Ben inactive with a leave time", all)
	}

	// A link is removed to make room for another.
	ctl.want(t, 0, op, "links", "remove", "oakfield", "moorland")
	ctl.want(t, 0, op, "links", "add", "oakfield", "fenland", "--name", "Fenland", "--email", "fen@example.org")

	// Exit statuses for the failures scripts branch on.
	ctl.want(t, 3, op, "groups", "show", "nowhere")
	ctl.want(t, 3, op, "members", "add", "nowhere", "cat", "--name", "Cat", "--email", "cat@example.org")
	ctl.want(t, 5, op, "members", "add", "oakfield", "ann-admin", "--name", "Ann Again", "--email", "ann2@oakfield.example.org")
	r = ctl.want(t, 6, op, "members", "add", "oakfield", "cat", "--name", "Cat", "--email", "not-an-address")
	if !strings.Contains(r.stderr, "member.contact.email: ") {
		t.Errorf("bad e-mail: stderr %q lacks the field violation", r.stderr)
	}
	if strings.Contains(r.stderr, "not-an-address") {
		t.Errorf("the rejected contact detail is echoed: %q", r.stderr)
	}
	ctl.want(t, 2, op, "groups", "create")
	ctl.want(t, 2, op, "members", "add", "oakfield", "cat", "--name", "Cat")
	ctl.want(t, 2, op, "groups", "frobnicate")
	ctl.want(t, 8, op, "--directory-addr", testenv.FreeAddr(t), "groups", "list")

	// demo load is idempotent: the demo group is already there; it issues
	// fresh tokens that work.
	var loaded struct {
		Group  string `json:"group"`
		Tokens []struct {
			Member, Secret string
		} `json:"tokens"`
	}
	r = ctl.want(t, 0, op, "demo", "load", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &loaded); err != nil {
		t.Fatalf("demo load --json: %v\n%s", err, r.stdout)
	}
	if loaded.Group != "groups/"+demo.GroupID || len(loaded.Tokens) != len(demo.Members) {
		t.Fatalf("demo load --json = %+v, want %d tokens for groups/%s", loaded, len(demo.Members), demo.GroupID)
	}
	r = ctl.want(t, 0, loaded.Tokens[1].Secret, "members", "show", demo.GroupID, demo.Members[0].ID)
	if !strings.Contains(r.stdout, demo.Members[0].Email) {
		t.Errorf("a demo member's fresh token does not show a colleague's e-mail:\n%s", r.stdout)
	}
	members := decode(t, ctl.want(t, 0, op, "members", "list", demo.GroupID, "--json"), &directoryv1.ListMembersResponse{})
	if len(members.GetMembers()) != len(demo.Members) {
		t.Errorf("demo group has %d members after a second load, want %d", len(members.GetMembers()), len(demo.Members))
	}
}
