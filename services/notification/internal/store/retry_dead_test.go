package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
)

// TestRetryDead: one call revives every dead delivery of the group (of one
// case when asked), each as Retry revives one, and touches nothing else: not
// another group's dead deliveries, nor a pending or sent one.
func TestRetryDead(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	const (
		caseA = "groups/riverside/cases/AAAA-1111"
		caseB = "groups/riverside/cases/BBBB-2222"
	)
	now := base.Add(48 * time.Hour)
	lastTry := base.Add(time.Hour)
	seed := func(group, caseName string, state dispatch.State) dispatch.Delivery {
		d := newDelivery(uuid.NewString(), group+"/members/ann", base)
		d.Group, d.State, d.Attempts, d.Failures, d.NextAttemptAt, d.LastError = group, state, 11, 8, lastTry, "get member: internal"
		if caseName != "" {
			d.Facts = dispatch.Facts{dispatch.FactCase: caseName}
		}
		return d
	}
	deadA1, deadA2 := seed("groups/riverside", caseA, dispatch.Dead), seed("groups/riverside", caseA, dispatch.Dead)
	deadB, deadNoCase := seed("groups/riverside", caseB, dispatch.Dead), seed("groups/riverside", "", dispatch.Dead)
	pendingA, sentA := seed("groups/riverside", caseA, dispatch.Pending), seed("groups/riverside", caseA, dispatch.Sent)
	otherGroup := seed("groups/hillside", "groups/hillside/cases/AAAA-1111", dispatch.Dead)
	add(t, s, deadA1, deadA2, deadB, deadNoCase, pendingA, sentA, otherGroup)
	// The deaths are untold, as a death the sender records is.
	if _, err := s.Pool.Exec(ctx, `UPDATE deliveries SET death_told = false WHERE state = 'dead'`); err != nil {
		t.Fatal(err)
	}
	revived := dispatch.Delivery{State: dispatch.Dead}.Retried(now)

	read := func(d dispatch.Delivery) (dispatch.Delivery, bool) {
		t.Helper()
		var told bool
		got, err := scan(s.Pool.QueryRow(ctx, `SELECT `+columns+` FROM deliveries WHERE id = $1`, d.ID))
		if err == nil {
			err = s.Pool.QueryRow(ctx, `SELECT death_told FROM deliveries WHERE id = $1`, d.ID).Scan(&told)
		}
		if err != nil {
			t.Fatal(err)
		}
		return got, told
	}
	wantRevived := func(stage string, ds ...dispatch.Delivery) {
		t.Helper()
		for _, d := range ds {
			got, told := read(d)
			if got.State != dispatch.Pending || got.Failures != 0 || got.Attempts != d.Attempts || !got.NextAttemptAt.Equal(now) || !told || got.LastError != d.LastError {
				t.Errorf("%s: %s is %v after %d attempts and %d counted failures, due %v, told %v, last error %q; "+
					"want pending now, its %d attempts, no counted failures, told, its last error",
					stage, d.Facts[dispatch.FactCase], got.State, got.Attempts, got.Failures, got.NextAttemptAt, told, got.LastError, d.Attempts)
			}
		}
	}
	wantUntouched := func(stage string, ds ...dispatch.Delivery) {
		t.Helper()
		for _, d := range ds {
			got, _ := read(d)
			if got.State != d.State || got.Attempts != d.Attempts || got.Failures != d.Failures || !got.NextAttemptAt.Equal(d.NextAttemptAt) {
				t.Errorf("%s: %s %v was changed to %v after %d attempts, due %v", stage, d.Group, d.State, got.State, got.Attempts, got.NextAttemptAt)
			}
		}
	}

	steps := []struct {
		name     string
		caseName string
		want     int
		revived  []dispatch.Delivery
		kept     []dispatch.Delivery
	}{
		{"one case", caseA, 2, []dispatch.Delivery{deadA1, deadA2}, []dispatch.Delivery{deadB, deadNoCase, pendingA, sentA, otherGroup}},
		{"the rest of the group", "", 2, []dispatch.Delivery{deadB, deadNoCase}, []dispatch.Delivery{pendingA, sentA, otherGroup}},
		{"nothing left dead", "", 0, nil, []dispatch.Delivery{pendingA, sentA, otherGroup}},
	}
	for _, st := range steps { // in order: each step sees the last one's work
		n, err := s.RetryDead(ctx, "groups/riverside", st.caseName, revived)
		if err != nil || n != st.want {
			t.Fatalf("%s: RetryDead = %d, %v; want %d", st.name, n, err, st.want)
		}
		wantRevived(st.name, st.revived...)
		wantUntouched(st.name, st.kept...)
	}
}
