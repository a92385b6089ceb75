package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
)

// fakeQueue hands out deliveries to ann, one claim at a time, and records
// outcomes; recordErrs are returned by the first calls of Record.
type fakeQueue struct {
	mu         sync.Mutex
	claims     int
	recorded   []Delivery
	recordErrs []error
	records    int
}

func (q *fakeQueue) Claim(_ context.Context, now time.Time, claim func(Delivery) Delivery) (Delivery, bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims++
	return claim(Delivery{ID: "0b6f3f0e-3c1a-4f43-9d2a-6d0e3c1b2a11", Group: "groups/riverside", Template: "concern_registered",
		Recipient: "groups/riverside/members/ann", RecipientKind: MemberRecipient, State: Pending, NextAttemptAt: now,
		Facts: Facts{FactGroupName: "Riverside Practitioners", FactConcern: "groups/riverside/concerns/c1"}}), true, nil
}

func (q *fakeQueue) Record(_ context.Context, d Delivery) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.records++
	if len(q.recordErrs) > 0 {
		err := q.recordErrs[0]
		q.recordErrs = q.recordErrs[1:]
		return false, err
	}
	q.recorded = append(q.recorded, d)
	return true, nil
}

func (q *fakeQueue) counts() (claims, records int, recorded []Delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.claims, q.records, slices.Clone(q.recorded)
}

// TestRecordOutcome: an outcome is recorded once PostgreSQL answers again
// within the lease, so the message is not handed off twice; past the lease
// the sender gives up and says so at ERROR, and the delivery is left to its
// lease.
func TestRecordOutcome(t *testing.T) {
	t.Parallel()
	down := errors.New("connection refused")
	tests := []struct {
		name        string
		errs        []error
		lease       time.Duration
		wantRecords int
		wantSaved   bool
	}{
		{"at once", nil, time.Minute, 1, true},
		{"after PostgreSQL is back", []error{down, down}, time.Minute, 3, true},
		{"never within the lease", slices.Repeat([]error{down}, 1000), 300 * time.Millisecond, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := &fakeQueue{recordErrs: tt.errs}
			logs := &testenv.Logs{}
			s := &Sender{Queue: q, Logger: slog.New(logs)}
			start := time.Now()
			d := Delivery{ID: "d", Group: "groups/riverside", State: Pending}.Claimed(start, tt.lease).Delivered(start)
			s.record(context.Background(), d, start.Add(tt.lease))
			_, records, recorded := q.counts()
			if saved := len(recorded) == 1; saved != tt.wantSaved || (tt.wantRecords > 0 && records != tt.wantRecords) {
				t.Errorf("Record called %d times, saved %v; want %d, %v", records, saved, tt.wantRecords, tt.wantSaved)
			}
			if gaveUp := logs.Count("ERROR the outcome of an attempt could not be recorded"); gaveUp != map[bool]int{false: 1}[tt.wantSaved] {
				t.Errorf("%d ERROR lines for giving up", gaveUp)
			}
			if took := time.Since(start); took > tt.lease+time.Second {
				t.Errorf("record took %v, past the lease of %v", took, tt.lease)
			}
		})
	}
}

// switchedDirectory is unreachable until up is set.
type switchedDirectory struct {
	fakeDirectory
	up       *atomic.Bool
	attempts *atomic.Int64
}

func (d switchedDirectory) Member(ctx context.Context, name string) (Member, error) {
	d.attempts.Add(1)
	if !d.up.Load() {
		return Member{}, Unreachable(errors.New("directory: get member: connection refused"))
	}
	return d.fakeDirectory.Member(ctx, name)
}

// TestSenderPausesWhileUnreachable: with deliveries always due and the
// directory down, the sender tries about once per pause (doubling to its
// cap) instead of at its full rate, logs one WARN for it, and resumes
// within a pause of the directory's return, saying so once.
func TestSenderPausesWhileUnreachable(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	var attempts atomic.Int64
	q := &fakeQueue{}
	logs := &testenv.Logs{}
	mailer := &syncMailer{}
	s := &Sender{
		Queue: q, Directory: switchedDirectory{testDirectory, &up, &attempts}, Mailer: mailer, Templates: mustCatalog(t),
		PublicURL: "https://disputes.example.org/", Rate: 1000, ProbeMin: 50 * time.Millisecond, ProbeMax: 200 * time.Millisecond,
		Logger: slog.New(logs),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	start := time.Now()
	waitFor(t, "attempts to reach the cap of the pause", func() bool { return attempts.Load() >= 6 })
	// 50, 100, 200, 200, 200 ms of pauses between the first six attempts:
	// at full rate (1000/s) there would be hundreds.
	elapsed := time.Since(start)
	if n := attempts.Load(); n > 2+int64(elapsed/(50*time.Millisecond)) || elapsed < 700*time.Millisecond {
		t.Errorf("%d attempts in %v; want about one per pause", n, elapsed)
	}
	if warns := logs.Count("WARN sending paused"); warns != 1 || logs.Count("WARN delivery attempt failed") != 0 {
		t.Errorf("%d WARN lines for pausing, %d for the failed attempts; want one line for the pause, none for each attempt",
			warns, logs.Count("WARN delivery attempt failed"))
	}
	_, _, recorded := q.counts()
	for _, d := range recorded {
		if d.State != Pending || d.Failures != 0 {
			t.Fatalf("recorded %+v; want pending, nothing counted", d)
		}
	}

	up.Store(true)
	back := time.Now()
	waitFor(t, "a message to go", func() bool { return mailer.count() > 0 })
	if took := time.Since(back); took > 200*time.Millisecond+100*time.Millisecond {
		t.Errorf("resumed %v after the directory's return; want within a pause at its cap", took)
	}
	waitFor(t, "the sender to say it resumed", func() bool { return logs.Count("INFO sending resumed") == 1 })
}

// syncMailer counts what it sends, safely across goroutines.
type syncMailer struct {
	mu   sync.Mutex
	sent int
}

func (m *syncMailer) Send(context.Context, Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent++
	return nil
}

func (m *syncMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
