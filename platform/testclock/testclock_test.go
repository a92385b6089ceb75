package testclock

import (
	"path/filepath"
	"testing"
	"time"
)

func TestSetThenOffset(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "clock")
	if got, err := Offset(path); err != nil || got != 0 {
		t.Fatalf("before any Set: %v, %v; want 0", got, err)
	}
	for _, want := range []time.Duration{7*24*time.Hour + time.Hour, 0, -90 * time.Minute, 57 * 24 * time.Hour} {
		if err := Set(path, want); err != nil {
			t.Fatal(err)
		}
		if got, err := Offset(path); err != nil || got != want {
			t.Errorf("after Set(%v): %v, %v", want, got, err)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"336h0m0s\n", 336 * time.Hour, true},
		{"  1h30m ", 90 * time.Minute, true},
		{"-2h", -2 * time.Hour, true},
		{"0s", 0, true},
		{"", 0, false},
		{"two weeks", 0, false},
		{"336", 0, false},
	} {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestSourceFollowsTheBuild: a binary built without the tag ignores
// TEST_CLOCK_FILE altogether; one built with it reads the file.
func TestSourceFollowsTheBuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock")
	if err := Set(path, 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	t.Setenv(FileEnv, path)
	now := Source()
	if !Enabled {
		if now != nil {
			t.Fatal("a build without -tags testclock has a movable clock")
		}
		return
	}
	if ahead := time.Until(now()); ahead < 47*time.Hour || ahead > 49*time.Hour {
		t.Errorf("the clock is %v ahead; want 48h", ahead)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"336h0m0s", "-1h", " 5m\n", "", "1e9h", "9999999999h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		// What Parse accepts, Set writes back the same.
		again, err := Parse(d.String())
		if err != nil || again != d {
			t.Errorf("Parse(%q) = %v, but its String parses as %v, %v", s, d, again, err)
		}
	})
}
