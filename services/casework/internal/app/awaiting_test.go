package app

import (
	"context"
	"encoding/json"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/ipnmediation/disputes/platform/postgres"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/ipnmediation/disputes/services/casework/migrations"
)

// theMembers are the walk's members, each with their token's key: the
// therapist, the SPT (first a nominee), the SPC, the LP, a member with no
// role and bea-lindqvist, who appoints the support people.
var theMembers = []string{asTherapist, asSPT, asSPC, asLP, asOther, asAppointer}

// listNames returns the names of every case of riverside that c lists
// with r's filters, reading every page.
func listNames(t *testing.T, c caseworkv1.CaseworkServiceClient, r *caseworkv1.ListCasesRequest) []string {
	t.Helper()
	r.Parent, r.PageToken = "groups/riverside", ""
	var names []string
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("paging does not end")
		}
		resp, err := c.ListCases(context.Background(), r)
		if err != nil {
			t.Fatalf("ListCases %v: %v", r, err)
		}
		for _, cs := range resp.GetCases() {
			names = append(names, cs.GetName())
		}
		if r.PageToken = resp.GetNextPageToken(); r.PageToken == "" {
			return names
		}
	}
}

// checkAwaiting holds, for each member, ListCases's awaiting filters (the
// stored answer, through SQL) to the case's next steps as that member reads
// them: the case is among the cases awaiting the member exactly when one of
// its next steps that is not optional has callerMayTake, and among the
// others exactly when it is open and none has. It returns the members the
// case waits for.
func checkAwaiting(t *testing.T, clients map[string]caseworkv1.CaseworkServiceClient, name, when string) []string {
	t.Helper()
	var awaited []string
	for _, who := range theMembers {
		c, err := clients[who].GetCase(context.Background(), &caseworkv1.GetCaseRequest{Name: name})
		if err != nil {
			t.Fatalf("%s: %s GetCase: %v", when, who, err)
		}
		mayTake := slices.ContainsFunc(c.GetNextSteps(), func(n *caseworkv1.NextStep) bool { return n.GetCallerMayTake() && !n.GetOptional() })
		open := c.GetOutcome() == caseworkv1.Case_OUTCOME_UNSPECIFIED
		mine := slices.Contains(listNames(t, clients[who], &caseworkv1.ListCasesRequest{Awaiting: caseworkv1.ListCasesRequest_AWAITING_CALLER}), name)
		others := slices.Contains(listNames(t, clients[who], &caseworkv1.ListCasesRequest{Awaiting: caseworkv1.ListCasesRequest_AWAITING_OTHERS}), name)
		if mine != mayTake || others != (open && !mayTake) {
			t.Errorf("%s: %s may take a step the case waits for: %v; listed as awaiting them %v, among the others %v",
				when, who, mayTake, mine, others)
		}
		if mayTake {
			awaited = append(awaited, who)
		}
	}
	return awaited
}

// TestAwaitingAgreesWithNextSteps walks cases through every step of the
// procedure, its branches and a withdrawal, and after each step (and before
// the first) holds the stored answer to whom the case waits for to the
// next steps each member reads.
func TestAwaitingAgreesWithNextSteps(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	paths := map[string][]string{
		"the long path": longPath,
		"a declined nomination, other times, changes asked for, resolved": {
			"nominate_spt", "decline_spt", "nominate_spt", "accept_spt", "appoint", "offer_client", "other_times_client",
			"offer_client", "accept_client", "write", "request_changes", "write", "approve", "convey", "respond", "relay",
			"resolved", "close_resolved",
		},
		"withdrawn": {"appoint", "nominate_spt", "withdraw"},
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := e.openWalk(t, "AWAIT"+strings.ToUpper(uuid.NewString()[:8]))
			everAwaited, everNot := map[string]bool{}, map[string]bool{}
			note := func(awaited []string) {
				for _, who := range theMembers {
					if slices.Contains(awaited, who) {
						everAwaited[who] = true
					} else {
						everNot[who] = true
					}
				}
			}
			note(checkAwaiting(t, w.clients, w.name, "opened"))
			for i, key := range path {
				w.do(t, key)
				note(checkAwaiting(t, w.clients, w.name, key+" (step "+strconv.Itoa(i+1)+")"))
			}
			// Every member is awaited somewhere along the long path and not
			// awaited somewhere, or the walk proves little.
			if name == "the long path" && (len(everAwaited) != len(theMembers) || len(everNot) != len(theMembers)) {
				t.Errorf("members ever awaited %v, ever not %v; want every member in both", everAwaited, everNot)
			}
		})
	}
}

// TestListCasesOrderAndTotal: order_by deadline lists the soonest deadline
// first, page tokens carry their order, total_size counts every page, and
// the refusals name the field.
func TestListCasesOrderAndTotal(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	// Registered an hour apart: riverside's target is the same for all, so
	// the deadlines come in the order of registration.
	var walks []*walk
	for i := range 3 {
		c := newConcern("groups/riverside", "ORDER"+strings.ToUpper(uuid.NewString()[:8]), time.Now().Add(-time.Duration(4-i)*time.Hour))
		walks = append(walks, e.openWalkOf(t, c))
	}
	oldest, middle, newest := walks[0], walks[1], walks[2]
	// A new case waits for every member but the therapist to appoint the
	// support people; the oldest has them, and waits for its role holders
	// alone, not for fran-okafor, who holds no role; the newest is closed.
	oldest.do(t, "appoint")
	newest.do(t, "withdraw")
	fran := oldest.clients[asOther]
	ctx := context.Background()

	tests := []struct {
		name  string
		who   string
		req   *caseworkv1.ListCasesRequest
		want  []string
		total int32
	}{
		{"newest first", asOther, &caseworkv1.ListCasesRequest{}, []string{newest.name, middle.name, oldest.name}, 3},
		{"soonest deadline first", asOther, &caseworkv1.ListCasesRequest{OrderBy: "deadline"}, []string{oldest.name, middle.name, newest.name}, 3},
		{"open only", asOther, &caseworkv1.ListCasesRequest{OpenOnly: true, OrderBy: "deadline"}, []string{oldest.name, middle.name}, 2},
		{"awaiting fran", asOther, &caseworkv1.ListCasesRequest{Awaiting: caseworkv1.ListCasesRequest_AWAITING_CALLER, OrderBy: "deadline"}, []string{middle.name}, 1},
		{"not awaiting fran", asOther, &caseworkv1.ListCasesRequest{Awaiting: caseworkv1.ListCasesRequest_AWAITING_OTHERS, OrderBy: "deadline"}, []string{oldest.name}, 1},
		{"awaiting the SPC", asSPC, &caseworkv1.ListCasesRequest{Awaiting: caseworkv1.ListCasesRequest_AWAITING_CALLER, OrderBy: "deadline"}, []string{oldest.name, middle.name}, 2},
		{"closed", asOther, &caseworkv1.ListCasesRequest{Phase: procedurev1.Phase_PHASE_CLOSED}, []string{newest.name}, 1},
		// The operator may take no step: nothing waits for it, and every
		// open case is among the others.
		{"awaiting the operator", asOperator, &caseworkv1.ListCasesRequest{Awaiting: caseworkv1.ListCasesRequest_AWAITING_CALLER}, nil, 0},
		{"not awaiting the operator", asOperator, &caseworkv1.ListCasesRequest{Awaiting: caseworkv1.ListCasesRequest_AWAITING_OTHERS}, []string{middle.name, oldest.name}, 2},
		// A client's list is their own case, whatever the filter says.
		{"the client", asClient, &caseworkv1.ListCasesRequest{Awaiting: caseworkv1.ListCasesRequest_AWAITING_OTHERS, OrderBy: "deadline"}, []string{oldest.name}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := oldest.clients[tt.who]
			// A page at a time, each saying the same total.
			var got []string
			r := proto1(tt.req)
			r.Parent, r.PageSize = "groups/riverside", 1
			for page := 0; ; page++ {
				if page > 5 {
					t.Fatal("paging does not end")
				}
				resp, err := client.ListCases(ctx, r)
				if err != nil {
					t.Fatalf("page %d: %v", page, err)
				}
				if resp.GetTotalSize() != tt.total {
					t.Errorf("page %d: total_size %d, want %d", page, resp.GetTotalSize(), tt.total)
				}
				for _, c := range resp.GetCases() {
					got = append(got, c.GetName())
				}
				if r.PageToken = resp.GetNextPageToken(); r.PageToken == "" {
					break
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("cases %v\nwant %v", got, tt.want)
			}
		})
	}

	// A token is good for the order it was made in only.
	first, err := fran.ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: "groups/riverside", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	byDeadline, err := fran.ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: "groups/riverside", PageSize: 1, OrderBy: "deadline"})
	if err != nil {
		t.Fatal(err)
	}
	refusals := []struct {
		name  string
		req   *caseworkv1.ListCasesRequest
		field string
	}{
		{"an order ListCases does not know", &caseworkv1.ListCasesRequest{OrderBy: "deadline desc"}, "order_by"},
		{"an order by another field", &caseworkv1.ListCasesRequest{OrderBy: "register_time"}, "order_by"},
		{"a newest-first token under deadline", &caseworkv1.ListCasesRequest{OrderBy: "deadline", PageToken: first.GetNextPageToken()}, "page_token"},
		{"a deadline token under newest first", &caseworkv1.ListCasesRequest{PageToken: byDeadline.GetNextPageToken()}, "page_token"},
		{"an awaiting filter ListCases does not know", &caseworkv1.ListCasesRequest{Awaiting: 7}, "awaiting"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.req.Parent = "groups/riverside"
			_, err := fran.ListCases(ctx, tt.req)
			st := testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS")
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, fv := range br.GetFieldViolations() {
						fields = append(fields, fv.GetField())
					}
				}
			}
			if !slices.Equal(fields, []string{tt.field}) {
				t.Errorf("violations on %v; want %s", fields, tt.field)
			}
		})
	}
}

// proto1 is a copy of r, so that parallel subtests do not share a request.
func proto1(r *caseworkv1.ListCasesRequest) *caseworkv1.ListCasesRequest {
	return &caseworkv1.ListCasesRequest{Phase: r.GetPhase(), OpenOnly: r.GetOpenOnly(), Awaiting: r.GetAwaiting(), OrderBy: r.GetOrderBy()}
}

// TestAwaitingFilledAtStart: a case written before migration 009, by the
// casework of the time, waits for the right members as soon as casework
// serves: the migration cannot work it out, casework does at start.
func TestAwaitingFilledAtStart(t *testing.T) {
	t.Parallel()
	url := testenv.Database(t)
	ctx := context.Background()
	before, err := postgres.Open(ctx, url, "casework", beforeMigration("009"))
	if err != nil {
		t.Fatal(err)
	}
	// Nominated and appointed: the nominee (cal) is to answer, the LP (eli)
	// to inform the link groups, the SPC (dana) to offer the client a
	// meeting; the others wait for nothing.
	id := uuid.NewString()
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	progress, err := json.Marshal(casefile.Progress{Entries: 3, Taken: []casefile.TakenStep{
		{Step: "nominate_spt", Actor: therapist, Role: casefile.RoleTherapist, Time: at},
		{Step: "appoint_spc_and_lp", Actor: "groups/riverside/members/bea-lindqvist", Role: casefile.RoleMember, Time: at},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = before.Exec(ctx, `
		INSERT INTO cases (id, group_id, concern, reference, therapist, phase, register_time, deadline,
		                   concern_text, client_name, create_time, first_response_deadline, spt_nominee, spc, lp, progress, version)
		VALUES ($1, 'riverside', $2, 'ABCD-EFGH', $3, 'SUPPORT_APPOINTED', $4, $5, 'confidential', 'Sam', $4, $6, $7, $8, $9, $10, 3)`,
		id, "groups/riverside/concerns/"+id, therapist, at, at.Add(eightWeeks), at.Add(14*24*time.Hour), spt, spc, lp, progress)
	before.Close()
	if err != nil {
		t.Fatal(err)
	}

	e := startCasework(t, func(c *Config) { c.DatabaseURL = url })
	w := &walk{e: e, name: "groups/riverside/cases/" + id}
	w.clients = map[string]caseworkv1.CaseworkServiceClient{
		asTherapist: e.client(t, alexToken), asSPT: e.client(t, calToken), asSPC: e.client(t, danaToken),
		asLP: e.client(t, eliToken), asOther: e.client(t, franToken), asAppointer: e.client(t, riversideToken),
	}
	// No waiting: the service reports SERVING only once it has filled in.
	awaited := checkAwaiting(t, w.clients, w.name, "at start")
	if want := []string{asSPT, asSPC, asLP}; !slices.Equal(awaited, want) {
		t.Errorf("awaited %v; want %v", awaited, want)
	}
}

// beforeMigration is casework's migrations before the one numbered first,
// as an older casework applied them.
func beforeMigration(first string) fs.FS {
	return migrationsBefore{migrations.FS, first}
}

// migrationsBefore hides the migrations from first on.
type migrationsBefore struct {
	fs.ReadDirFS
	first string
}

func (m migrationsBefore) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := m.ReadDirFS.ReadDir(name)
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() >= m.first }), err
}
