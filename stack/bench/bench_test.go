// Package bench measures the public form's throughput: concerns registered
// per second through the REST API of the whole system, started as make run
// starts it on a durable private PostgreSQL, beside pgbench's rate for the
// same transaction (the concern row and its outbox row) on that same
// PostgreSQL. The ratio of the two says how much of the database's capacity
// for that write the services deliver to clients. Run it with make bench;
// see README.md.
package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// clientCounts are the numbers of concurrent clients measured.
var clientCounts = []int{1, 8, 32}

// practitioner is the demo member every benchmark concern is about.
const practitioner = "groups/" + demo.GroupID + "/members/cal-reyes"

// descriptionLengths are the lengths, in characters, of the concerns'
// text, used in turn: from a few lines to a long page, as clients write.
var descriptionLengths = []int{300, 800, 1600, 3000}

// settleTimeout bounds the wait for the system to finish the previous
// round's concerns (see settle) before the next measurement.
const settleTimeout = 5 * time.Minute

// BenchmarkConcernsOverREST registers b.N concerns through POST
// /v1/groups/riverside/concerns, each with a fresh request id, from 1, 8
// and 32 concurrent clients, and reports concerns/s beside pgbench's rate
// for the same transaction on the same PostgreSQL (pgbench_tps) and their
// ratio. Any answer but a 2xx fails it.
func BenchmarkConcernsOverREST(b *testing.B) {
	env := startSystem(b, nil)
	results := map[int]row{}
	for _, n := range clientCounts {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			env.settle(b)
			r, ok := results[n]
			if !ok {
				// Once per client count, on a quiet system: the first
				// (one-iteration) run of the sub-benchmark measures
				// pgbench, and the measured run reuses it.
				r.pgbenchTPS = env.pgbench(b, n)
			}
			cpu := env.cpuTime()
			b.ResetTimer()
			start := time.Now()
			env.post(b, n, b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			r.cpu = cpuPer(cpu, env.cpuTime(), b.N)
			r.clients, r.concerns = n, b.N
			r.rest = float64(b.N) / elapsed.Seconds()
			results[n] = r
			b.ReportMetric(r.rest, "concerns/s")
			b.ReportMetric(r.pgbenchTPS, "pgbench_tps")
			b.ReportMetric(r.rest/r.pgbenchTPS, "ratio")
		})
	}
	printTable(os.Stdout, results)
}

// row is one line of the final table.
type row struct {
	clients, concerns int
	rest, pgbenchTPS  float64
	// cpu is the CPU time each process used during the REST run, in
	// milliseconds per concern; nil where it cannot be read.
	cpu map[string]float64
}

func printTable(w io.Writer, results map[int]row) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%7s | %15s | %11s | %6s\n", "clients", "REST concerns/s", "pgbench tps", "ratio")
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", 7+3+15+3+11+3+6))
	for _, n := range clientCounts {
		r, ok := results[n]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%7d | %15.1f | %11.1f | %5.3f×\n", n, r.rest, r.pgbenchTPS, r.rest/r.pgbenchTPS)
	}
	fmt.Fprintln(w)
	printCPU(w, results)
}

// printCPU prints where the CPU time of the REST runs went, by process, when
// it could be read: what to make faster to raise the ratio.
func printCPU(w io.Writer, results map[int]row) {
	var measured []int
	for _, n := range clientCounts {
		if r, ok := results[n]; ok && r.cpu != nil {
			measured = append(measured, n)
		}
	}
	if len(measured) == 0 {
		return
	}
	fmt.Fprintln(w, "CPU time per concern during the REST runs, in ms (the background e-mails included, the machine's other work not):")
	var names []string
	for _, name := range processes {
		names = append(names, name)
		if slices.Contains(launch.Services, name) {
			names = append(names, "postgres:"+name)
		}
	}
	names = append(names, "postgres:"+pgOther)
	fmt.Fprintf(w, "%-30s", "")
	for _, n := range measured {
		fmt.Fprintf(w, " | %10s", fmt.Sprintf("clients=%d", n))
	}
	fmt.Fprintln(w)
	totals := map[int]float64{}
	for _, name := range append(names, "total") {
		label, ok := strings.CutPrefix(name, "postgres:")
		switch {
		case label == pgOther:
			label = "  PostgreSQL, the rest"
		case ok:
			label = "  PostgreSQL for " + label
		}
		fmt.Fprintf(w, "%-30s", label)
		for _, n := range measured {
			v := results[n].cpu[name]
			if name == "total" {
				v = totals[n]
			}
			totals[n] += v
			fmt.Fprintf(w, " | %10.2f", v)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// env is the running system the benchmark measures.
type env struct {
	sys     *launch.System
	dbURL   string
	pool    *pgxpool.Pool
	js      jetstream.JetStream
	dataDir string
	// mailURL is mailpit's web view and API, where the system's mail goes.
	mailURL string
	client  *http.Client
	// creds are the demo members' access tokens.
	creds []demo.Credential
	// seq numbers the concerns across every run, for unique content.
	seq atomic.Int64
}

// startSystem starts PostgreSQL (durable), NATS and mailpit, builds and
// starts the four services, the gateway and the website as make run does,
// on free ports
// and in a folder of its own, and loads the demo group. settings are more
// environment variables for a process, by its name (launch.System's
// Settings). Everything is stopped and removed when the benchmark ends.
func startSystem(b *testing.B, settings map[string][]string) *env {
	b.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	dataDir := testenv.OpenTempDir(b, "disputes-bench-")
	e := &env{dataDir: dataDir}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	ports, err := launch.FreePorts(9)
	if err != nil {
		b.Fatal(err)
	}
	infra, err := launch.StartInfra(ctx, dataDir, "", "", "", launch.InfraPorts{
		Postgres: ports[0], NATS: ports[1], SMTP: ports[2], MailViewer: ports[3]})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(infra.Stop)
	e.dbURL, e.mailURL = infra.DatabaseURL, infra.MailViewerURL

	bin := filepath.Join(dataDir, "bin")
	if err := launch.Build(ctx, root, bin); err != nil {
		b.Fatal(err)
	}
	e.sys = &launch.System{
		BinDir:      bin,
		DatabaseURL: infra.DatabaseURL,
		NATSURL:     infra.NATSURL,
		SMTPAddr:    infra.SMTPAddr,
		Ports: launch.Ports{Directory: ports[4], Intake: ports[5], Casework: ports[6],
			Notification: ports[7], Gateway: ports[8]},
		// make run's level: the request log is part of the cost.
		LogLevel: "info",
		Settings: settings,
		Logs: func(name string) io.Writer {
			f, err := launch.LogFile(dataDir, name)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.Close() })
			return f
		},
	}
	e.sys.NewSecrets()
	b.Cleanup(func() {
		if err := e.sys.StopAll(15 * time.Second); err != nil {
			b.Errorf("graceful stop: %v", err)
		}
		if b.Failed() {
			b.Logf("the processes' logs are in %s", filepath.Join(dataDir, "logs"))
		}
	})
	if err := e.sys.StartAll(ctx); err != nil {
		b.Fatal(err)
	}
	if e.creds, err = e.sys.LoadDemo(ctx); err != nil {
		b.Fatal(err)
	}
	if e.pool, err = pgxpool.New(context.Background(), infra.DatabaseURL); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.pool.Close)
	nc, err := nats.Connect(infra.NATSURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	if e.js, err = jetstream.New(nc); err != nil {
		b.Fatal(err)
	}
	// One keep-alive connection per client, as a browser keeps its own.
	e.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	return e
}

// settle waits until the system has done with the concerns registered so
// far, so that one measurement does not pay for the previous one's
// backlog: every outbox empty and every consumer of the event stream
// (casework opening cases, intake handing concerns over, notification
// planning its e-mails) without an event left to take or to acknowledge,
// twice in a row. Notification's e-mails themselves are paced (SEND_RATE)
// and keep going in the background.
func (e *env) settle(b *testing.B) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	quiet := 0
	for {
		left, err := e.backlog(ctx)
		switch {
		case ctx.Err() != nil:
			b.Logf("the system did not settle within %v (%s); measuring anyway", settleTimeout, left)
			return
		case err != nil:
			b.Fatalf("settle: %v", err)
		case left == "":
			if quiet++; quiet == 2 {
				return
			}
		default:
			quiet = 0
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// backlog says what work is left: events in outboxes and events the
// stream's consumers have yet to take or acknowledge; empty when none is.
func (e *env) backlog(ctx context.Context) (string, error) {
	var left []string
	rows, err := e.pool.Query(ctx, `
		SELECT table_schema FROM information_schema.tables
		WHERE table_name = 'outbox' AND table_schema <> $1 ORDER BY 1`, scratchSchema)
	if err != nil {
		return "", err
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	for _, schema := range schemas {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "outbox"}.Sanitize()).Scan(&n); err != nil {
			return "", err
		}
		if n > 0 {
			left = append(left, fmt.Sprintf("%d events in %s's outbox", n, schema))
		}
	}
	stream, err := e.js.Stream(ctx, events.Namespace(e.sys.EventNamespace).Stream())
	if err != nil {
		return "", err
	}
	consumers := stream.ListConsumers(ctx)
	for info := range consumers.Info() {
		if n := info.NumPending + uint64(info.NumAckPending); n > 0 {
			left = append(left, fmt.Sprintf("%d events for consumer %s", n, info.Name))
		}
	}
	if err := consumers.Err(); err != nil {
		return "", err
	}
	return strings.Join(left, ", "), nil
}

// concernReply is what the test reads of CreateConcern's answer.
type concernReply struct {
	Reference  string `json:"reference"`
	AccessCode string `json:"accessCode"`
}

// tally counts the answers by kind.
type tally struct {
	mu       sync.Mutex
	ok       int
	byStatus map[int]int
	errs     int
	sample   string
}

func (t *tally) add(status int, failure string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if failure == "" {
		t.ok++
		return
	}
	if status == 0 {
		t.errs++
	} else {
		if t.byStatus == nil {
			t.byStatus = map[int]int{}
		}
		t.byStatus[status]++
	}
	if t.sample == "" {
		t.sample = failure
	}
}

// post sends total concerns from clients concurrent clients, each taking
// the next concern until all are sent, and fails the benchmark unless every
// answer was a 2xx with a reference and an access code.
func (e *env) post(b *testing.B, clients, total int) {
	b.Helper()
	var next atomic.Int64
	var t tally
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(total) {
				t.add(e.postOne(e.seq.Add(1)))
			}
		})
	}
	wg.Wait()
	if t.ok == total {
		return
	}
	var parts []string
	if n := t.byStatus[http.StatusServiceUnavailable]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d shed with 503", n))
	}
	for status, n := range t.byStatus {
		if status != http.StatusServiceUnavailable {
			parts = append(parts, fmt.Sprintf("%d with HTTP %d", n, status))
		}
	}
	if t.errs > 0 {
		parts = append(parts, fmt.Sprintf("%d without an answer", t.errs))
	}
	b.Fatalf("%d of %d concerns answered 2xx; %s; first: %s", t.ok, total, strings.Join(parts, ", "), t.sample)
}

// postOne sends concern number i and returns the status and, unless it was
// a 2xx with a reference and an access code, what went wrong.
func (e *env) postOne(i int64) (int, string) {
	var reply concernReply
	status, answer, err := e.restCall(http.MethodPost, "/v1/groups/"+demo.GroupID+"/concerns?requestId="+newUUID(), "", map[string]any{
		"practitioner": practitioner,
		"description":  description(i),
		"clientName":   clientName(i),
		"clientContact": map[string]string{
			"email": clientEmail(i),
			"phone": clientPhone(i),
		},
	}, &reply)
	switch {
	case err != nil:
		return status, err.Error()
	case status/100 != 2:
		return status, fmt.Sprintf("HTTP %d: %s", status, truncate(answer, 300))
	case reply.Reference == "" || reply.AccessCode == "":
		return status, fmt.Sprintf("HTTP %d without a reference and access code: %s", status, truncate(answer, 300))
	}
	return status, ""
}

// restCall sends a JSON request to the REST API as the holder of token
// (none when empty), and decodes a 2xx answer into out when out is not nil.
// It returns the status (0 without an answer), the answer's text, and what
// went wrong on the way: no answer, or not the JSON expected.
func (e *env) restCall(method, path, token string, body, out any) (int, string, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, "", err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.sys.GatewayURL()+path, r)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("HTTP %d, cut short: %w", resp.StatusCode, err)
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			return resp.StatusCode, string(answer), fmt.Errorf("HTTP %d: decode %s: %w", resp.StatusCode, truncate(string(answer), 300), err)
		}
	}
	return resp.StatusCode, string(answer), nil
}

// The form's fields for concern number i: fixed lengths for the short
// ones (so that pgbench can write values of the same sizes), and the text
// in turn of each of descriptionLengths.

func clientName(i int64) string  { return fmt.Sprintf("Client %06d", i%1000000) }
func clientEmail(i int64) string { return fmt.Sprintf("client%06d@example.net", i%1000000) }
func clientPhone(int64) string   { return "+44 20 7946 0958" }

// prose is what the descriptions are cut from.
const prose = "I am writing about my sessions with my counsellor over the last few months. " +
	"Several times our sessions ended early without an explanation, and when I asked about it " +
	"I was told that it was nothing to worry about. On one occasion I was charged for a session " +
	"that was cancelled at short notice. I found it hard to raise this at the time and I felt " +
	"unheard when I did. I would like the group to look at what happened and to help us talk " +
	"about it, with someone to support me. "

func description(i int64) string {
	n := descriptionLengths[int(i)%len(descriptionLengths)]
	head := fmt.Sprintf("Concern %d. ", i)
	return head + strings.Repeat(prose, n/len(prose)+1)[:n-len(head)]
}

// newUUID returns a random (version 4) UUID in its canonical form.
func newUUID() string {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		panic(err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
