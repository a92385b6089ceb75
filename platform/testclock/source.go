//go:build testclock

package testclock

import (
	"fmt"
	"os"
	"time"
)

// Enabled says whether this binary was built with -tags testclock.
const Enabled = true

// Source returns the clock of this test build: real time plus the offset
// in the file named by TEST_CLOCK_FILE, read afresh on every call so that
// the test can move it at any moment. Without TEST_CLOCK_FILE it returns
// nil, as a production build does.
//
// A file that cannot be read stops the process: a test that thinks it moved
// the clock must not go on against one that did not move.
func Source() func() time.Time {
	path := os.Getenv(FileEnv)
	if path == "" {
		return nil
	}
	return func() time.Time {
		offset, err := Offset(path)
		if err != nil {
			panic(fmt.Sprintf("%s=%s: %v", FileEnv, path, err))
		}
		return time.Now().Add(offset)
	}
}
