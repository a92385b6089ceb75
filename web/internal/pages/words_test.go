package pages

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"google.golang.org/protobuf/encoding/prototext"
)

// TestWordsCoverTheProcedure holds the client's words to the procedure
// casework follows: every step has a sentence for "what happens next" (or
// is hidden on purpose), every step the client may take says what to do,
// and every step the client sees in the timeline says what it meant, for
// each of its outcomes. A step added to the procedure fails here until it
// has its words.
func TestWordsCoverTheProcedure(t *testing.T) {
	t.Parallel()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "services/casework/procedures/ipn-disputes-v1.txtpb"))
	if err != nil {
		t.Fatal(err)
	}
	var p procedurev1.Procedure
	if err := prototext.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	for _, step := range p.GetSteps() {
		id := step.GetId()
		words, ok := nextSteps[id]
		if !ok || (!words.Hidden && words.Sentence == "") {
			t.Errorf("step %s: no sentence for what happens next", id)
		}
		if slices.Contains(step.GetActors(), procedurev1.Role_ROLE_CLIENT) && !words.Hidden {
			if words.Yours == "" {
				t.Errorf("step %s: the client may take it, but nothing says what to do", id)
			}
			if words.Page == "" || words.Do == "" {
				t.Errorf("step %s: the client may take it, but no page of theirs is named for it", id)
			}
		}
		if !slices.Contains(step.GetTimelineAudience(), procedurev1.Role_ROLE_CLIENT) {
			continue
		}
		done, ok := stepDone[id]
		if !ok {
			t.Errorf("step %s: the client sees it in the timeline, but nothing says what it meant", id)
			continue
		}
		if _, general := done[""]; !general {
			for _, outcome := range step.GetOutcomes() {
				if done[outcome] == "" {
					t.Errorf("step %s: no sentence for the outcome %s", id, outcome)
				}
			}
		}
	}
	for _, sentence := range []string{notReadyWords("not yet: first the SPC and the LP have been appointed"), clientWords("The SPC relays the therapist's response to the client")} {
		if internalWords.MatchString(sentence) || strings.Contains(sentence, "client") {
			t.Errorf("%q keeps a word the client must not read", sentence)
		}
	}
}
