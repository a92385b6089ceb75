// Package testclock lets a whole-system test move the clock of a running
// binary, so that a test can see what happens weeks after a case opened
// without waiting weeks.
//
// Only a binary built with -tags testclock has such a clock: there Source
// returns a clock that runs at the real pace but ahead by the offset written
// in the file named by TEST_CLOCK_FILE. In every other build Source returns
// nil, the service falls back to time.Now, and no setting, file or request
// can change a production binary's time.
//
// The test side (Set) works in any build, since the test process itself is
// never built with the tag.
package testclock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileEnv names the environment variable that holds the offset file's path.
const FileEnv = "TEST_CLOCK_FILE"

// Set makes the clocks reading path run offset ahead of real time. The file
// is replaced whole, so a clock never reads half of it.
func Set(path string, offset time.Duration) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".testclock-*")
	if err != nil {
		return fmt.Errorf("test clock: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(offset.String() + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("test clock: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("test clock: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("test clock: %w", err)
	}
	return nil
}

// Offset reads the offset that Set wrote to path. A missing file is no
// offset: the test has not moved the clock yet.
func Offset(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("test clock: %w", err)
	}
	return Parse(string(b))
}

// Parse reads an offset as Set writes it: a Go duration such as "336h0m0s",
// with surrounding space ignored.
func Parse(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("test clock: offset %q: want a duration such as 336h", strings.TrimSpace(s))
	}
	return d, nil
}
