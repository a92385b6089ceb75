package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// TestFindClientCases answers a subject access request that arrives as an
// e-mail address and a telephone number: the group's admin finds exactly the
// cases of that client among several clients' cases, open and closed, each
// found case records the search in its access log and the others do not;
// nobody else may search, and nothing searched for comes back in an answer
// or an error.
func TestFindClientCases(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	const (
		janeEmail = "jane.doe@example.net"
		janePhone = "07700 900123"
	)
	now := time.Now()
	concern := func(group string, age time.Duration, email, phone string) *intakev1.Concern {
		c := newConcern(group, "FIND"+strings.ToUpper(uuid.NewString()[:8]), now.Add(-age))
		c.ClientContact = &intakev1.ClientContact{Email: email, Phone: phone}
		return c
	}
	// Jane's three cases, newest first: her e-mail as she types it today,
	// then with other capitals and spaces (closed since), then under another
	// address with her mobile written the national way.
	janeOpen := e.openWalkOf(t, concern("groups/riverside", 1*time.Hour, janeEmail, ""))
	janeClosed := e.openWalkOf(t, concern("groups/riverside", 2*time.Hour, " Jane.Doe@EXAMPLE.net ", "+44 20 7946 0000"))
	janeByPhone := e.openWalkOf(t, concern("groups/riverside", 3*time.Hour, "j.doe@work.example.org", janePhone))
	// Other people, some close to her.
	others := []*walk{
		e.openWalkOf(t, concern("groups/riverside", 4*time.Hour, "john.doe@example.net", "07700 900124")),
		e.openWalkOf(t, concern("groups/riverside", 5*time.Hour, "jane.doe@example.net.example.org", "")),
		e.openWalkOf(t, concern("groups/riverside", 6*time.Hour, "", "+44 20 7946 0123")),
	}
	janeOpen.do(t, "nominate_spt", "accept_spt", "appoint") // dana-holt becomes the SPC of one of her cases
	janeClosed.do(t, "withdraw")
	hillside := concern("groups/hillside", time.Hour, janeEmail, janePhone)
	e.register(t, hillside)
	hillsideCase := "groups/hillside/cases/" + e.caseID(t, hillside.GetName())

	admin := e.client(t, riversideToken)
	jane := []string{janeOpen.name, janeClosed.name, janeByPhone.name}
	// secrets are what a search may never echo: what was searched for in
	// every spelling used below, and what the cases hold.
	secrets := []string{janeEmail, "JANE.DOE@EXAMPLE.NET", janePhone, "7700 900123", "07700900123", "jane.doe"}
	noSecrets := func(t *testing.T, what string, m proto.Message) {
		t.Helper()
		wire, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ToLower(string(wire) + " " + m.(interface{ String() string }).String())
		for _, s := range secrets {
			if strings.Contains(text, strings.ToLower(s)) {
				t.Errorf("%s carries %q", what, s)
			}
		}
	}

	searches := []struct {
		name         string
		email, phone string
		want         []string
	}{
		{"by e-mail as registered", janeEmail, "", jane[:2]},
		{"by e-mail in other capitals and spaces", "  JANE.DOE@Example.Net ", "", jane[:2]},
		{"by telephone from abroad", "", "+44 7700 900123", jane[2:]},
		{"by either", janeEmail, "+44 (0)7700-900-123", jane},
		{"nobody's", "nobody@example.net", "0161 496 0000", []string{}},
	}
	t.Run("searches", func(t *testing.T) {
		for _, tt := range searches {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				resp, err := admin.FindClientCases(ctx, &caseworkv1.FindClientCasesRequest{
					Parent: "groups/riverside", ClientEmail: tt.email, ClientPhone: tt.phone})
				if err != nil {
					t.Fatalf("FindClientCases: %v", err)
				}
				if got := resp.GetCases(); !slices.Equal(got, tt.want) {
					t.Errorf("found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
				noSecrets(t, "the answer", resp)
			})
		}
	})

	t.Run("access log", func(t *testing.T) {
		// Every search above has answered: each case it found holds exactly
		// one record of it, and no other case holds any.
		for _, c := range append(append(append([]*walk{}, janeOpen, janeClosed, janeByPhone), others...), &walk{name: hillsideCase}) {
			want := 0
			for _, s := range searches {
				if slices.Contains(s.want, c.name) {
					want++
				}
			}
			id := c.name[strings.LastIndex(c.name, "/")+1:]
			if n := e.count(t, `SELECT count(*) FROM access_log WHERE case_id = $1 AND kind = 'CLIENT_CONTACT_SEARCH'`, id); n != want {
				t.Errorf("%s: %d search records, want %d", c.name, n, want)
			}
			if n := e.count(t, `SELECT count(*) FROM access_log WHERE case_id = $1 AND kind <> 'CLIENT_CONTACT_SEARCH'`, id); n != 0 {
				t.Errorf("%s: %d other access records, want none", c.name, n)
			}
		}
		// The case's SPC sees who searched, as what, and what it touched.
		log, err := janeOpen.clients[asSPC].ListAccessLogEntries(ctx, &caseworkv1.ListAccessLogEntriesRequest{Parent: janeOpen.name})
		if err != nil {
			t.Fatal(err)
		}
		for _, entry := range log.GetAccessLogEntries() {
			if entry.GetKind() != "CLIENT_CONTACT_SEARCH" || entry.GetReader() != "groups/riverside/members/bea-lindqvist" ||
				entry.GetReaderRole() != procedurev1.Role_ROLE_MEMBER || entry.GetResource() != janeOpen.name+"/registeredConcern" ||
				entry.GetReadTime() == nil {
				t.Errorf("access log entry %v", entry)
			}
			noSecrets(t, "the access log", entry)
		}
	})

	search := &caseworkv1.FindClientCasesRequest{Parent: "groups/riverside", ClientEmail: janeEmail, ClientPhone: janePhone}
	with := func(f func(r *caseworkv1.FindClientCasesRequest)) *caseworkv1.FindClientCasesRequest {
		r := proto.Clone(search).(*caseworkv1.FindClientCasesRequest)
		f(r)
		return r
	}
	longPhone := "0" + strings.Repeat("-", 54) + "7700900123" // 65 characters, 11 digits
	refusals := []struct {
		name       string
		client     caseworkv1.CaseworkServiceClient
		req        *caseworkv1.FindClientCasesRequest
		wantCode   codes.Code
		wantReason string
		wantFields []string
	}{
		// The contract declares FindClientCases for group admins only
		// (callers = {admin: true}): every other kind of caller is refused
		// by the platform before the handler, whatever group it names.
		{name: "a member who is not an admin", client: e.client(t, franToken), req: search, wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "the SPC of one of the cases, not an admin", client: janeOpen.clients[asSPC], req: search, wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "the client", client: janeOpen.clients[asClient], req: search, wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "a link group", client: e.client(t, linkToken), req: search, wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "the operator", client: e.client(t, operatorToken), req: search, wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "the notification service", client: caseworkv1.NewCaseworkServiceClient(dialService(t, e.addr)), req: search,
			wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		{name: "another group's member", client: e.client(t, hillsideToken), req: search, wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
		// An admin of another group is let in by the declaration, and the
		// handler answers as if the group did not exist.
		{name: "another group's admin", client: e.client(t, hillsideAdminToken), req: search, wantCode: codes.NotFound, wantReason: "GROUP_NOT_FOUND"},
		{name: "no credentials", client: e.client(t, ""), req: search, wantCode: codes.Unauthenticated, wantReason: "UNAUTHENTICATED"},
		{name: "neither e-mail nor telephone", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.ClientEmail, r.ClientPhone = "", " " }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"client_email", "client_phone"}},
		{name: "not an e-mail address", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.ClientEmail = "jane.doe.example.net" }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"client_email"}},
		{name: "two @", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.ClientEmail = "jane.doe@example.net@" }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"client_email"}},
		// Lengths and control characters are the contract's text rule
		// (max_length 254 and 64 characters, one line), applied by the
		// platform before the handler.
		{name: "an e-mail address too long", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.ClientEmail = strings.Repeat("j", 250) + "@example.net" }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"client_email"}},
		{name: "a tab after the e-mail address", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.ClientEmail = janeEmail + "\t" }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"client_email"}},
		{name: "a telephone number too long", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.ClientPhone = longPhone }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"client_phone"}},
		{name: "too few digits", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.ClientPhone = "07700" }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"client_phone"}},
		{name: "no group", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.Parent = "" }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"parent"}},
		{name: "not a group", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.Parent = "groups/riverside/cases" }),
			wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS", wantFields: []string{"parent"}},
		{name: "a group unknown to the admin", client: admin, req: with(func(r *caseworkv1.FindClientCasesRequest) { r.Parent = "groups/hillside" }),
			wantCode: codes.NotFound, wantReason: "GROUP_NOT_FOUND"},
	}
	t.Run("refusals", func(t *testing.T) {
		for _, tt := range refusals {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				resp, err := tt.client.FindClientCases(ctx, tt.req)
				if err == nil {
					t.Fatalf("FindClientCases answered %v", resp)
				}
				st := testenv.WantStatus(t, err, tt.wantCode, tt.wantReason, tt.wantFields...)
				var fields []string
				for _, d := range st.Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						for _, fv := range br.GetFieldViolations() {
							fields = append(fields, fv.GetField())
						}
					}
				}
				if !slices.Equal(fields, tt.wantFields) {
					t.Errorf("violations on %v, want %v", fields, tt.wantFields)
				}
				noSecrets(t, "the error", st.Proto())
			})
		}
	})
	// The refusals left no record anywhere.
	found := 0
	for _, s := range searches {
		found += len(s.want)
	}
	if n := e.count(t, `SELECT count(*) FROM access_log`); n != found {
		t.Errorf("%d access records after the refusals, want the %d the searches left", n, found)
	}
}
