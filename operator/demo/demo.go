// Package demo loads a fictional IPN group for trying the system out: six
// members, two link groups and a published ethical statement. Loading is
// idempotent: what exists is kept.
// Every person, address and text here is invented.
package demo

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

const week = 7 * 24 * time.Hour

// Statement is the demo group's ethical statement, invented for the demo.
//
//go:embed statement.md
var Statement string

// GroupID is the demo group's id.
const GroupID = "riverside"

// Person is a demo member.
type Person struct {
	ID, Name, Email, Training string
	Admin                     bool
}

// Members are the demo group's six members.
var Members = []Person{
	{"alex-morgan", "Alex Morgan", "alex.morgan@riverside.example.org", "Integrative psychotherapy", true},
	{"bea-lindqvist", "Bea Lindqvist", "bea.lindqvist@riverside.example.org", "Person-centred counselling", false},
	{"cal-reyes", "Cal Reyes", "cal.reyes@riverside.example.org", "Gestalt psychotherapy", false},
	{"dana-holt", "Dana Holt", "dana.holt@riverside.example.org", "Transactional analysis", false},
	{"eli-nakamura", "Eli Nakamura", "eli.nakamura@riverside.example.org", "Psychosynthesis counselling", false},
	{"fran-okafor", "Fran Okafor", "fran.okafor@riverside.example.org", "Humanistic group work", false},
}

// Credential is a member's fresh access token.
type Credential struct {
	Member Person
	Token  string
}

// Load creates the demo group, its members and link groups when missing,
// and issues each member a fresh access token.
func Load(ctx context.Context, client directoryv1.DirectoryServiceClient, operatorToken string) ([]Credential, error) {
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+operatorToken)
	_, err := client.CreateGroup(ctx, &directoryv1.CreateGroupRequest{GroupId: GroupID, Group: &directoryv1.Group{
		DisplayName:        "Riverside Practitioners (demo)",
		IpnStatus:          directoryv1.Group_IPN_STATUS_MEMBER_GROUP,
		IpnStatusSinceYear: 2004,
		MeetingFrequency:   "A half-day meeting about eight times a year",
		PublicContact:      "contact@riverside.example.org",
		ProcedureSettings: &directoryv1.ProcedureSettings{
			OverallTarget:       durationpb.New(8 * week),
			FirstResponseTarget: durationpb.New(2 * week),
		},
	}})
	if err := ignoreExisting(err); err != nil {
		return nil, fmt.Errorf("create demo group: %w", err)
	}
	for _, p := range Members {
		_, err := client.CreateMember(ctx, &directoryv1.CreateMemberRequest{
			Parent: "groups/" + GroupID, MemberId: p.ID,
			Member: &directoryv1.Member{
				DisplayName: p.Name, GroupAdmin: p.Admin,
				Contact:       &directoryv1.ContactDetails{Email: p.Email},
				PublicProfile: &directoryv1.PublicProfile{Training: p.Training, WayOfWorking: "Works with adults, individually and in groups."},
			},
		})
		if err := ignoreExisting(err); err != nil {
			return nil, fmt.Errorf("create demo member %s: %w", p.ID, err)
		}
	}
	for _, l := range []struct{ id, name, email string }{
		{"hillside", "Hillside IPN Group (demo)", "hillside.contact@example.org"},
		{"moorland", "Moorland IPN Group (demo)", "moorland.contact@example.org"},
	} {
		_, err := client.CreateLinkGroup(ctx, &directoryv1.CreateLinkGroupRequest{
			Parent: "groups/" + GroupID, LinkGroupId: l.id,
			LinkGroup: &directoryv1.LinkGroup{DisplayName: l.name, Target: &directoryv1.LinkGroup_ExternalGroup{
				ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: l.email},
			}},
		})
		if err := ignoreExisting(err); err != nil {
			return nil, fmt.Errorf("create demo link group %s: %w", l.id, err)
		}
	}
	if err := publishStatement(ctx, client); err != nil {
		return nil, err
	}
	creds := make([]Credential, 0, len(Members))
	for _, p := range Members {
		tok, err := client.CreateAccessToken(ctx, &directoryv1.CreateAccessTokenRequest{
			Parent:      "groups/" + GroupID + "/members/" + p.ID,
			AccessToken: &directoryv1.AccessToken{DisplayName: "demo"},
		})
		if err != nil {
			return nil, fmt.Errorf("issue demo token for %s: %w", p.ID, err)
		}
		creds = append(creds, Credential{Member: p, Token: tok.GetSecret()})
	}
	return creds, nil
}

// ignoreExisting treats "already there" as success, so loading twice is safe.
func ignoreExisting(err error) error {
	switch status.Code(err) {
	case codes.OK, codes.AlreadyExists:
		return nil
	case codes.FailedPrecondition: // the link groups are already complete
		return nil
	}
	return err
}

// publishStatement publishes the demo statement unless the group already has
// one in force.
func publishStatement(ctx context.Context, client directoryv1.DirectoryServiceClient) error {
	_, err := client.GetStatement(ctx, &directoryv1.GetStatementRequest{Name: "groups/" + GroupID + "/statements/current"})
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.NotFound:
	default:
		return fmt.Errorf("read the demo statement: %w", err)
	}
	draft, err := client.CreateStatement(ctx, &directoryv1.CreateStatementRequest{
		Parent:    "groups/" + GroupID,
		Statement: &directoryv1.Statement{Markdown: Statement},
	})
	if err != nil {
		return fmt.Errorf("import the demo statement: %w", err)
	}
	if _, err := client.PublishStatement(ctx, &directoryv1.PublishStatementRequest{Name: draft.GetName()}); err != nil {
		return fmt.Errorf("publish the demo statement: %w", err)
	}
	return nil
}
