package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	federationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	"github.com/ipnmediation/disputes/stack/launch"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// listCall is one List method as the round trip calls it over REST.
type listCall struct {
	// method is the RPC, for example "ListMembers".
	method string
	// path is the list's REST path, without the query.
	path string
	// token is a caller who may list.
	token string
	// items is the JSON key of the listed resources.
	items string
	// readBack reads one listed name through its Get and returns what went
	// wrong, or "".
	readBack func(t *testing.T, name string) string
	// empty says the list may be empty, and why.
	empty string
}

// TestEveryListedNameReadsBack calls every List method over REST, found
// from the contract so that a new one fails here until it is added, as a
// caller who may, after making data so that every list has something in
// it, and reads every name each returns back through its Get method
// (GET /v1/{name}), as the caller who listed it.
func TestEveryListedNameReadsBack(t *testing.T) {
	// A peer deployment this one accepts notices from, at an endpoint one of
	// the group's link groups names, so that a group here has an incoming
	// notice. Nothing listens there; nothing is sent there either.
	const peerEndpoint = "127.0.0.1:9"
	peerSecret := launch.RandomSecret()
	s := startSystemWith(t, systemOptions{Settings: map[string][]string{
		"notification": {"FEDERATION_PEERS=roundtrip=" + peerSecret + "@" + peerEndpoint},
	}})
	group := "groups/" + demo.GroupID
	// The case's SPC is one of the group's admins: one token for both.
	admin := s.Token(spcID)
	spc := admin
	member := s.Token(otherID)
	ctx := context.Background()

	// A case with something in every list a case has: a meeting, a
	// message, a note, a document, timeline entries, an access-log entry.
	concern := s.raiseConcern(t, newMarker())
	var session struct {
		Token string `json:"token"`
	}
	if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]string{
		"reference": concern.Reference, "accessCode": concern.AccessCode,
	}, &session); code != http.StatusOK {
		t.Fatalf("client session: HTTP %d", code)
	}
	caseName := s.listedCase(t, member, concern.Name)
	s.takeStep(t, caseName, s.Token(therapistID), "nominate_spt", map[string]any{"member": "groups/" + demo.GroupID + "/members/" + sptID})
	s.takeStep(t, caseName, s.Token(sptID), "answer_spt_nomination", map[string]any{"outcome": "ACCEPTED"})
	s.takeStep(t, caseName, s.Token(appointerID), "appoint_spc_and_lp", map[string]any{"appointment": map[string]string{
		"spc": "groups/" + demo.GroupID + "/members/" + spcID, "lp": "groups/" + demo.GroupID + "/members/" + lpID}})
	var offered struct {
		Created string `json:"created"`
	}
	if code := s.call(t, http.MethodPost, "/v1/"+caseName+":takeStep", spc, map[string]any{"step": "offer_client_meeting", "meetingProposal": roundTripSlots()}, &offered); code != http.StatusOK {
		t.Fatalf("offer_client_meeting: HTTP %d", code)
	}
	s.takeStep(t, caseName, session.Token, "answer_client_meeting", map[string]any{"outcome": "ACCEPTED", "meetingAnswer": map[string]any{"meeting": offered.Created, "slots": []int{1}}})
	s.takeStep(t, caseName, spc, "write_statement", map[string]any{"writtenStatement": map[string]string{
		"concern": "Sessions ended early.", "desiredOutcome": "An explanation.", "summary": "The ending felt abrupt.",
	}})
	for _, w := range []struct{ token, path string }{
		{session.Token, "/messages"}, {spc, "/messages"}, {spc, "/notes"},
	} {
		if code := s.call(t, http.MethodPost, "/v1/"+caseName+w.path, w.token, map[string]string{"text": "A few words."}, nil); code != http.StatusOK {
			t.Fatalf("POST %s: HTTP %d", w.path, code)
		}
	}
	if code := s.call(t, http.MethodGet, "/v1/"+caseName+"/registeredConcern", spc, nil, nil); code != http.StatusOK {
		t.Fatalf("the SPC reads the concern (an access-log entry): HTTP %d", code)
	}

	// A draft statement beside the published one.
	if code := s.call(t, http.MethodPost, "/v1/"+group+"/statements", admin, map[string]string{"markdown": "## Values\n\nRespect."}, nil); code != http.StatusOK {
		t.Fatalf("a draft statement: HTTP %d", code)
	}

	// Hillside becomes a link group at the peer's endpoint, with a token of
	// its own; the peer sends riverside a notice over gRPC.
	if code := s.call(t, http.MethodDelete, "/v1/"+group+"/linkGroups/hillside", admin, nil, nil); code != http.StatusOK {
		t.Fatalf("remove hillside: HTTP %d", code)
	}
	if code := s.call(t, http.MethodPost, "/v1/"+group+"/linkGroups?linkGroupId=hillside", admin, map[string]any{
		"displayName": "Hillside IPN Group (demo)", "externalGroup": map[string]string{"contactEmail": "hillside.contact@example.org", "grpcEndpoint": peerEndpoint},
	}, nil); code != http.StatusOK {
		t.Fatalf("link hillside at the peer: HTTP %d", code)
	}
	if code := s.call(t, http.MethodPost, "/v1/"+group+"/linkGroups/hillside/accessTokens", admin, map[string]string{"displayName": "Round trip"}, nil); code != http.StatusOK {
		t.Fatalf("a link group token: HTTP %d", code)
	}
	peerCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer federation:"+peerSecret)
	if _, err := federationv1.NewFederationServiceClient(s.dial(t, "notification")).DeliverNotice(peerCtx, &federationv1.DeliverNoticeRequest{Notice: &federationv1.Notice{
		Id: uuid.NewString(), FromGroup: &federationv1.FromGroup{Name: "groups/elsewhere", DisplayName: "Elsewhere IPN Group"},
		ToLinkGroup: group, Kind: federationv1.Notice_KIND_LINK_GROUPS_INFORMED,
		Case: "groups/elsewhere/cases/" + uuid.NewString(), SentTime: timestamppb.Now(),
	}}); err != nil {
		t.Fatalf("the peer's notice: %v", err)
	}

	// An event casework parks: a concern registered while the group names
	// a procedure casework does not know (written past the directory's
	// check). It stays parked until the test has listed it and read it
	// back; then the procedure is put back.
	db, err := pgx.Connect(ctx, s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	var procedure string
	if err := db.QueryRow(ctx, `SELECT procedure_name FROM directory.groups WHERE id = $1`, demo.GroupID).Scan(&procedure); err != nil {
		t.Fatal(err)
	}
	setProcedure := func(name string) {
		t.Helper()
		if _, err := db.Exec(ctx, `UPDATE directory.groups SET procedure_name = $2 WHERE id = $1`, demo.GroupID, name); err != nil {
			t.Fatal(err)
		}
	}
	setProcedure("procedures/unknown-v9")
	defer setProcedure(procedure)
	s.raiseConcern(t, newMarker())
	testenv.Eventually(t, time.Minute, "casework to park an event", func() bool {
		return len(s.listAll(t, listCall{path: "/v1/services/casework/parkedEvents", token: s.OperatorToken, items: "parkedEvents"})) > 0
	})

	// The deliveries of the concerns' e-mails.
	testenv.Eventually(t, time.Minute, "deliveries", func() bool {
		return len(s.listAll(t, listCall{path: "/v1/" + group + "/deliveries", token: admin, items: "deliveries"})) > 0
	})

	// A member session, from a sign-in link read in the mail.
	email := strings.ReplaceAll(otherID, "-", ".") + "@riverside.example.org"
	if code := s.call(t, http.MethodPost, "/v1/signInLinks:request", "", map[string]string{"group": group, "email": email}, nil); code != http.StatusOK {
		t.Fatalf("asking for a sign-in link: HTTP %d", code)
	}
	_, secret := s.signInMail(t, email, map[string]bool{})
	if code := s.call(t, http.MethodPost, "/v1/memberSessions", "", map[string]string{"secret": secret}, nil); code != http.StatusOK {
		t.Fatalf("signing in with the link: HTTP %d", code)
	}

	get := func(token string) func(t *testing.T, name string) string {
		return func(t *testing.T, name string) string { return s.getName(t, token, name) }
	}
	lists := []listCall{
		{method: "ListGroups", path: "/v1/groups", items: "groups", readBack: get("")},
		{method: "ListMembers", path: "/v1/" + group + "/members", token: member, items: "members", readBack: get(member)},
		{method: "ListLinkGroups", path: "/v1/" + group + "/linkGroups", items: "linkGroups", readBack: get("")},
		{method: "ListStatements", path: "/v1/" + group + "/statements", token: member, items: "statements", readBack: get(member)},
		{method: "ListAccessTokens", path: "/v1/" + group + "/members/" + otherID + "/accessTokens", token: member, items: "accessTokens", readBack: get(member)},
		{method: "ListAccessTokens", path: "/v1/" + group + "/linkGroups/hillside/accessTokens", token: admin, items: "accessTokens", readBack: get(admin)},
		{method: "ListMemberSessions", path: "/v1/" + group + "/members/" + otherID + "/sessions", token: member, items: "memberSessions", readBack: get(member)},
		{method: "ListProcedures", path: "/v1/procedures", items: "procedures", readBack: get("")},
		{method: "ListCases", path: "/v1/" + group + "/cases", token: member, items: "cases", readBack: get(member)},
		{method: "ListTimelineEntries", path: "/v1/" + caseName + "/timelineEntries", token: spc, items: "timelineEntries", readBack: get(spc)},
		{method: "ListDocuments", path: "/v1/" + caseName + "/documents", token: spc, items: "documents", readBack: get(spc)},
		{method: "ListMeetings", path: "/v1/" + caseName + "/meetings", token: spc, items: "meetings", readBack: get(spc)},
		{method: "ListMessages", path: "/v1/" + caseName + "/messages", token: spc, items: "messages", readBack: get(spc)},
		{method: "ListNotes", path: "/v1/" + caseName + "/notes", token: spc, items: "notes", readBack: get(spc)},
		{method: "ListAccessLogEntries", path: "/v1/" + caseName + "/accessLogEntries", token: spc, items: "accessLogEntries", readBack: get(spc)},
		{method: "ListDeliveries", path: "/v1/" + group + "/deliveries", token: admin, items: "deliveries", readBack: get(admin)},
		{method: "ListTemplates", path: "/v1/" + group + "/templates", token: admin, items: "templates",
			readBack: func(t *testing.T, name string) string {
				if problem := s.getName(t, admin, name); problem != "" {
					return problem
				}
				if code := s.call(t, http.MethodPost, "/v1/"+name+":preview", admin, map[string]string{}, nil); code != http.StatusOK {
					return "PreviewTemplate: HTTP " + strconv.Itoa(code)
				}
				return ""
			}},
		{method: "ListIncomingNotices", path: "/v1/" + group + "/incomingNotices", token: admin, items: "incomingNotices", readBack: get(admin)},
	}
	for _, service := range launch.Services {
		l := listCall{method: "ListParkedEvents", path: "/v1/services/" + service + "/parkedEvents", token: s.OperatorToken, items: "parkedEvents",
			readBack: get(s.OperatorToken)}
		if service != "casework" {
			l.empty = "only casework's consumer has an event to park here"
		}
		lists = append(lists, l)
	}

	// Every List method of the contract is called.
	called := map[string]bool{}
	for _, l := range lists {
		called[l.method] = true
	}
	for _, md := range listMethods() {
		if !called[string(md.Name())] {
			t.Errorf("%s is not called: add it to the round trip", md.FullName())
		}
	}

	for _, l := range lists {
		t.Run(l.method, func(t *testing.T) {
			names := s.listAll(t, l)
			if len(names) == 0 && l.empty == "" {
				t.Fatalf("%s lists nothing; the test made data for it", l.path)
			}
			for _, name := range names {
				if problem := l.readBack(t, name); problem != "" {
					t.Errorf("%s from %s does not read back: %s", name, l.method, problem)
				}
			}
		})
	}
}

// listedCase waits until casework has opened the concern's case and
// returns its name, as the holder of token lists the group's cases.
func (s *system) listedCase(t *testing.T, token, concern string) string {
	t.Helper()
	var name string
	testenv.Eventually(t, 30*time.Second, "the case to open", func() bool {
		var list struct {
			Cases []struct {
				Name    string `json:"name"`
				Concern string `json:"concern"`
			} `json:"cases"`
		}
		if code := s.call(t, http.MethodGet, "/v1/groups/"+demo.GroupID+"/cases", token, nil, &list); code == http.StatusOK {
			for _, c := range list.Cases {
				if c.Concern == concern {
					name = c.Name
				}
			}
		}
		return name != ""
	})
	return name
}

// listAll calls a list, page by page, and returns every name it gives.
func (s *system) listAll(t *testing.T, l listCall) []string {
	t.Helper()
	var names []string
	for token := ""; ; {
		var page map[string]json.RawMessage
		path := l.path + "?pageSize=200&pageToken=" + url.QueryEscape(token)
		if l.method == "ListTemplates" || l.method == "ListProcedures" {
			path = l.path // not paged
		}
		if code := s.call(t, http.MethodGet, path, l.token, nil, &page); code != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", path, code)
		}
		var items []struct {
			Name string `json:"name"`
		}
		if raw, ok := page[l.items]; ok {
			if err := json.Unmarshal(raw, &items); err != nil {
				t.Fatalf("GET %s: %s: %v", path, l.items, err)
			}
		}
		for _, it := range items {
			if it.Name == "" {
				t.Errorf("GET %s lists a resource without a name", path)
			}
			names = append(names, it.Name)
		}
		token = ""
		if raw, ok := page["nextPageToken"]; ok {
			_ = json.Unmarshal(raw, &token)
		}
		if token == "" {
			return names
		}
	}
}

// getName reads name through its Get method over REST, GET /v1/{name}, and
// says what went wrong, or "".
func (s *system) getName(t *testing.T, token, name string) string {
	t.Helper()
	var got struct {
		Name string `json:"name"`
	}
	code := s.call(t, http.MethodGet, "/v1/"+name, token, nil, &got)
	switch {
	case code != http.StatusOK:
		return "GET: HTTP " + strconv.Itoa(code)
	case got.Name != name:
		return "GET answers " + got.Name
	}
	return ""
}

// listMethods is every List method of the contract with a REST route.
func listMethods() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "ipn.disputes.") {
			return true
		}
		for i := 0; i < fd.Services().Len(); i++ {
			methods := fd.Services().Get(i).Methods()
			for j := 0; j < methods.Len(); j++ {
				if md := methods.Get(j); strings.HasPrefix(string(md.Name()), "List") && len(testenv.HTTPRules(md)) > 0 {
					out = append(out, md)
				}
			}
		}
		return true
	})
	return out
}

// roundTripSlots is a meeting proposal of two slots a week ahead.
func roundTripSlots() map[string]any {
	start := time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Hour)
	var slots []map[string]string
	for i := range 2 {
		from := start.Add(time.Duration(i) * 24 * time.Hour)
		slots = append(slots, map[string]string{"startTime": from.Format(time.RFC3339), "endTime": from.Add(time.Hour).Format(time.RFC3339)})
	}
	return map[string]any{"slots": slots, "location": "the group's room"}
}
