package render_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/internal/render"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var joined = timestamppb.New(time.Date(2025, 3, 4, 9, 30, 0, 0, time.UTC))

func TestHumanOutput(t *testing.T) {
	t.Parallel()
	alex := &directoryv1.Member{
		Name: "groups/riverside/members/alex-morgan", DisplayName: "Alex Morgan", GroupAdmin: true,
		State:         directoryv1.Member_STATE_ACTIVE,
		Contact:       &directoryv1.ContactDetails{Email: "alex@example.org"},
		PublicProfile: &directoryv1.PublicProfile{Training: "Gestalt\npsychotherapy"},
		JoinTime:      joined,
	}
	bea := &directoryv1.Member{Name: "groups/riverside/members/bea", DisplayName: "Bea", State: directoryv1.Member_STATE_INACTIVE}
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
		want  string
	}{
		{"member table aligns columns and dashes missing values", func(b *bytes.Buffer) error {
			return render.Members(b, []*directoryv1.Member{alex, bea})
		}, "" +
			"ID           NAME         STATE     ROLE   EMAIL\n" +
			"alex-morgan  Alex Morgan  active    admin  alex@example.org\n" +
			"bea          Bea          inactive  -      -\n"},
		{"member record leaves out what is unset and keeps free text on one line", func(b *bytes.Buffer) error {
			return render.Member(b, alex)
		}, "" +
			"member    groups/riverside/members/alex-morgan\n" +
			"name      Alex Morgan\n" +
			"state     active\n" +
			"admin     yes\n" +
			"email     alex@example.org\n" +
			"training  Gestalt psychotherapy\n" +
			"joined    2025-03-04T09:30Z\n"},
		{"group record shows settings in days", func(b *bytes.Buffer) error {
			return render.Group(b, &directoryv1.Group{
				Name: "groups/riverside", DisplayName: "Riverside", IpnStatus: directoryv1.Group_IPN_STATUS_MEMBER_GROUP, IpnStatusSinceYear: 2004,
				ProcedureSettings: &directoryv1.ProcedureSettings{OverallTarget: durationpb.New(56 * 24 * time.Hour), ReminderOffsets: []*durationpb.Duration{durationpb.New(7 * 24 * time.Hour), durationpb.New(36 * time.Hour)}},
			})
		}, "" +
			"group           groups/riverside\n" +
			"name            Riverside\n" +
			"status          member\n" +
			"since           2004\n" +
			"overall target  56d\n" +
			"reminders       7d, 36h0m0s\n"},
		{"link groups say where each is", func(b *bytes.Buffer) error {
			return render.LinkGroups(b, []*directoryv1.LinkGroup{
				{Name: "groups/riverside/linkGroups/hillside", DisplayName: "Hillside", Target: &directoryv1.LinkGroup_LocalGroup{LocalGroup: "groups/hillside"}},
				{Name: "groups/riverside/linkGroups/moor", DisplayName: "Moorland", Target: &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{ContactEmail: "m@example.org", GrpcEndpoint: "moor.example.org:443"}}},
			})
		}, "" +
			"ID        NAME      WHERE\n" +
			"hillside  Hillside  groups/hillside\n" +
			"moor      Moorland  m@example.org (gRPC moor.example.org:443)\n"},
		{"statement versions", func(b *bytes.Buffer) error {
			return render.Statements(b, []*directoryv1.Statement{
				{Version: 2, State: directoryv1.Statement_STATE_DRAFT, CreateTime: joined, Sections: []*directoryv1.StatementSection{{Title: "Values"}}},
				{Version: 1, State: directoryv1.Statement_STATE_PUBLISHED, CreateTime: joined, PublishTime: joined},
			})
		}, "" +
			"VERSION  STATE      CREATED            PUBLISHED          SECTIONS\n" +
			"2        draft      2025-03-04T09:30Z  -                  1\n" +
			"1        published  2025-03-04T09:30Z  2025-03-04T09:30Z  0\n"},
		{"statement with its markdown", func(b *bytes.Buffer) error {
			return render.Statement(b, &directoryv1.Statement{Name: "groups/r/statements/1", Version: 1, State: directoryv1.Statement_STATE_SUPERSEDED,
				Markdown: "## Values\n\nWe listen.\n\n", Sections: []*directoryv1.StatementSection{{Markdown: "Preamble"}, {Title: "Values"}, {Title: "Confidentiality"}}})
		}, "" +
			"statement  groups/r/statements/1\n" +
			"version    1\n" +
			"state      superseded\n" +
			"sections   Values, Confidentiality\n" +
			"\n## Values\n\nWe listen.\n"},
		{"issued token ends with the labelled secret", func(b *bytes.Buffer) error {
			return render.IssuedToken(b, &directoryv1.AccessToken{Name: "groups/r/members/a/accessTokens/t1", DisplayName: "laptop", Secret: "pat_s3cr3t"})
		}, "" +
			"token  groups/r/members/a/accessTokens/t1\n" +
			"name   laptop\n" +
			"\nSECRET (shown only now; it cannot be shown again, store it safely):\npat_s3cr3t\n"},
		{"token table never shows secrets", func(b *bytes.Buffer) error {
			return render.AccessTokens(b, []*directoryv1.AccessToken{{Name: "groups/r/members/a/accessTokens/t1", DisplayName: "laptop", Secret: "pat_s3cr3t", CreateTime: joined, RevokeTime: joined}})
		}, "" +
			"ID  NAME    CREATED            EXPIRES  LAST USED  REVOKED\n" +
			"t1  laptop  2025-03-04T09:30Z  -        -          2025-03-04T09:30Z\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestJSONRoundTrips(t *testing.T) {
	t.Parallel()
	in := &directoryv1.ListMembersResponse{Members: []*directoryv1.Member{{Name: "groups/r/members/a", DisplayName: "A", GroupAdmin: true, JoinTime: joined}}}
	var b bytes.Buffer
	if err := render.JSON(&b, in); err != nil {
		t.Fatal(err)
	}
	// protojson varies its whitespace on purpose, so the field is matched
	// whatever the spaces.
	if !regexp.MustCompile(`"groupAdmin":\s*true`).MatchString(b.String()) || !strings.HasSuffix(b.String(), "}\n") {
		t.Errorf("JSON = %s; want REST field names and a final newline", b.String())
	}
	out := &directoryv1.ListMembersResponse{}
	if err := protojson.Unmarshal(b.Bytes(), out); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, out) {
		t.Errorf("round trip = %v, want %v", out, in)
	}
}
