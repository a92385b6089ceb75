package bench

import (
	"fmt"
	"html"
	"io"
	"maps"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/stack/launch"
)

// webClients is how many clients ask for each page at once, each on its
// own keep-alive connection.
const webClients = 20

// aloneRequests is how many times, at most, one client alone asks for each
// page after the measurement, for the time a page takes without waiting.
const aloneRequests = 200

// The website's goals (issue 14): the 95th percentile of the time a page
// takes, and each page's weight (its HTML with the stylesheets and scripts
// it loads, images apart), in bytes (a kB is 1,000 bytes).
const (
	goalP95    = 30 * time.Millisecond
	goalWeight = 60_000
)

// webPage is one page the benchmark asks for.
type webPage struct {
	name string
	// path is the page's path, where {case} stands for the path of the
	// client's case; a POST sends form's values.
	path string
	form func() url.Values
	// h1 is the page's heading, which every answer must have.
	h1 string
	// signedIn sends the client's session cookie.
	signedIn bool
}

// webPages are the pages measured, in order: the client's pages as they
// exist, each a line. The concern's POST comes last, so that the work each
// new concern leaves behind (casework opening its case, notification's
// e-mails) falls on no other page.
func webPages(groupName string) []webPage {
	group := "/" + demo.GroupID
	return []webPage{
		{name: "group", path: group + "/", h1: groupName},
		{name: "statement", path: group + "/statement", h1: "Our ethical statement"},
		{name: "concern form", path: group + "/concern", h1: "Raise a concern"},
		{name: "sign-in form", path: group + "/sign-in", h1: "Come back to your concern"},
		{name: "case", path: "{case}", h1: "Your concern", signedIn: true},
		{name: "meetings", path: "{case}/meetings", h1: "Meetings", signedIn: true},
		{name: "written statement", path: "{case}/written-statement", h1: "What your support person wrote", signedIn: true},
		{name: "response", path: "{case}/response", h1: "The practitioner's response", signedIn: true},
		{name: "messages", path: "{case}/messages", h1: "Messages with your support person", signedIn: true},
		{name: "withdraw", path: "{case}/withdraw", h1: "Withdraw your concern", signedIn: true},
		{name: "concern POST", path: group + "/concern", form: concernForm, h1: "Your concern has been sent"},
	}
}

// concernForm is the concern form as a client fills it in, with a fresh
// request id (made by the form page) each time.
func concernForm() url.Values {
	i := webConcerns.Add(1)
	return url.Values{
		"requestId":      {newUUID()},
		"practitioner":   {strings.TrimPrefix(practitioner, "groups/"+demo.GroupID+"/members/")},
		"description":    {description(i)},
		"desiredOutcome": {"An explanation of what happened, and to be heard."},
		"clientName":     {clientName(i)},
		"email":          {clientEmail(i)},
		"phone":          {clientPhone(i)},
		"website":        {""},
	}
}

// webConcerns numbers the concerns sent through the website.
var webConcerns atomic.Int64

// BenchmarkWebPages asks for each of the website's pages from 20 concurrent
// clients, each signed in to a case of their own, b.N times in all, through
// the website, the gateway and the services of the whole system (started as
// for BenchmarkConcernsOverREST), and reports the time each answer took as its client saw it (p50_ms,
// p95_ms) and the page's weight (page_bytes). Any answer but a 200 with the
// page's heading fails it. It ends with a table of every page against the
// goals.
func BenchmarkWebPages(b *testing.B) {
	// The website believes the benchmark's X-Forwarded-For, as it would a
	// reverse proxy's, and passes it on: every concern then comes from an
	// address of its own, and intake's limit of CONCERNS_PER_ADDRESS is
	// applied (and paid for) as for visitors, without refusing any.
	env := startSystem(b, map[string][]string{"web": {"TRUSTED_PROXIES=127.0.0.1/32"}})
	clients := env.webClients(b)
	results := map[string]webResult{}
	assets := map[string]int{}
	pages := webPages(clients[0].c.groupName)
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			env.settle(b)
			// One untimed request on each connection first: the
			// connection is open, the page checked, before the clock runs.
			for i := range clients {
				env.askAll(b, clients[i:i+1], p, 1)
			}
			cpu := env.cpuTime()
			b.ResetTimer()
			start := time.Now()
			times, sample := env.askAll(b, clients, p, b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			r := webResult{
				p50: percentile(times, 0.50), p95: percentile(times, 0.95),
				rate: float64(b.N) / elapsed.Seconds(), requests: b.N,
				bytes: env.weight(b, clients[0].http, sample, assets), cpu: cpuPer(cpu, env.cpuTime(), b.N),
			}
			// The same page for one client alone, once the system has
			// done with what the run left (the concerns' cases and
			// e-mails): the time a page takes without waiting behind
			// the others for the cores.
			env.settle(b)
			alone, _ := env.askAll(b, clients[:1], p, min(b.N, aloneRequests))
			r.alone = percentile(alone, 0.50)
			results[p.name] = r
			b.ReportMetric(ms(r.p50), "p50_ms")
			b.ReportMetric(ms(r.p95), "p95_ms")
			b.ReportMetric(float64(r.bytes), "page_bytes")
			b.ReportMetric(r.rate, "pages/s")
			b.ReportMetric(ms(r.alone), "alone_p50_ms")
		})
	}
	printWebTable(os.Stdout, pages, results)
}

// webResult is one line of the final table.
type webResult struct {
	p50, p95 time.Duration
	// alone is the median time with one client.
	alone    time.Duration
	rate     float64
	requests int
	bytes    int
	// cpu is the CPU time each process used, in milliseconds per page;
	// nil where it cannot be read.
	cpu map[string]float64
}

// webClient is one of the benchmark's clients: a browser, and the person
// signed in to their case with it.
type webClient struct {
	http *http.Client
	c    *webCase
}

// webClients are the benchmark's clients, each signed in to a case of their
// own (as 20 people would be: each page reads and writes its case's rows,
// and the access log of each case takes its reads one at a time), and each
// with one keep-alive connection of its own (as a browser keeps one to a
// site), following no redirect and asking for no compression (the website
// serves none, and the bytes counted are those sent).
func (e *env) webClients(b *testing.B) []webClient {
	b.Helper()
	out := make([]webClient, webClients)
	for i := range out {
		out[i] = webClient{c: e.prepareWebCase(b, int64(i)), http: &http.Client{Timeout: time.Minute,
			Transport:     &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	}
	return out
}

// visitors numbers the addresses the benchmark's requests come from.
var visitors atomic.Uint32

// visitor is the next address the website is told a request comes from:
// one of 198.18.0.0/15 (set aside for benchmarks, RFC 2544) in turn, so
// that no address sends a concern again for 131,072 requests.
func visitor() string {
	n := visitors.Add(1) % (1 << 17)
	return netip.AddrFrom4([4]byte{198, 18 + byte(n>>16), byte(n >> 8), byte(n)}).String()
}

// askAll asks for the page total times from the clients at once, each
// taking the next request until all are sent, and returns how long each
// answer took and one answer's HTML. Unless every answer is a 200 with the
// page's heading, it fails the benchmark with the count of each kind of
// answer.
func (e *env) askAll(b *testing.B, clients []webClient, p webPage, total int) ([]time.Duration, string) {
	b.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	var times []time.Duration
	var sample string
	kinds := map[string]int{}
	firstBad := ""
	var wg sync.WaitGroup
	for _, client := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for next.Add(1) <= int64(total) {
				took, page, kind := e.ask(client, p)
				mine = append(mine, took)
				mu.Lock()
				kinds[kind]++
				switch {
				case kind != "ok" && firstBad == "" && !strings.HasPrefix(page, "<!doctype html>"):
					// A page is told by its heading, in kind; anything
					// else by its start.
					firstBad = kind + ": " + truncate(page, 300)
				case kind == "ok" && sample == "":
					sample = page
				}
				mu.Unlock()
			}
			mu.Lock()
			times = append(times, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if kinds["ok"] != total {
		var counts []string
		for _, k := range slices.Sorted(maps.Keys(kinds)) {
			what := k
			if k == "ok" {
				what = "as they should be"
			}
			counts = append(counts, fmt.Sprintf("%d %s", kinds[k], what))
		}
		if firstBad != "" {
			counts = append(counts, "the first not a page: "+firstBad)
		}
		b.Fatalf("%s %s: %d of %d answers were 200 with the heading %q; %s",
			method(p), p.path, kinds["ok"], total, p.h1, strings.Join(counts, "; "))
	}
	return times, sample
}

func method(p webPage) string {
	if p.form != nil {
		return http.MethodPost
	}
	return http.MethodGet
}

// ask asks for the page once and returns how long the whole answer took to
// arrive, the answer, and its kind: "ok", or what was wrong with it.
func (e *env) ask(client webClient, p webPage) (time.Duration, string, string) {
	var body io.Reader
	if p.form != nil {
		body = strings.NewReader(p.form().Encode())
	}
	req, err := http.NewRequest(method(p), e.sys.WebURL()+strings.ReplaceAll(p.path, "{case}", client.c.path), body)
	if err != nil {
		return 0, err.Error(), "no request"
	}
	if p.form != nil {
		sameOrigin(req, e.sys.WebURL())
	}
	if p.signedIn {
		req.AddCookie(client.c.cookie)
	}
	req.Header.Set("X-Forwarded-For", visitor())
	start := time.Now()
	resp, err := client.http.Do(req)
	if err != nil {
		return time.Since(start), err.Error(), "without an answer"
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	switch {
	case err != nil:
		return took, err.Error(), fmt.Sprintf("HTTP %d cut short", resp.StatusCode)
	case resp.StatusCode != http.StatusOK || heading(string(page)) != p.h1:
		return took, string(page), fmt.Sprintf("HTTP %d with the heading %q", resp.StatusCode, heading(string(page)))
	}
	return took, string(page), "ok"
}

var (
	h1Element  = regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`)
	tag        = regexp.MustCompile(`<[^>]*>`)
	stylesheet = regexp.MustCompile(`<link\s[^>]*\brel="stylesheet"[^>]*>`)
	script     = regexp.MustCompile(`<script\s[^>]*>`)
	hrefAttr   = regexp.MustCompile(`\bhref="([^"]*)"`)
	srcAttr    = regexp.MustCompile(`\bsrc="([^"]*)"`)
)

// heading is the text of the page's first h1.
func heading(page string) string {
	m := h1Element.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(tag.ReplaceAllString(m[1], "")))
}

// weight is the page's weight in bytes: its HTML and each stylesheet and
// script it refers to, each counted once (a browser fetches it once);
// images (the icon) apart. sizes keeps the files' sizes across pages.
func (e *env) weight(b *testing.B, client *http.Client, page string, sizes map[string]int) int {
	b.Helper()
	refs := map[string]bool{}
	for _, l := range stylesheet.FindAllString(page, -1) {
		if m := hrefAttr.FindStringSubmatch(l); m != nil {
			refs[html.UnescapeString(m[1])] = true
		}
	}
	for _, s := range script.FindAllString(page, -1) {
		if m := srcAttr.FindStringSubmatch(s); m != nil {
			refs[html.UnescapeString(m[1])] = true
		}
	}
	total := len(page)
	for ref := range refs {
		n, ok := sizes[ref]
		if !ok {
			n = e.fileSize(b, client, ref)
			sizes[ref] = n
		}
		total += n
	}
	return total
}

// fileSize fetches one of the website's files and returns its size.
func (e *env) fileSize(b *testing.B, client *http.Client, ref string) int {
	b.Helper()
	if !strings.HasPrefix(ref, "/") {
		b.Fatalf("the page refers to %q, not a file of the website's own", ref)
	}
	resp, err := client.Get(e.sys.WebURL() + ref)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: HTTP %d %v", ref, resp.StatusCode, err)
	}
	return len(body)
}

// percentile is the q-quantile of times by the nearest rank.
func percentile(times []time.Duration, q float64) time.Duration {
	if len(times) == 0 {
		return 0
	}
	s := slices.Clone(times)
	slices.Sort(s)
	return s[max(0, int(math.Ceil(q*float64(len(s))))-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// printWebTable prints every page measured against the goals, then where
// the CPU time went for each.
func printWebTable(w io.Writer, pages []webPage, results map[string]webResult) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\nThe website's pages, %d clients at once; times as the clients saw them, end to end through the website, the gateway and the services:\n", webClients)
	fmt.Fprintf(w, "%-18s | %8s | %6s | %6s | %6s | %6s | %9s | %6s\n", "page", "requests", "p50 ms", "p95 ms", "p95 ok", "bytes", "weight ok", "alone")
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", 18+8+6*5+9+7*3))
	for _, p := range pages {
		r, ok := results[p.name]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%-18s | %8d | %6.1f | %6.1f | %6s | %6d | %9s | %6.1f\n", p.name, r.requests, ms(r.p50), ms(r.p95),
			verdict(r.p95 <= goalP95), r.bytes, verdict(r.bytes < goalWeight), ms(r.alone))
	}
	fmt.Fprintf(w, "Goals: p95 ≤ %v, and under %d bytes of HTML, stylesheets and scripts. alone: the p50 in ms of one client alone.\n", goalP95, goalWeight)
	fmt.Fprintln(w)

	// The CPU table's columns: the processes, then PostgreSQL's backends
	// and its own processes together.
	names := append(slices.Clone(launch.Processes), "postgres")
	fmt.Fprintln(w, "CPU time per page, in ms (the machine's other work not included):")
	fmt.Fprintf(w, "%-18s", "page")
	for _, n := range append(names, "total", "pages/s") {
		fmt.Fprintf(w, " | %12s", n)
	}
	fmt.Fprintln(w)
	for _, p := range pages {
		r, ok := results[p.name]
		if !ok || r.cpu == nil {
			continue
		}
		fmt.Fprintf(w, "%-18s", p.name)
		total := 0.0
		for _, n := range names {
			v := r.cpu[n]
			if n == "postgres" {
				v = 0
				for k, t := range r.cpu {
					if strings.HasPrefix(k, "postgres:") {
						v += t
					}
				}
			}
			total += v
			fmt.Fprintf(w, " | %12.2f", v)
		}
		fmt.Fprintf(w, " | %12.2f | %12.0f\n", total, r.rate)
	}
	fmt.Fprintln(w)
}

func verdict(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
