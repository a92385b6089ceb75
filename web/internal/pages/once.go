package pages

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// onceWindow is how long a form that was acted on is remembered: longer
// than anyone waits before pressing the button again or refreshing the
// answer.
const onceWindow = 10 * time.Minute

// maxRemembered bounds the memory: past it, the forms acted on longest ago
// are forgotten first.
const maxRemembered = 10000

// forms makes a form that is sent twice act once. Every form that acts (a
// step, a message) carries a random id made when it is shown; the first
// sending of an id acts, and a second one, a double click or a refresh of
// the answer, waits for the first and gets its answer instead of acting
// again. A sending that failed is forgotten, so trying again acts.
//
// It is memory of this process: with several replicas behind a balancer a
// repeat may reach another one. The API then refuses most repeats itself (a
// meeting already answered, a statement already approved, a decision
// already made); a message could be sent twice.
type forms struct {
	mu   sync.Mutex
	seen map[string]*sending
	now  func() time.Time
}

// sending is one form's first sending.
type sending struct {
	done chan struct{}
	// next is where the first sending led; empty when it failed.
	next string
	at   time.Time
}

func newForms(now func() time.Time) *forms {
	return &forms{seen: map[string]*sending{}, now: now}
}

// formKey binds a form's id to the session that sent it, so that one
// person's ids can never answer for another's; the token itself is not
// kept.
func formKey(token, formID string) string {
	sum := sha256.Sum256([]byte(token + "\x00" + formID))
	return hex.EncodeToString(sum[:])
}

// do acts on the form key names with act, which returns the path to go to
// next, once: a repeat of a sending that succeeded returns the same path
// and repeated true without calling act. An empty key always acts.
func (f *forms) do(key string, act func() (string, error)) (next string, repeated bool, err error) {
	if key == "" {
		next, err = act()
		return next, false, err
	}
	for {
		f.mu.Lock()
		prev, ok := f.seen[key]
		if ok && f.now().Sub(prev.at) > onceWindow {
			delete(f.seen, key)
			ok = false
		}
		if !ok {
			break
		}
		f.mu.Unlock()
		<-prev.done
		if prev.next != "" {
			return prev.next, true, nil
		}
		// The first sending failed and was forgotten: look again.
	}
	mine := &sending{done: make(chan struct{}), at: f.now()}
	f.forget()
	f.seen[key] = mine
	f.mu.Unlock()

	next, err = act()
	f.mu.Lock()
	if err != nil || next == "" {
		delete(f.seen, key)
	} else {
		mine.next = next
	}
	f.mu.Unlock()
	close(mine.done)
	return next, false, err
}

// forget drops the sendings past the window, and the oldest ones while
// there are too many; f.mu is held.
func (f *forms) forget() {
	now := f.now()
	for k, s := range f.seen {
		if now.Sub(s.at) > onceWindow {
			select {
			case <-s.done:
				delete(f.seen, k)
			default:
			}
		}
	}
	for len(f.seen) >= maxRemembered {
		var oldest string
		var at time.Time
		for k, s := range f.seen {
			if oldest == "" || s.at.Before(at) {
				oldest, at = k, s.at
			}
		}
		delete(f.seen, oldest)
	}
}
