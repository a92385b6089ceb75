package casefile

import (
	"testing"
)

// TestNextStepsCheckAllocatesNothing: working out which steps a case may
// take next, which a list does for every step of every case it shows, makes
// no error values (issue 17 found 27 % of a list's CPU in building
// formatted errors only to throw them away); the error is made for a caller
// who is refused, and says the same as before.
//
// Not parallel: AllocsPerRun counts the whole process's allocations.
func TestNextStepsCheckAllocatesNothing(t *testing.T) {
	def := testCatalogue(t).Default()
	cases := map[string]Case{
		"just opened": {},
		"support person named": {Progress: Progress{Taken: []TakenStep{
			{Step: "nominate_spt", Actor: "cal-reyes"}, {Step: "answer_spt_nomination", Outcome: "ACCEPTED"}}}},
	}
	for name, c := range cases {
		blocked, open := 0, 0
		allocs := testing.AllocsPerRun(50, func() {
			blocked, open = 0, 0
			for _, step := range def.Steps() {
				if whyNotReady(def, c, step).why == holdNone {
					open++
				} else {
					blocked++
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%s: checking every step allocates %.0f times", name, allocs)
		}
		if blocked == 0 || open == 0 {
			t.Errorf("%s: %d steps open and %d blocked; the check should find both", name, open, blocked)
		}
		for _, step := range def.Steps() {
			b := whyNotReady(def, c, step)
			if err := ready(def, c, step); (err == nil) != (b.why == holdNone) || (err != nil && err.Error() == "") {
				t.Errorf("%s, %s: ready says %v for %v", name, step.GetId(), err, b.why)
			}
		}
	}
}
