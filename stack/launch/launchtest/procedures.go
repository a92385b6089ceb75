package launchtest

import (
	"path/filepath"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
)

// ReorderedProcedure is the version in TestProceduresDir: version 1 with
// inform_link_groups and propose_group_meeting_dates, two steps the liaison
// person may take at the same time, in the other order, and nominate_spt
// titled "The practitioner chooses a support person". A test that starts
// casework with that folder and sets a group's procedure to it sees what a
// website makes of a version its page code has never seen.
const ReorderedProcedure = "procedures/ipn-disputes-v1-reordered"

// TestProceduresDir is the folder of procedure versions made for tests
// (testdata/procedures beside this file), to give casework as its
// PROCEDURES_DIR:
//
//	launchtest.Start(t, launchtest.Options{Settings: map[string][]string{
//		"casework": {"PROCEDURES_DIR=" + launchtest.TestProceduresDir(t)},
//	}})
//
// It is found from the repository's root, as Build finds the sources, so
// that it does not depend on the test's working directory; the services
// know nothing of it.
func TestProceduresDir(t testing.TB) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "stack", "launch", "launchtest", "testdata", "procedures")
}
