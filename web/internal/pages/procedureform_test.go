package pages

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/stack/launch/launchtest"
)

// TestStepFormsFollowTheProcedure: the group chooses a version of the
// procedure the page code has never seen (launchtest.ReorderedProcedure:
// two of the liaison person's steps in the other order, the first step
// retitled), and the members' pages show it as it is written, with no
// change to them: the new title on My work, the case and the step's form,
// the liaison person's two steps in the new order, and the steps taken on
// their forms.
func TestStepFormsFollowTheProcedure(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system")
	}
	started := launchtest.Start(t, launchtest.Options{Settings: map[string][]string{
		"casework": {"PROCEDURES_DIR=" + launchtest.TestProceduresDir(t)},
	}})
	sys := &system{System: started.System, mail: started.Mail, creds: map[string]string{}}
	for _, c := range started.Demo {
		sys.creds[c.Member.ID] = c.Token
	}
	sys.rest(t, "alex-morgan", http.MethodPatch, "/v1/groups/riverside?updateMask=procedureSettings.procedure",
		map[string]any{"procedureSettings": map[string]string{"procedure": launchtest.ReorderedProcedure}})
	web := newTestSite(t, sys.GatewayURL())
	base := serveSite(t, web).URL

	client := newBrowser(t, base)
	_, body := client.get("/riverside/concern")
	resp, body := client.post("/riverside/concern", url.Values{"requestId": {match(t, requestIDRe, body)}, "practitioner": {"cal-reyes"},
		"description": {"Our sessions stopped without a word."}, "clientName": {"Sam"}, "email": {"sam@client.example.net"}})
	want(t, "confirmation", resp, body, 200, "Go to your case")
	ms := newMemberSide(t, sys, base, strings.TrimPrefix(match(t, casePathRe, body), "/riverside/cases/"))

	const retitled = "The practitioner chooses a support person"
	resp, body = ms.as("cal-reyes").get("/riverside/members/")
	want(t, "My work", resp, body, 200, retitled)
	resp, body = ms.as("cal-reyes").get(ms.casePath())
	want(t, "the case", resp, body, 200, retitled, `id="step-nominate_spt"`)
	_, body = ms.form("cal-reyes", "nominate_spt")
	want(t, "the step's form", &http.Response{StatusCode: 200, Header: http.Header{}}, body, 200, "<h1>"+retitled+"</h1>", `<select class="select" name="member" id="member"`)
	if strings.Contains(body, "names a support person") {
		t.Error("the form shows the built-in version's title")
	}
	ms.step("cal-reyes", "nominate_spt", func(f url.Values) { f.Set("member", "groups/riverside/members/eli-nakamura") })
	ms.step("eli-nakamura", "answer_spt_nomination", func(f url.Values) { f.Set("outcome", "ACCEPTED") })
	ms.step("dana-holt", "appoint_spc_and_lp", func(f url.Values) {
		f.Set("spc", "groups/riverside/members/alex-morgan")
		f.Set("lp", "groups/riverside/members/bea-lindqvist")
	})

	// The liaison person's two steps, in this version's order.
	resp, body = ms.as("bea-lindqvist").get(ms.casePath())
	want(t, "the liaison person's case", resp, body, 200, `id="step-propose_group_meeting_dates"`, `id="step-inform_link_groups"`)
	if strings.Index(body, `id="step-propose_group_meeting_dates"`) > strings.Index(body, `id="step-inform_link_groups"`) {
		t.Error("the liaison person's steps are in the built-in version's order, not this version's")
	}
	ms.step("bea-lindqvist", "propose_group_meeting_dates", func(f url.Values) {
		f.Set("slot-0-date", "2030-03-04")
		f.Set("slot-0-start", "10:00")
		f.Set("slot-0-end", "12:00")
	})
	ms.step("bea-lindqvist", "inform_link_groups", nil)
}
