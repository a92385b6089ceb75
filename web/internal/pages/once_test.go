package pages

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
)

// TestFormsActOnce: a form sent twice, at once or one after the other,
// acts once and both get the first's answer; a failed sending is forgotten,
// so the next one acts; ids of other sessions and expired ones act anew.
func TestFormsActOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 1, 12, 14, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newForms(clock)
	var acts atomic.Int32
	release := make(chan struct{})
	act := func() (string, error) {
		acts.Add(1)
		<-release
		return "/next", nil
	}
	key := formKey("ipncs_a", "0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11")

	var wg sync.WaitGroup
	results := make([]string, 5)
	repeats := atomic.Int32{}
	for i := range results {
		wg.Go(func() {
			next, repeated, err := f.do(key, act)
			if err != nil {
				t.Error(err)
			}
			if repeated {
				repeats.Add(1)
			}
			results[i] = next
		})
	}
	// The first acts; the others wait for it.
	testenv.Eventually(t, 5*time.Second, "the first sending acting", func() bool { return acts.Load() == 1 })
	close(release)
	wg.Wait()
	if n := acts.Load(); n != 1 {
		t.Errorf("acted %d times, want once", n)
	}
	if n := repeats.Load(); n != 4 {
		t.Errorf("%d repeats, want 4", n)
	}
	for _, r := range results {
		if r != "/next" {
			t.Errorf("a sending led to %q", r)
		}
	}

	// Another session's form with the same id acts.
	other := formKey("ipncs_b", "0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11")
	if _, repeated, _ := f.do(other, func() (string, error) { return "/other", nil }); repeated {
		t.Error("another session's form counted as a repeat")
	}

	// A failure is forgotten: trying again acts.
	failing := formKey("ipncs_a", "1b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11")
	if _, _, err := f.do(failing, func() (string, error) { return "", errors.New("down") }); err == nil {
		t.Fatal("the failure was not returned")
	}
	if next, repeated, err := f.do(failing, func() (string, error) { return "/again", nil }); err != nil || repeated || next != "/again" {
		t.Errorf("after a failure: %q, %v, %v; want a new sending", next, repeated, err)
	}

	// Past the window, the same id acts again.
	mu.Lock()
	now = now.Add(onceWindow + time.Second)
	mu.Unlock()
	if _, repeated, _ := f.do(key, func() (string, error) { return "/later", nil }); repeated {
		t.Error("a sending past the window counted as a repeat")
	}
	// A form without an id acts every time.
	for range 2 {
		if _, repeated, _ := f.do("", func() (string, error) { return "/x", nil }); repeated {
			t.Error("a form without an id counted as a repeat")
		}
	}
}
