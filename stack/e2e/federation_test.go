package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/stack/launch"
	"github.com/ipnmediation/disputes/stack/launch/launchtest"
	"google.golang.org/grpc/metadata"
)

// TestTwoSystemsExchangeANotice runs two whole deployments side by side,
// each its own processes, database, event stream and mail server: A serves
// the demo group riverside; B serves another group, hillside, which is one
// of riverside's link groups. Each lists the other as a federation peer
// and records the other's notification service as the link group's gRPC
// endpoint. When riverside's LP informs the link groups, hillside's notice
// travels from A's notification service to B's over the federation API and
// shows up in B's incoming notices; riverside's other link group, which
// has only an e-mail address, gets an e-mail from A, and B e-mails
// hillside's admin that the notice came. Nothing confidential crosses.
func TestTwoSystemsExchangeANotice(t *testing.T) {
	bin := launchtest.Build(t, false)
	portsA := launchtest.FreePorts(t)
	portsB := launchtest.FreePorts(t)
	for overlaps(portsA, portsB) {
		portsB = launchtest.FreePorts(t)
	}
	secret := launch.RandomSecret()
	notificationOf := func(p launch.Ports) string { return fmt.Sprintf("127.0.0.1:%d", p.Notification) }
	peer := func(name string, p launch.Ports) map[string][]string {
		return map[string][]string{"notification": {
			"FEDERATION_PEERS=" + name + "=" + secret + "@" + notificationOf(p),
			// Both run on this machine; between machines peers use TLS.
			"FEDERATION_PLAINTEXT=true",
		}}
	}
	a := startSystemWith(t, systemOptions{BinDir: bin, Ports: portsA, Settings: peer("hillside-deployment", portsB)})
	b := startSystemWith(t, systemOptions{BinDir: bin, Ports: portsB, Settings: peer("riverside-deployment", portsA)})

	// On B, the operator sets up hillside: one admin, and riverside on A
	// as a link group reached over gRPC.
	const hillsideAdmin = "groups/hillside/members/hana-ito"
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+b.OperatorToken)
	dirB := directoryv1.NewDirectoryServiceClient(b.dial(t, "directory"))
	if _, err := dirB.CreateGroup(ctx, &directoryv1.CreateGroupRequest{GroupId: "hillside", Group: &directoryv1.Group{
		DisplayName: "Hillside IPN Group (demo)", IpnStatus: directoryv1.Group_IPN_STATUS_MEMBER_GROUP, PublicContact: "contact@hillside.example.org",
	}}); err != nil {
		t.Fatalf("create hillside on B: %v", err)
	}
	if _, err := dirB.CreateMember(ctx, &directoryv1.CreateMemberRequest{Parent: "groups/hillside", MemberId: "hana-ito", Member: &directoryv1.Member{
		DisplayName: "Hana Ito", GroupAdmin: true, Contact: &directoryv1.ContactDetails{Email: "hana.ito@hillside.example.org"},
	}}); err != nil {
		t.Fatalf("create hillside's admin on B: %v", err)
	}
	if _, err := dirB.CreateLinkGroup(ctx, &directoryv1.CreateLinkGroupRequest{Parent: "groups/hillside", LinkGroupId: "riverside", LinkGroup: &directoryv1.LinkGroup{
		DisplayName: "Riverside Practitioners (demo)", Target: &directoryv1.LinkGroup_ExternalGroup{ExternalGroup: &directoryv1.ExternalGroup{
			ContactEmail: "contact@riverside.example.org", GrpcEndpoint: notificationOf(portsA),
		}},
	}}); err != nil {
		t.Fatalf("link hillside to riverside on B: %v", err)
	}
	tok, err := dirB.CreateAccessToken(ctx, &directoryv1.CreateAccessTokenRequest{Parent: hillsideAdmin, AccessToken: &directoryv1.AccessToken{DisplayName: "federation test"}})
	if err != nil {
		t.Fatal(err)
	}
	hillsideToken := tok.GetSecret()

	// On A, riverside's admin records hillside's endpoint on B, over REST:
	// a link group is replaced rather than edited.
	admin := a.Token(spcID)
	if code := a.call(t, http.MethodDelete, "/v1/groups/"+demo.GroupID+"/linkGroups/hillside", admin, nil, nil); code != http.StatusOK {
		t.Fatalf("remove hillside's e-mail-only link on A: HTTP %d", code)
	}
	if code := a.call(t, http.MethodPost, "/v1/groups/"+demo.GroupID+"/linkGroups?linkGroupId=hillside", admin, map[string]any{
		"displayName":   "Hillside IPN Group (demo)",
		"externalGroup": map[string]string{"contactEmail": "hillside.contact@example.org", "grpcEndpoint": notificationOf(portsB)},
	}, nil); code != http.StatusOK {
		t.Fatalf("link riverside to hillside on B: HTTP %d", code)
	}

	// A concern on A; the SPC and the LP are appointed; the LP informs the
	// link groups.
	marker := newMarker()
	concern := a.raiseConcern(t, marker)
	caseName := a.openedCase(t, a.Token(otherID), concern.Case)
	a.takeStep(t, caseName, a.Token(appointerID), "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{"spc": member(spcID), "lp": member(lpID)}})
	a.takeStep(t, caseName, a.Token(lpID), "inform_link_groups", nil)

	// B shows the notice to hillside's admin.
	type incoming struct {
		Name   string `json:"name"`
		Peer   string `json:"peer"`
		Notice struct {
			Kind      string `json:"kind"`
			Case      string `json:"case"`
			FromGroup struct {
				Name        string `json:"name"`
				DisplayName string `json:"displayName"`
			} `json:"fromGroup"`
		} `json:"notice"`
	}
	var notices struct {
		IncomingNotices []incoming `json:"incomingNotices"`
	}
	var raw json.RawMessage
	testenv.Eventually(t, time.Minute, "the notice to reach B", func() bool {
		code := b.call(t, http.MethodGet, "/v1/groups/hillside/incomingNotices", hillsideToken, nil, &raw)
		if code != http.StatusOK {
			t.Fatalf("B's incoming notices: HTTP %d", code)
		}
		if err := json.Unmarshal(raw, &notices); err != nil {
			t.Fatal(err)
		}
		return len(notices.IncomingNotices) > 0
	})
	if len(notices.IncomingNotices) != 1 {
		t.Fatalf("B has %d incoming notices; want 1: %s", len(notices.IncomingNotices), raw)
	}
	n := notices.IncomingNotices[0]
	if n.Peer != "riverside-deployment" || n.Notice.Kind != "KIND_LINK_GROUPS_INFORMED" || n.Notice.Case != caseName ||
		n.Notice.FromGroup.Name != "groups/"+demo.GroupID || n.Notice.FromGroup.DisplayName != "Riverside Practitioners (demo)" ||
		!strings.HasPrefix(n.Name, "groups/hillside/incomingNotices/") {
		t.Errorf("B's incoming notice: %s", raw)
	}
	if strings.Contains(string(raw), marker) {
		t.Errorf("B's incoming notice carries the client's words: %s", raw)
	}
	if code := b.call(t, http.MethodGet, "/v1/groups/hillside/incomingNotices", a.Token(spcID), nil, nil); code != http.StatusUnauthorized {
		t.Errorf("A's member reads B's incoming notices: HTTP %d, want 401", code)
	}

	// A's delivery log: hillside was told over gRPC, moorland by e-mail.
	var deliveries struct {
		Deliveries []struct {
			Recipient string `json:"recipient"`
			Channel   string `json:"channel"`
			State     string `json:"state"`
		} `json:"deliveries"`
	}
	testenv.Eventually(t, time.Minute, "both link groups' deliveries to be sent on A", func() bool {
		if code := a.call(t, http.MethodGet, "/v1/groups/"+demo.GroupID+"/deliveries?case="+caseName, admin, nil, &deliveries); code != http.StatusOK {
			t.Fatalf("A's delivery log: HTTP %d", code)
		}
		sent := map[string]string{}
		for _, d := range deliveries.Deliveries {
			if d.State == "STATE_SENT" {
				sent[d.Recipient] = d.Channel
			}
		}
		return sent["groups/"+demo.GroupID+"/linkGroups/hillside"] == "CHANNEL_GRPC" && sent["groups/"+demo.GroupID+"/linkGroups/moorland"] == "CHANNEL_EMAIL"
	})
	testenv.Eventually(t, time.Minute, "moorland's e-mail on A", func() bool {
		inbox := a.inbox(t, []string{marker})
		return len(inbox["moorland.contact@example.org"]) == 1
	})
	if inbox := a.inbox(t, []string{marker}); len(inbox["hillside.contact@example.org"]) != 0 {
		t.Errorf("hillside, reached over gRPC, was e-mailed too")
	}

	// B tells hillside's admin by e-mail, once, without the client's words.
	testenv.Eventually(t, time.Minute, "hillside's admin to be told on B", func() bool {
		return len(b.inbox(t, []string{marker})["hana.ito@hillside.example.org"]) > 0
	})
	msgs, err := b.Mail.Messages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Subject != "Riverside Practitioners (demo) has told Hillside IPN Group (demo) of a concern raised with it" {
		t.Errorf("B's e-mails: %+v; want the one to hillside's admin", msgs)
	}
}

// overlaps reports whether two systems' port sets share a port.
func overlaps(a, b launch.Ports) bool {
	seen := map[int]bool{a.Directory: true, a.Intake: true, a.Casework: true, a.Notification: true, a.Gateway: true}
	for _, p := range []int{b.Directory, b.Intake, b.Casework, b.Notification, b.Gateway} {
		if seen[p] {
			return true
		}
	}
	return false
}
