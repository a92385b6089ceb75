package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// window is one fault's share of the run: from its injection to the end of
// the calm spell after it.
type window struct {
	fault      fault
	start, end time.Time
	// restored is when what failed was back.
	restored time.Time
}

func (w window) holds(t time.Time) bool { return !t.Before(w.start) && t.Before(w.end) }

// settled is what the databases say of the acknowledged concerns.
type settled struct {
	members int
	// inIntake, cases and the delivery counts are by concern name.
	inIntake        map[string]bool
	cases           map[string]int
	sent, dead, all map[string]int
	// concerns is how many concerns intake holds; pending how many
	// deliveries are still to go, dead how many died.
	concerns, pending, deadTotal int
	acked                        []string
}

// done says nothing more will change: every acknowledged concern has its
// case, and no delivery is still to go.
func (s settled) done() bool {
	if s.inIntake == nil {
		return false
	}
	for _, name := range s.acked {
		if s.cases[name] == 0 || s.all[name] < s.members {
			return false
		}
	}
	return s.pending == 0
}

// lost says what became of an acknowledged concern that did not get its
// case and an e-mail to every member, or "" when it did.
func (s settled) lost(name string) string {
	switch {
	case !s.inIntake[name]:
		return "not in intake"
	case s.cases[name] == 0:
		return "no case"
	case s.sent[name] < s.members:
		return fmt.Sprintf("%d of %d e-mails sent (%d dead)", s.sent[name], s.members, s.dead[name])
	}
	return ""
}

// duplicated says whether an acknowledged concern got more than one case or
// more than one e-mail per member.
func (s settled) duplicated(name string) bool {
	return s.cases[name] > 1 || s.all[name] > s.members
}

func (h *harness) settledState(ctx context.Context, t *testing.T, acked []string) settled {
	t.Helper()
	s := settled{
		members: h.members, acked: acked,
		inIntake: map[string]bool{}, cases: map[string]int{},
		sent: map[string]int{}, dead: map[string]int{}, all: map[string]int{},
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// PostgreSQL may be busy recovering; the next poll tries again. One
	// snapshot for every read (REPEATABLE READ): under READ COMMITTED each
	// statement sees its own, and a delivery recorded sent between the
	// per-concern counts and the count of pending ones made a settled
	// system look as if it had lost that e-mail.
	err := pgx.BeginTxFunc(ctx, h.db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT 'groups/' || group_id || '/concerns/' || id FROM intake.concerns`)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, n := range names {
			s.inIntake[n] = true
		}
		s.concerns = len(names)
		rows, err = tx.Query(ctx, `SELECT concern, count(*) FROM casework.cases GROUP BY concern`)
		if err != nil {
			return err
		}
		var name string
		var n, sent, dead int
		if _, err := pgx.ForEachRow(rows, []any{&name, &n}, func() error { s.cases[name] = n; return nil }); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT facts->>'concern', count(*),
			count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state = 'dead')
			FROM notification.deliveries WHERE event_type = 'ipn.disputes.events.v1.ConcernRegistered' GROUP BY 1`)
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&name, &n, &sent, &dead}, func() error {
			s.all[name], s.sent[name], s.dead[name] = n, sent, dead
			return nil
		}); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'dead')
			FROM notification.deliveries`).Scan(&s.pending, &s.deadTotal)
	})
	if err != nil {
		t.Logf("reading the outcome: %v (will look again)", err)
		return settled{}
	}
	return s
}

// pendingDeliveries is how many deliveries wait to be sent, for the log.
func (h *harness) pendingDeliveries(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var n int
	_ = h.db.QueryRow(ctx, `SELECT count(*) FROM notification.deliveries WHERE state = 'pending'`).Scan(&n)
	return n
}

// recovery is how long after a fault's end each kind of caller took to
// work again.
type recovery struct {
	// cases is the first case opened after the return: casework consumes
	// again (and intake's relay publishes, and the directory answers it).
	cases time.Duration
	// mail is the first e-mail handed to the mail server after the return:
	// notification's sender works again.
	mail time.Duration
}

// recoveries reads from the databases when, after each fault's end, the
// first case opened and the first e-mail went.
func (h *harness) recoveries(ctx context.Context, t *testing.T, ws []window) []recovery {
	t.Helper()
	out := make([]recovery, len(ws))
	for i, w := range ws {
		var firstCase, firstMail *time.Time
		if err := h.db.QueryRow(ctx, `SELECT min(create_time) FROM casework.cases WHERE create_time >= $1`, w.restored).Scan(&firstCase); err != nil {
			t.Errorf("%s: first case after the return: %v", w.fault.name, err)
		}
		if err := h.db.QueryRow(ctx, `SELECT min(send_time) FROM notification.deliveries WHERE send_time >= $1`, w.restored).Scan(&firstMail); err != nil {
			t.Errorf("%s: first e-mail after the return: %v", w.fault.name, err)
		}
		out[i] = recovery{cases: since(w.restored, firstCase), mail: since(w.restored, firstMail)}
	}
	return out
}

// since is how long after from at came; -1 when it never came.
func since(from time.Time, at *time.Time) time.Duration {
	if at == nil {
		return -1
	}
	return at.Sub(from)
}

// row is one line of the table.
type row struct {
	name string
	// gatewayDown: requests without an answer are expected.
	gatewayDown              bool
	acked, cases, lost, dups int
	errors                   map[string]int
	slow                     int
	// longest is the longest exchange, connecting included.
	longest time.Duration
	// rest is when REST worked again; cases and mail as in recovery.
	rest, cases2, mail time.Duration
	problems           []string
}

func (r row) recovery() time.Duration { return max(r.rest, r.cases2, r.mail) }

// report is the outcome of the run.
type report struct {
	rows []row
	// extra is how many concerns intake holds beyond those acknowledged:
	// registered twice, or for a request never acknowledged.
	extra    int
	deadAll  int
	refusals []string
}

// analyse sorts every exchange and every acknowledged concern into the
// window of the fault it happened under.
func analyse(ws []window, reqs []concernRequest, reads []attempt, st settled, recs []recovery) report {
	var rep report
	rep.deadAll = st.deadTotal
	distinct := map[string]bool{}
	for _, r := range reqs {
		if r.name != "" {
			distinct[r.name] = true
		}
		if r.refused != "" {
			rep.refusals = append(rep.refusals, r.refused)
		}
	}
	rep.extra = st.concerns - len(distinct)
	for i, w := range ws {
		rw := row{name: w.fault.name, gatewayDown: w.fault.gatewayDown, errors: map[string]int{}, cases2: recs[i].cases, mail: recs[i].mail}
		var exchanges []attempt
		for _, r := range reqs {
			exchanges = append(exchanges, r.attempts...)
			if len(r.attempts) == 0 || !w.holds(r.attempts[0].start) || r.name == "" {
				continue
			}
			rw.acked++
			if st.cases[r.name] == 1 {
				rw.cases++
			}
			if why := st.lost(r.name); why != "" {
				rw.lost++
				if len(rw.problems) < 5 {
					rw.problems = append(rw.problems, r.name+": "+why)
				}
			}
			if st.duplicated(r.name) {
				rw.dups++
			}
		}
		exchanges = append(exchanges, reads...)
		var lastFail, firstOK time.Time
		for _, a := range exchanges {
			if !w.holds(a.start) {
				continue
			}
			if !a.sent.IsZero() && a.end.Sub(a.sent) > backendTimeout+answerSlack {
				rw.slow++
			}
			rw.longest = max(rw.longest, a.end.Sub(a.start))
			if !a.ok() {
				rw.errors[label(a)]++
			}
			// After the return, and over before the next fault began: a
			// request the next fault cut short says nothing of this one.
			if a.start.Before(w.restored) || !a.end.Before(w.end) {
				continue
			}
			if a.ok() {
				if firstOK.IsZero() || a.end.Before(firstOK) {
					firstOK = a.end
				}
			} else if a.end.After(lastFail) {
				lastFail = a.end
			}
		}
		switch {
		case firstOK.IsZero():
			rw.rest = -1
		case lastFail.After(firstOK):
			rw.rest = lastFail.Sub(w.restored)
		default:
			rw.rest = firstOK.Sub(w.restored)
		}
		rep.rows = append(rep.rows, rw)
	}
	return rep
}

// label names an exchange's failure for the table.
func label(a attempt) string {
	if a.status == 0 {
		return "no answer"
	}
	return fmt.Sprint(a.status)
}

func (rep report) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-30s %6s %6s %5s %5s %6s %8s  %-10s  %s\n", "fault", "acked", "cases", "lost", "dupl", "slow", "longest", "recovery", "errors seen (REST answers)")
	var total row
	for _, r := range rep.rows {
		fmt.Fprintf(&b, "%-30s %6d %6d %5d %5d %6d %8s  %-10s  %s\n", r.name, r.acked, r.cases, r.lost, r.dups, r.slow, seconds(r.longest), seconds(r.recovery()), errorList(r.errors))
		total.acked += r.acked
		total.cases += r.cases
		total.lost += r.lost
		total.dups += r.dups
		total.slow += r.slow
	}
	fmt.Fprintf(&b, "%-30s %6d %6d %5d %5d %6d\n", "all faults", total.acked, total.cases, total.lost, total.dups, total.slow)
	fmt.Fprintf(&b, "concerns in intake beyond those acknowledged: %d; dead deliveries: %d\n", rep.extra, rep.deadAll)
	fmt.Fprintf(&b, "recovery = the longest of: REST answering 2xx again, the first case opened, the first e-mail sent, after the return\n")
	return b.String()
}

func seconds(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func errorList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

// check fails the test on every broken promise.
func (rep report) check(t *testing.T) {
	t.Helper()
	for _, r := range rep.refusals {
		t.Errorf("a concern was refused for good: %s", r)
	}
	if rep.extra != 0 {
		t.Errorf("intake holds %d concerns beyond those acknowledged", rep.extra)
	}
	if rep.deadAll != 0 {
		t.Errorf("%d deliveries are dead", rep.deadAll)
	}
	for _, r := range rep.rows {
		if r.lost > 0 {
			t.Errorf("%s: %d acknowledged concerns lost, for example %s", r.name, r.lost, strings.Join(r.problems, "; "))
		}
		if r.dups > 0 {
			t.Errorf("%s: %d concerns with more than one case or e-mail per member", r.name, r.dups)
		}
		if r.acked != r.cases {
			t.Errorf("%s: %d concerns acknowledged, %d with exactly one case", r.name, r.acked, r.cases)
		}
		if r.slow > 0 {
			t.Errorf("%s: %d requests waited longer than the gateway's deadline (%s)", r.name, r.slow, backendTimeout)
		}
		for k, n := range r.errors {
			if k == "503" || k == "504" || (k == "no answer" && r.gatewayDown) {
				continue
			}
			t.Errorf("%s: %d requests answered %s; only 2xx, 503 and 504 are allowed", r.name, n, k)
		}
		if d := r.recovery(); d < 0 || d > recoveryLimit {
			t.Errorf("%s: callers worked again %s after the return (REST %s, cases %s, e-mail %s); the limit is %s",
				r.name, seconds(d), seconds(r.rest), seconds(r.cases2), seconds(r.mail), recoveryLimit)
		}
	}
}

// acknowledged lists the names of the acknowledged concerns.
func acknowledged(reqs []concernRequest) []string {
	var out []string
	for _, r := range reqs {
		if r.name != "" {
			out = append(out, r.name)
		}
	}
	return out
}

// unacknowledged counts the concerns still waiting for their answer.
func (l *load) unacknowledged() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		if r.name == "" && r.refused == "" {
			n++
		}
	}
	return n
}

// checkReplays sends every acknowledged concern again with its request id:
// each must get the same concern and the same access code back.
func (h *harness) checkReplays(ctx context.Context, t *testing.T, l *load, acked []string) {
	t.Helper()
	reqs, _ := l.snapshot()
	work := make(chan concernRequest)
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				a, b := l.exchange(ctx, http.MethodPost, "/v1/groups/riverside/concerns?requestId="+r.id, "", r.body)
				var why string
				var ans concernAnswer
				switch {
				case !a.ok():
					why = fmt.Sprintf("HTTP %d", a.status)
				case json.Unmarshal(b, &ans) != nil:
					why = "an answer that is not a concern"
				case ans.Name != r.name:
					why = "another concern"
				case ans.AccessCode != r.code:
					why = "another access code"
				}
				if why != "" {
					mu.Lock()
					bad = append(bad, r.name+": "+why)
					mu.Unlock()
				}
			}
		}()
	}
	for _, r := range reqs {
		if r.name != "" {
			work <- r
		}
	}
	close(work)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("%d of %d replays did not get the same concern and code, for example %s", len(bad), len(acked), strings.Join(bad[:min(5, len(bad))], "; "))
	}
}

// checkParked fails when a consumer parked an event.
func (h *harness) checkParked(ctx context.Context, t *testing.T) {
	t.Helper()
	for _, schema := range []string{"directory", "intake", "casework", "notification"} {
		var n int
		if err := h.db.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "parked_events"}.Sanitize()).Scan(&n); err != nil {
			t.Errorf("%s: count parked events: %v", schema, err)
			continue
		}
		if n > 0 {
			t.Errorf("%s parked %d events", schema, n)
		}
	}
}
