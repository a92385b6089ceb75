package app

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Step titles of the cases ListCases shows. Addresses: alex therapist of
// both open cases, cal SPT, eli SPC, fay LP of fullCase, dee nominee of
// earlyCase.
const (
	titleRelay     = "The SPC relays the response"
	titleGroupMeet = "The group meets about the concern"
	titleSPTReads  = "The SPT reads the statement"
	titleNominee   = "The nominee answers"
	titleClosed    = "A step in a closed case"
)

// closedCase is closed and still lists a step for the SPC, which no digest
// may show.
var closedCase = group + "/cases/" + uuid.NewString()

// ListCases shows the group's cases one a page, so the client must follow
// page tokens. The cases carry the reference and a concern name as a
// leak would show them.
func (fakeCasework) ListCases(ctx context.Context, req *caseworkv1.ListCasesRequest) (*caseworkv1.ListCasesResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetParent() != group {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	step := func(id, title string, roles ...procedurev1.Role) *caseworkv1.NextStep {
		return &caseworkv1.NextStep{Step: id, Title: title, Actors: roles}
	}
	all := []*caseworkv1.Case{
		{Name: fullCase, Reference: caseReference, Concern: group + "/concerns/" + canaryConcern, Therapist: memberName("alex-moss"),
			Spt: memberName("cal-nash"), Spc: memberName("eli-park"), Lp: memberName("fay-quinn"), Phase: procedurev1.Phase_PHASE_WITH_THERAPIST,
			NextSteps: []*caseworkv1.NextStep{
				step("relay_response", titleRelay, procedurev1.Role_ROLE_SPC),
				// Open to every member but the therapist, as appointing
				// the SPC and the LP is.
				withExcluded(step("group_meeting", titleGroupMeet, procedurev1.Role_ROLE_MEMBER), procedurev1.Role_ROLE_THERAPIST),
				step("spt_reads", titleSPTReads, procedurev1.Role_ROLE_SPT, procedurev1.Role_ROLE_CLIENT),
			}},
		{Name: earlyCase, Reference: caseReference, Therapist: memberName("alex-moss"), SptNominee: memberName("dee-okoro"),
			Phase: procedurev1.Phase_PHASE_REGISTERED, NextSteps: []*caseworkv1.NextStep{step("answer_spt_nomination", titleNominee, procedurev1.Role_ROLE_NOMINEE)}},
		{Name: closedCase, Reference: caseReference, Therapist: memberName("cal-nash"), Spc: memberName("eli-park"),
			Phase: procedurev1.Phase_PHASE_CLOSED, NextSteps: []*caseworkv1.NextStep{step("late", titleClosed, procedurev1.Role_ROLE_SPC, procedurev1.Role_ROLE_MEMBER)}},
	}
	start, _ := strconv.Atoi(req.GetPageToken())
	resp := &caseworkv1.ListCasesResponse{Cases: all[start : start+1]}
	if start+1 < len(all) {
		resp.NextPageToken = strconv.Itoa(start + 1)
	}
	return resp, nil
}

func TestDigestSettings(t *testing.T) {
	t.Parallel()
	r := startNotification(t, options{smtpAddr: testenv.StartMailpit(t).SMTPAddr})
	ctx := context.Background()
	cal := memberName("cal-nash") + "/digestSettings"
	bea := memberName("bea-lund") + "/digestSettings"

	got, err := r.client(t, memberToken).GetDigestSettings(ctx, &notificationv1.GetDigestSettingsRequest{Name: cal})
	if err != nil || got.GetName() != cal || got.GetEnabled() || got.GetEtag() == "" {
		t.Fatalf("GetDigestSettings before any: %v, %v", got, err)
	}
	on, err := r.client(t, memberToken).UpdateDigestSettings(ctx, &notificationv1.UpdateDigestSettingsRequest{
		DigestSettings: &notificationv1.DigestSettings{Name: cal, Enabled: true, Etag: got.GetEtag()}})
	if err != nil || !on.GetEnabled() || on.GetEtag() == got.GetEtag() {
		t.Fatalf("opting in: %v, %v", on, err)
	}
	for _, secret := range []string{memberToken, adminToken} {
		if read, err := r.client(t, secret).GetDigestSettings(ctx, &notificationv1.GetDigestSettingsRequest{Name: cal}); err != nil || !read.GetEnabled() || read.GetEtag() != on.GetEtag() {
			t.Errorf("read by %s: %v, %v", secret, read, err)
		}
	}

	tests := []struct {
		name   string
		secret string
		get    bool
		target string
		etag   string
		code   codes.Code
		reason string
	}{
		{"a stale etag", memberToken, false, cal, got.GetEtag(), codes.Aborted, "ETAG_MISMATCH"},
		{"an admin changing a member's", adminToken, false, cal, "", codes.PermissionDenied, "OWN_DIGEST_SETTINGS_ONLY"},
		{"a member reading another's", memberToken, true, bea, "", codes.PermissionDenied, "OWN_DIGEST_SETTINGS_ONLY"},
		{"a member changing another's", memberToken, false, bea, "", codes.PermissionDenied, "OWN_DIGEST_SETTINGS_ONLY"},
		{"another group's admin reading", otherGroupToken, true, cal, "", codes.NotFound, "GROUP_NOT_FOUND"},
		{"the operator reading", operatorToken, true, cal, "", codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"the operator changing", operatorToken, false, cal, "", codes.PermissionDenied, "CALLER_NOT_ALLOWED"},
		{"a service", "", true, cal, "", codes.Unauthenticated, ""},
		{"not a digest settings name", memberToken, true, memberName("cal-nash"), "", codes.InvalidArgument, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := r.client(t, tt.secret)
			var err error
			if tt.get {
				_, err = c.GetDigestSettings(ctx, &notificationv1.GetDigestSettingsRequest{Name: tt.target})
			} else {
				_, err = c.UpdateDigestSettings(ctx, &notificationv1.UpdateDigestSettingsRequest{
					DigestSettings: &notificationv1.DigestSettings{Name: tt.target, Enabled: false, Etag: tt.etag}})
			}
			if status.Code(err) != tt.code {
				t.Fatalf("code %v (%v); want %v", status.Code(err), err, tt.code)
			}
			if tt.reason != "" && reasonOf(err) != tt.reason {
				t.Errorf("error %v; want reason %s", err, tt.reason)
			}
		})
	}
	// Refusals changed nothing.
	if read, err := r.client(t, memberToken).GetDigestSettings(ctx, &notificationv1.GetDigestSettingsRequest{Name: cal}); err != nil || !read.GetEnabled() {
		t.Errorf("after the refusals: %v, %v", read, err)
	}
	// Over gRPC false cannot be told from unset: without an update mask
	// nothing is set, so nothing changes (AIP-134); naming enabled, by its
	// name or as *, turns the digest off. A path that names nothing is
	// refused.
	member := r.client(t, memberToken)
	if same, err := member.UpdateDigestSettings(ctx, &notificationv1.UpdateDigestSettingsRequest{
		DigestSettings: &notificationv1.DigestSettings{Name: cal, Enabled: false}}); err != nil || !same.GetEnabled() || same.GetEtag() != on.GetEtag() {
		t.Errorf("an update without a mask that sets nothing: %v, %v; want the settings as they were", same, err)
	}
	_, err = member.UpdateDigestSettings(ctx, &notificationv1.UpdateDigestSettingsRequest{
		DigestSettings: &notificationv1.DigestSettings{Name: cal}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"enabled", "frequency"}}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "update_mask") {
		t.Errorf("an unknown path: %v; want INVALID_ARGUMENT on update_mask", err)
	}
	for _, paths := range [][]string{{"enabled"}, {"*"}} {
		off, err := member.UpdateDigestSettings(ctx, &notificationv1.UpdateDigestSettingsRequest{
			DigestSettings: &notificationv1.DigestSettings{Name: cal, Enabled: false}, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
		if err != nil || off.GetEnabled() {
			t.Errorf("opting out with the mask %v: %v, %v", paths, off, err)
		}
	}
}

// reasonOf is the ErrorInfo reason of err, "" without one.
func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(interface{ GetReason() string }); ok {
			return info.GetReason()
		}
	}
	return ""
}

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestDailyDigest(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	clock := &testClock{now: time.Date(2026, 3, 2, 6, 59, 0, 0, time.UTC)}
	var passes atomic.Int64
	o := options{smtpAddr: mailpit.SMTPAddr, dbURL: testenv.Database(t), ns: testenv.Namespace(t),
		now: clock.Now, digestPassed: func() { passes.Add(1) }}
	ctx := context.Background()
	// awaitPasses waits until the digest job has made n more passes.
	awaitPasses := func(t *testing.T, n int64) {
		t.Helper()
		target := passes.Load() + n
		testenv.Eventually(t, time.Minute, "digest passes", func() bool { return passes.Load() >= target })
	}
	// Who wants a digest: alex (the therapist, nothing of theirs to do),
	// bea (an admin holding no role), cal (SPT), eli (SPC). dee (the
	// nominee) has not opted in.
	want := map[string][]string{
		emailOf("bea-lund"): {titleGroupMeet},
		emailOf("cal-nash"): {titleGroupMeet, titleSPTReads},
		emailOf("eli-park"): {titleRelay, titleGroupMeet},
	}
	allTitles := []string{titleRelay, titleGroupMeet, titleSPTReads, titleNominee, titleClosed}
	check := func(t *testing.T, days int) {
		t.Helper()
		got := map[string]int{}
		for _, m := range received(t, mailpit) {
			to := m.To[0].Address
			got[to]++
			titles, ok := want[to]
			if !ok {
				t.Errorf("a digest went to %s", to)
				continue
			}
			body, err := mailpit.Body(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, title := range allTitles {
				if has := strings.Contains(body.Text, title) && strings.Contains(body.HTML, title); has != slices.Contains(titles, title) {
					t.Errorf("digest to %s: has %q = %v; want %v", to, title, has, !has)
				}
			}
			if !strings.Contains(body.Text, fullCase) {
				t.Errorf("digest to %s does not name the case", to)
			}
			raw, err := mailpit.Raw(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, canary := range []string{canaryClientName, canaryConcern, "CANARY", caseReference, "+44", "Alex Moss", clientEmail, closedCase, earlyCase} {
				if strings.Contains(raw, canary) {
					t.Errorf("digest to %s carries %q", to, canary)
				}
			}
		}
		for to := range want {
			if got[to] != days {
				t.Errorf("%s got %d digests; want %d", to, got[to], days)
			}
		}
	}

	t.Run("first day", func(t *testing.T) {
		r := startNotification(t, o)
		optIn := []struct{ id, secret string }{
			{"alex-moss", asToken("alex-moss")}, {"bea-lund", adminToken}, {"cal-nash", memberToken}, {"eli-park", asToken("eli-park")},
		}
		for _, m := range optIn {
			if _, err := r.client(t, m.secret).UpdateDigestSettings(ctx, &notificationv1.UpdateDigestSettingsRequest{
				DigestSettings: &notificationv1.DigestSettings{Name: memberName(m.id) + "/digestSettings", Enabled: true}}); err != nil {
				t.Fatalf("%s opting in: %v", m.id, err)
			}
		}
		// Before the hour: nothing.
		awaitPasses(t, 3)
		if n := r.stateCounts(t)["pending"] + r.stateCounts(t)["sent"]; n != 0 || len(received(t, mailpit)) != 0 {
			t.Fatalf("before the hour: %d deliveries, %d messages", n, len(received(t, mailpit)))
		}
		clock.Set(time.Date(2026, 3, 2, 7, 0, 1, 0, time.UTC))
		testenv.Eventually(t, time.Minute, "three digests", func() bool {
			return r.stateCounts(t)["sent"] >= 3 && len(received(t, mailpit)) >= 3
		})
		// Another pass the same day, later on: nothing more.
		clock.Set(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC))
		awaitPasses(t, 3)
		check(t, 1)
		if n := r.stateCounts(t)["sent"]; n != 3 {
			t.Errorf("%d sent; want 3", n)
		}
	})
	t.Run("after a restart the same day", func(t *testing.T) {
		r := startNotification(t, o)
		awaitPasses(t, 3)
		check(t, 1)
		if n := r.stateCounts(t)["sent"]; n != 3 {
			t.Errorf("%d sent; want 3", n)
		}
	})
	t.Run("the next day", func(t *testing.T) {
		clock.Set(time.Date(2026, 3, 3, 6, 0, 0, 0, time.UTC))
		r := startNotification(t, o)
		awaitPasses(t, 3)
		if n := len(received(t, mailpit)); n != 3 {
			t.Fatalf("before the next day's hour: %d messages; want 3", n)
		}
		clock.Set(time.Date(2026, 3, 3, 7, 30, 0, 0, time.UTC))
		testenv.Eventually(t, time.Minute, "three more digests", func() bool {
			return r.stateCounts(t)["sent"] >= 6 && len(received(t, mailpit)) >= 6
		})
		awaitPasses(t, 3)
		check(t, 2)
		// Each digest is its own delivery, in the group's log.
		list, err := r.client(t, adminToken).ListDeliveries(ctx, &notificationv1.ListDeliveriesRequest{Parent: group})
		if err != nil || len(list.GetDeliveries()) != 6 {
			t.Fatalf("ListDeliveries: %d, %v", len(list.GetDeliveries()), err)
		}
		for _, d := range list.GetDeliveries() {
			if d.GetEventType() != "ipn.disputes.notification.v1.DailyDigest" || d.GetRecipient() == memberName("alex-moss") {
				t.Errorf("delivery %v", d)
			}
		}
	})
}

// withExcluded is s with the roles that may not take it.
func withExcluded(s *caseworkv1.NextStep, roles ...procedurev1.Role) *caseworkv1.NextStep {
	s.ExcludedActors = roles
	return s
}
