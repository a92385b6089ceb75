package app

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
)

// TestLinkGroupSeesCaseOnlyOnceInformed: until the LP has informed the link
// groups, a link group that knows a case's name is told, by every call it
// may make about a case, exactly what it is told of a case that does not
// exist; once informed, it reads its progress summary, its part of the
// timeline, and may raise its issue when the procedure reaches it.
func TestLinkGroupSeesCaseOnlyOnceInformed(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "LINK"+strings.ToUpper(uuid.NewString()[:8]))
	// Far along, but the link groups never informed: a statement, a
	// meeting, the client's approval.
	w.do(t, "nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write", "approve")
	link := w.clients[asLinkGroup]
	nowhere := "groups/riverside/cases/" + uuid.NewString()

	// Each call about the case named caseName.
	calls := []struct {
		name string
		call func(caseName string) error
		// afterCode and afterReason are the answer once informed.
		afterCode   codes.Code
		afterReason string
	}{
		{"GetCase", func(n string) error {
			c, err := link.GetCase(ctx, &caseworkv1.GetCaseRequest{Name: n})
			if err == nil && (!c.GetProgressSummary() || c.GetReference() != "" || c.GetTherapist() != "") {
				t.Errorf("the link group reads more than a summary: %v", c)
			}
			return err
		}, codes.OK, ""},
		{"ListTimelineEntries", func(n string) error {
			_, err := link.ListTimelineEntries(ctx, &caseworkv1.ListTimelineEntriesRequest{Parent: n})
			return err
		}, codes.OK, ""},
		{"ListDocuments", func(n string) error {
			d, err := link.ListDocuments(ctx, &caseworkv1.ListDocumentsRequest{Parent: n})
			if len(d.GetDocuments()) > 0 {
				t.Errorf("the link group reads documents: %v", d)
			}
			return err
		}, codes.OK, ""},
		{"GetDocument", func(n string) error {
			_, err := link.GetDocument(ctx, &caseworkv1.GetDocumentRequest{Name: strings.Replace(w.draft, w.name, n, 1)})
			return err
		}, codes.NotFound, "DOCUMENT_NOT_FOUND"},
		{"TakeStep record_link_group_issue", func(n string) error {
			_, err := link.TakeStep(ctx, &caseworkv1.TakeStepRequest{Name: n, Step: "record_link_group_issue", Input: textInput("An issue.", "")})
			return err
		}, codes.FailedPrecondition, "STEP_NOT_READY"},
	}
	for _, c := range calls {
		err, missing := c.call(w.name), c.call(nowhere)
		wantCode(t, c.name+" before the link groups are informed", err, codes.NotFound, "CASE_NOT_FOUND", "")
		if got, want := status.Convert(err).Message(), strings.Replace(status.Convert(missing).Message(), nowhere, w.name, 1); got != want {
			t.Errorf("%s: %q; a case that does not exist gives %q", c.name, got, want)
		}
	}
	// The list of cases is never a link group's, informed or not.
	if list, err := link.ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: "groups/riverside"}); status.Code(err) != codes.PermissionDenied || len(list.GetCases()) > 0 {
		t.Errorf("the link group lists cases: %v %v", list, err)
	}

	w.do(t, "inform")
	for _, c := range calls {
		err := c.call(w.name)
		if status.Code(err) != c.afterCode || reasonOf(err) != c.afterReason {
			t.Errorf("%s once informed: %v (%s); want %v %s", c.name, err, reasonOf(err), c.afterCode, c.afterReason)
		}
	}
	if list, err := link.ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: "groups/riverside"}); status.Code(err) != codes.PermissionDenied || len(list.GetCases()) > 0 {
		t.Errorf("the link group lists cases once informed: %v %v", list, err)
	}
	entries, err := link.ListTimelineEntries(ctx, &caseworkv1.ListTimelineEntriesRequest{Parent: w.name})
	if err != nil || len(entries.GetTimelineEntries()) != 1 || entries.GetTimelineEntries()[0].GetStep() != "inform_link_groups" {
		t.Errorf("the link group's timeline once informed: %v %v", entries, err)
	}
}

// TestLinkGroupSeesItsOwnNextSteps: a link group's progress summary lists
// the next steps it may take itself, and no other: none until the LP has
// reported progress, then its own issue (repeatable, so still there after
// it raised one), while the LP sees the group's next steps too; nothing
// once the case is closed.
func TestLinkGroupSeesItsOwnNextSteps(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	w := e.openWalk(t, "NEXT"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "nominate_spt", "accept_spt", "appoint", "inform", "propose_group", "availability", "confirm_group",
		"offer_client", "accept_client", "write", "approve", "convey", "respond", "relay", "not_resolved")

	steps := func(c *caseworkv1.Case) map[string]bool {
		out := map[string]bool{}
		for _, n := range c.GetNextSteps() {
			out[n.GetStep()] = n.GetCallerMayTake()
		}
		return out
	}
	issue := map[string]bool{"record_link_group_issue": true}
	tests := []struct {
		name string
		// before are the scripted steps taken first.
		before []string
		want   map[string]bool
	}{
		{"before the LP reports progress", nil, map[string]bool{}},
		{"once the LP has reported progress", []string{"report"}, issue},
		{"after raising an issue", []string{"issue"}, issue},
		{"once the case is closed", []string{"group_decision", "close_unresolved"}, map[string]bool{}},
	}
	for _, tc := range tests { // in order: each goes on from the last
		w.do(t, tc.before...)
		c := w.get(t, asLinkGroup)
		if got := steps(c); !c.GetProgressSummary() || !maps.Equal(got, tc.want) {
			t.Errorf("%s: the link group's next steps are %v (summary %v), want %v", tc.name, got, c.GetProgressSummary(), tc.want)
		}
		if lp := steps(w.get(t, asLP)); len(tc.want) > 0 && (len(lp) <= len(tc.want) || !lp["record_link_group_issue"]) {
			t.Errorf("%s: the LP's next steps are %v; the test wants the link group's to be fewer", tc.name, lp)
		}
	}
}
