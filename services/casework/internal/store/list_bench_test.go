package store

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/ipnmediation/disputes/services/casework/internal/procedure"
	"github.com/ipnmediation/disputes/services/casework/procedures"
)

// benchSteps are the long path's first steps, by whom: a case at stage k
// has taken the first k.
var benchSteps = []struct {
	step, outcome string
	role          casefile.Role
}{
	{"nominate_spt", "", casefile.RoleTherapist},
	{"answer_spt_nomination", "ACCEPTED", casefile.RoleNominee},
	{"appoint_spc_and_lp", "", casefile.RoleMember},
	{"inform_link_groups", "", casefile.RoleLP},
	{"propose_group_meeting_dates", "", casefile.RoleLP},
	{"give_availability", "", casefile.RoleMember},
	{"confirm_group_meeting_date", "", casefile.RoleLP},
	{"offer_client_meeting", "", casefile.RoleSPC},
	{"answer_client_meeting", "ACCEPTED", casefile.RoleClient},
	{"write_statement", "", casefile.RoleSPC},
	{"answer_statement", "APPROVED", casefile.RoleClient},
	{"convey_statement", "", casefile.RoleSPC},
	{"record_response", "", casefile.RoleTherapist},
	{"relay_response", "", casefile.RoleSPC},
}

// BenchmarkListCasesPage compares, through casefile.Service on the store,
// the page the members' My work read until now (every case, newest first,
// 200 a page, each case's next steps worked out) with a page of 25 of the
// open cases waiting for the member, soonest deadline first, and of the
// others, each with its total: with 500 cases of one group, 400 of them
// open, spread over the procedure's first stages and ten members' roles.
//
//	GOWORK=off go test ./internal/store -run '^$' -bench ListCasesPage
func BenchmarkListCasesPage(b *testing.B) {
	ctx := context.Background()
	s := &Store{Pool: openDB(b)}
	catalogue, err := procedure.Load(procedures.FS, procedures.Default)
	if err != nil {
		b.Fatal(err)
	}
	svc := &casefile.Service{Store: s, Procedures: catalogue}
	member := func(i int) string { return fmt.Sprintf("groups/riverside/members/member-%02d", i%10) }
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i := range 500 {
		at := now.Add(-time.Duration(i) * 3 * time.Hour)
		c := casefile.Case{ID: uuid.NewString(), Group: "groups/riverside", Therapist: member(i), Procedure: procedures.Default,
			RegisterTime: at, Deadline: at.Add(56 * day), Version: 1}
		stage := i % (len(benchSteps) + 1)
		for k, st := range benchSteps[:stage] {
			actor := map[casefile.Role]string{casefile.RoleTherapist: member(i), casefile.RoleNominee: member(i + 1),
				casefile.RoleMember: member(i + 4), casefile.RoleLP: member(i + 3), casefile.RoleSPC: member(i + 2),
				casefile.RoleClient: casefile.ClientActor}[st.role]
			c.Progress.Taken = append(c.Progress.Taken, casefile.TakenStep{Step: st.step, Outcome: st.outcome, Actor: actor,
				Role: st.role, Time: at.Add(time.Duration(k) * time.Hour)})
			switch st.step {
			case "nominate_spt":
				c.Roles.SPTNominee = member(i + 1)
			case "answer_spt_nomination":
				c.Roles.SPT, c.Roles.SPTNominee = member(i+1), ""
			case "appoint_spc_and_lp":
				c.Roles.SPC, c.Roles.LP = member(i+2), member(i+3)
			}
		}
		c.Progress.Entries = stage + 1
		closed := i%5 == 4
		var closeTime *time.Time
		phase, outcome := "REGISTERED", ""
		if closed {
			closeTime, phase, outcome = &at, "CLOSED", "RESOLVED"
			c.Outcome = casefile.Resolved
		}
		a := svc.AwaitingOf(c)
		progress, err := json.Marshal(c.Progress)
		if err != nil {
			b.Fatal(err)
		}
		_, err = s.Pool.Exec(ctx, `
			INSERT INTO cases (id, group_id, concern, reference, therapist, phase, register_time, deadline,
			                   concern_text, client_name, create_time, first_response_deadline, spt, spt_nominee, spc, lp,
			                   outcome, close_time, progress, awaiting_members, awaiting_any_member, awaiting_excluded, awaiting_version)
			VALUES ($1, 'riverside', $2, 'ABCD-EFGH', $3, $4, $5, $6, 'sealed', 'sealed', $5, $5, $7, $8, $9, $10,
			        $11, $12, $13, $14, $15, $16, 1)`,
			c.ID, "groups/riverside/concerns/"+c.ID, c.Therapist, phase, c.RegisterTime, c.Deadline,
			c.Roles.SPT, c.Roles.SPTNominee, c.Roles.SPC, c.Roles.LP, outcome, closeTime, progress,
			members(a.Members), a.AnyMember, members(a.Excluded))
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Pool.Exec(ctx, `VACUUM ANALYZE cases`); err != nil {
		b.Fatal(err)
	}
	ctx = auth.WithPrincipal(ctx, auth.Principal{Kind: auth.Member, Group: "groups/riverside", Member: member(0)})
	pages := []struct {
		name string
		f    casefile.Filter
		size int
	}{
		{"every case newest first, 200", casefile.Filter{}, 200},
		{"awaiting the caller by deadline, 25", casefile.Filter{Awaiting: casefile.AwaitingCaller, Order: casefile.DeadlineFirst}, 25},
		{"the others by deadline, 25", casefile.Filter{Awaiting: casefile.AwaitingOthers, Order: casefile.DeadlineFirst}, 25},
		{"closed newest first, 25", casefile.Filter{Phase: "CLOSED"}, 25},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var listed, total int
			for b.Loop() {
				views, _, n, err := svc.List(ctx, "groups/riverside", p.f, p.size, nil)
				if err != nil {
					b.Fatal(err)
				}
				listed, total = len(views), n
			}
			b.ReportMetric(float64(listed), "cases/page")
			b.ReportMetric(float64(total), "total")
		})
	}
}
