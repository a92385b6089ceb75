package dispatch

import (
	"slices"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/services/notification/internal/message"
)

func TestDigestItems(t *testing.T) {
	t.Parallel()
	const (
		therapist = "groups/g/members/t"
		spc       = "groups/g/members/s"
		other     = "groups/g/members/o"
		idle      = "groups/g/members/n"
	)
	open := Case{Name: "groups/g/cases/b", Therapist: therapist, SPC: spc, NextSteps: []NextStep{
		{Step: "relay", Title: "Relay", Actors: []string{RoleSPC}},
		{Step: "meet", Title: "Meet", Actors: []string{RoleMember}, Excluded: []string{RoleTherapist}},
		{Step: "respond", Actors: []string{RoleTherapist, RoleSPT}},
		{Step: "gather", Title: "Gather", Actors: []string{RoleMember}},
	}}
	earlier := Case{Name: "groups/g/cases/a", Therapist: other, NextSteps: []NextStep{{Step: "meet", Title: "Meet too", Actors: []string{RoleMember}, Excluded: []string{RoleTherapist}}}}
	closed := Case{Name: "groups/g/cases/c", SPC: spc, Therapist: idle, Closed: true, NextSteps: []NextStep{{Step: "x", Title: "Closed", Actors: []string{RoleSPC, RoleMember}}}}
	tests := []struct {
		name   string
		member string
		cases  []Case
		want   []message.DigestItem
	}{
		{"the SPC: their role and the group's steps, cases in order", spc, []Case{open, closed, earlier}, []message.DigestItem{
			{Case: earlier.Name, Step: "Meet too"}, {Case: open.Name, Step: "Relay"}, {Case: open.Name, Step: "Meet"}, {Case: open.Name, Step: "Gather"}}},
		{"the therapist: their own step (by id, untitled) and the group's step that does not exclude them", therapist, []Case{open, closed, earlier}, []message.DigestItem{
			{Case: earlier.Name, Step: "Meet too"}, {Case: open.Name, Step: "respond"}, {Case: open.Name, Step: "Gather"}}},
		{"the therapist of the other case", other, []Case{open, earlier}, []message.DigestItem{{Case: open.Name, Step: "Meet"}, {Case: open.Name, Step: "Gather"}}},
		{"closed cases only: nothing", idle, []Case{closed}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DigestItems(tt.member, tt.cases); !slices.Equal(got, tt.want) {
				t.Errorf("DigestItems = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestDigestEventID(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	a := DigestEventID("groups/g/members/a", day)
	tests := []struct {
		name string
		id   string
		same bool
	}{
		{"the same member, later that day", DigestEventID("groups/g/members/a", day.Add(20*time.Hour)), true},
		{"the next day", DigestEventID("groups/g/members/a", day.AddDate(0, 0, 1)), false},
		{"another member", DigestEventID("groups/g/members/b", day), false},
	}
	for _, tt := range tests {
		if (tt.id == a) != tt.same {
			t.Errorf("%s: %s vs %s; same = %v", tt.name, tt.id, a, tt.same)
		}
	}
}

func TestNextStepAwaits(t *testing.T) {
	t.Parallel()
	const (
		therapist = "groups/g/members/t"
		spc       = "groups/g/members/s"
		other     = "groups/g/members/o"
	)
	c := Case{Name: "groups/g/cases/a", Therapist: therapist, SPC: spc}
	appoint := NextStep{Step: "appoint", Actors: []string{RoleMember}, Excluded: []string{RoleTherapist}}
	relay := NextStep{Step: "relay", Actors: []string{RoleSPC}}
	withdraw := NextStep{Step: "withdraw", Actors: []string{RoleClient}, Optional: true}
	issue := NextStep{Step: "issue", Actors: []string{RoleSPC, RoleLP}, Optional: true}
	tests := []struct {
		name   string
		step   NextStep
		member string
		want   bool
	}{
		{"a member may appoint", appoint, other, true},
		{"the SPC, a member too, may appoint", appoint, spc, true},
		{"the therapist may not appoint", appoint, therapist, false},
		{"the SPC relays", relay, spc, true},
		{"nobody else relays", relay, other, false},
		{"an optional step awaits nobody", issue, spc, false},
		{"nor does the client's withdrawal", withdraw, other, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.step.awaits(c, tt.member); got != tt.want {
				t.Errorf("awaits = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestCaseLateFor(t *testing.T) {
	t.Parallel()
	offer := NextStep{Step: "offer_client_meeting", Actors: []string{RoleSPC}, TowardFirstResponse: true}
	inform := NextStep{Step: "inform_link_groups", Actors: []string{RoleLP}}
	withdraw := NextStep{Step: "withdraw", Actors: []string{RoleClient}, Optional: true, TowardFirstResponse: true}
	tests := []struct {
		name   string
		next   []NextStep
		target string
		want   []string
	}{
		{"the first response: only the steps toward it", []NextStep{offer, inform, withdraw}, TargetFirstResponse, []string{"offer_client_meeting"}},
		{"the overall target: every next step", []NextStep{offer, inform, withdraw}, TargetOverall, []string{"offer_client_meeting", "inform_link_groups", "withdraw"}},
		{"nothing toward the first response: every next step, so someone is told", []NextStep{inform, withdraw}, TargetFirstResponse, []string{"inform_link_groups", "withdraw"}},
		{"no next steps", nil, TargetFirstResponse, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, s := range (Case{NextSteps: tt.next}).lateFor(tt.target).NextSteps {
				got = append(got, s.Step)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("late steps %v; want %v", got, tt.want)
			}
		})
	}
}
