package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium: CHROMIUM names another binary. make
// test installs the package when it is missing (scripts/ensure-chromium.sh).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("Chromium is not installed: make test installs Debian's chromium package (scripts/ensure-chromium.sh), or set CHROMIUM to a Chromium binary")
	return ""
}

// chrome is one headless Chromium for the whole test; each tab it opens
// has a browser context of its own, so its own cookies, as if a different
// person's browser.
type chrome struct {
	ctx context.Context
}

func startChrome(t *testing.T) *chrome {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // root in a container has no user namespaces for the sandbox
		chromedp.Headless,
		chromedp.WindowSize(desktopWidth, 900),
		chromedp.Flag("lang", "en-GB"),
		chromedp.Flag("hide-scrollbars", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &chrome{ctx: ctx}
}

// Sizes of the screenshots: a phone's screen, and a laptop's width.
const (
	phoneWidth   = 390
	phoneHeight  = 844
	desktopWidth = 1280
)

// tab is one person's browser tab on the website.
type tab struct {
	t      *testing.T
	ctx    context.Context
	site   *url.URL
	script bool
	axe    string
	// shots is where screenshots go; empty takes none.
	shots string

	mu sync.Mutex
	// doc is the answer of the page the tab shows, docID its request.
	doc   *network.Response
	docID network.RequestID
	// sent are the headers of each request as the browser sent them.
	sent map[network.RequestID]network.Headers
	// elsewhere lists the requests to other hosts than the website.
	elsewhere []string
	// never are words no page may show from now on: the members' notes,
	// another client's words, the access code once shown.
	never []string
	names map[string]bool
}

// newTab opens a tab in a fresh browser context: no cookies, and, with
// script false, JavaScript switched off for every page it loads.
func (b *chrome) newTab(t *testing.T, site string, script bool, axe, shots string) *tab {
	t.Helper()
	u, err := url.Parse(site)
	if err != nil {
		t.Fatal(err)
	}
	tb := &tab{t: t, site: u, script: script, axe: axe, shots: shots, names: map[string]bool{}, sent: map[network.RequestID]network.Headers{}}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	tb.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(desktopWidth, 900)); err != nil {
		t.Fatal(err)
	}
	if !script {
		tb.scriptOff(true)
	}
	return tb
}

// listen runs in the tab's event loop: it keeps the main document's answer
// and notes every request that leaves the website.
func (tb *tab) listen(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument {
			tb.doc, tb.docID = ev.Response, ev.RequestID
		}
	case *network.EventRequestWillBeSentExtraInfo:
		tb.sent[ev.RequestID] = ev.Headers
	case *network.EventRequestWillBeSent:
		u, err := url.Parse(ev.Request.URL)
		if err != nil || (u.Scheme != "data" && u.Scheme != "about" && u.Host != tb.site.Host) {
			tb.elsewhere = append(tb.elsewhere, ev.Request.URL)
		}
	}
}

func (tb *tab) scriptOff(off bool) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off}); err != nil {
		tb.t.Fatalf("switch script off=%v: %v", off, err)
	}
}

// do runs actions that stay on the page: typing, choosing.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v", tb.where(), err)
	}
}

// load runs actions that end on a new page (a link or button clicked, an
// address typed, Enter pressed) and waits for that page.
func (tb *tab) load(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: loading the next page: %v", tb.where(), err)
	}
}

// open goes to a path of the website, as typed into the address bar.
func (tb *tab) open(path string) { tb.t.Helper(); tb.load(chromedp.Navigate(tb.site.String() + path)) }

// click clicks the element with the id and waits for the page it leads to.
func (tb *tab) click(id string) { tb.t.Helper(); tb.load(chromedp.Click(chromedp.ID(id))) }

// typeInto clicks into the field with the id and types text.
func (tb *tab) typeInto(id, text string) {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), text))
}

// choose clicks the radio button or checkbox with the id.
func (tb *tab) choose(id string) { tb.t.Helper(); tb.do(chromedp.Click(chromedp.ID(id))) }

func (tb *tab) where() string {
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	return loc
}

// eval evaluates a JavaScript expression in the page, as DevTools does
// (it works with the page's own script switched off).
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("%s: %s: %v", tb.where(), expr, err)
	}
	return v
}

func (tb *tab) text(id string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.getElementById(%q) || {innerText: ""}).innerText.trim()`, id))
}

func (tb *tab) value(id string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.getElementById(%q) || {value: ""}).value`, id))
}

func (tb *tab) has(id string) bool {
	tb.t.Helper()
	return eval[bool](tb, fmt.Sprintf(`document.getElementById(%q) !== null`, id))
}

// hideNever adds words that no page may show from now on.
func (tb *tab) hideNever(words ...string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.never = append(tb.never, words...)
}

// page is what the tab must find on the page it shows.
type page struct {
	// name names the page in messages and its screenshots' files.
	name string
	// status is the HTTP status; 200 when zero.
	status int
	// public pages show neither a case nor anything typed or secret, so
	// they may be stored; every other page must not be.
	public bool
	// see are texts the page shows; hidden are texts it must not show.
	see, hidden []string
	// noShots takes no screenshots of a page already saved as it looked
	// at another point of the walk.
	noShots bool
	// noAxe skips axe for a page whose kind it checked at another point
	// of the walk (it takes a second a page).
	noAxe bool
}

// internal are words of the system's inside that the client must never
// read: role abbreviations, phases and enum values, resource names, step
// names and tokens.
var internal = []*regexp.Regexp{
	regexp.MustCompile(`\b(SPC|SPT|LP)s?\b`),
	regexp.MustCompile(`(?i)\bphases?\b`),
	regexp.MustCompile(`\b(PHASE|OUTCOME|STATE|SHARING|STEP)_[A-Z_]+\b`),
	regexp.MustCompile(`\b(groups|members|cases|concerns|meetings|documents)/[a-z0-9-]+`),
	regexp.MustCompile(`\b[a-z]+(_[a-z]+)+\b`),                       // snake_case: step and field names
	regexp.MustCompile(`\bipn[a-z]*_`),                               // tokens
	regexp.MustCompile(`\b(null|undefined|NaN|nil)\b|%!|<no value>`), // a value a template or a script missed
}

// check checks the page the tab shows: its status and headers, what it
// says and does not say, one h1, the requests it made, the WCAG 2.2 A and
// AA rules; then it saves its screenshots.
func (tb *tab) check(p page) {
	tb.t.Helper()
	t := tb.t
	if tb.names[p.name] {
		t.Fatalf("two pages are named %q", p.name)
	}
	tb.names[p.name] = true
	tb.mu.Lock()
	doc, elsewhere, never := tb.doc, tb.elsewhere, slices.Clone(tb.never)
	tb.elsewhere = nil
	tb.mu.Unlock()
	if doc == nil {
		t.Fatalf("%s: no page loaded", p.name)
	}
	status := p.status
	if status == 0 {
		status = 200
	}
	if int(doc.Status) != status {
		t.Errorf("%s: HTTP %d, want %d (%s)", p.name, doc.Status, status, doc.URL)
	}
	checkHeaders(t, p, doc.Headers)
	for _, u := range elsewhere {
		t.Errorf("%s: a request to another host: %s", p.name, u)
	}

	// What a person reads: the visible text, not the markup.
	visible := eval[string](tb, `document.body.innerText`)
	source := eval[string](tb, `document.documentElement.outerHTML`)
	for _, s := range p.see {
		if !strings.Contains(visible, s) {
			t.Errorf("%s: the page does not say %q; it says:\n%s", p.name, s, visible)
		}
	}
	for _, s := range append(p.hidden, never...) {
		if s != "" && (strings.Contains(visible, s) || strings.Contains(source, s)) {
			t.Errorf("%s: the page shows %q", p.name, s)
		}
	}
	for _, re := range internal {
		if m := re.FindString(visible); m != "" {
			t.Errorf("%s: the page shows the internal word %q", p.name, m)
		}
	}
	if n := eval[int](tb, `document.querySelectorAll("h1").length`); n != 1 {
		t.Errorf("%s: %d h1 headings, want 1", p.name, n)
	}
	// No heading level skipped (axe's heading-order is a best practice,
	// not a WCAG rule; Lighthouse scores it).
	levels := eval[[]int](tb, `[...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(h => +h.tagName[1])`)
	for i := 1; i < len(levels); i++ {
		if levels[i] > levels[i-1]+1 {
			t.Errorf("%s: an h%d follows an h%d", p.name, levels[i], levels[i-1])
		}
	}
	ran := eval[bool](tb, `document.documentElement.classList.contains("js")`)
	if ran != tb.script {
		t.Errorf("%s: the page's script ran: %v, want %v", p.name, ran, tb.script)
	}
	if !p.noAxe {
		tb.accessible(p.name)
	}
	if !p.noShots {
		tb.screenshots(p.name)
	}
}

// checkHeaders holds every page to the security headers.
func checkHeaders(t *testing.T, p page, h network.Headers) {
	t.Helper()
	get := func(name string) string {
		for k, v := range h {
			if strings.EqualFold(k, name) {
				s, _ := v.(string)
				return s
			}
		}
		return ""
	}
	csp := get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !slices.Contains(strings.Split(csp, "; "), directive) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", p.name, csp, directive)
		}
	}
	if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "http") || strings.Contains(csp, "*") {
		t.Errorf("%s: Content-Security-Policy %q allows inline code or another host", p.name, csp)
	}
	for name, want := range map[string]string{"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"} {
		if got := get(name); got != want {
			t.Errorf("%s: %s %q, want %q", p.name, name, got, want)
		}
	}
	pp := get("Permissions-Policy")
	for _, feature := range []string{"camera=()", "microphone=()", "geolocation=()"} {
		if !strings.Contains(pp, feature) {
			t.Errorf("%s: Permissions-Policy %q lacks %s", p.name, pp, feature)
		}
	}
	if !p.public && !slices.Contains(strings.Split(get("Cache-Control"), ", "), "no-store") {
		t.Errorf("%s: Cache-Control %q on a page with a case or a secret, want no-store", p.name, get("Cache-Control"))
	}
	// HSTS is sent under https only, which this system does not serve: a
	// unit test of the headers checks it (web/internal/secure).
}

// axeTags are the WCAG 2.2 A and AA rules of axe-core.
const axeTags = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]`

type violation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []string `json:"target"`
		HTML   string   `json:"html"`
	} `json:"nodes"`
}

// accessible runs axe-core on the page for the WCAG 2.2 A and AA rules and
// reports each violation with its rule, the page and the element. axe
// waits on timers, which do not run while the page's script is switched
// off: it is switched on for axe alone, after the page has loaded without
// it, so the page's own script still has not run.
func (tb *tab) accessible(name string) {
	tb.t.Helper()
	if !tb.script {
		tb.scriptOff(false)
		defer tb.scriptOff(true)
	}
	if !eval[bool](tb, `typeof axe === "object"`) {
		eval[chromedp.Void](tb, tb.axe)
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {runOnly: {type: "tag", values: `+axeTags+`}, resultTypes: ["violations"]}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("%s: axe: %v", name, err)
	}
	var vs []violation
	if err := json.Unmarshal(raw, &vs); err != nil {
		tb.t.Fatalf("%s: axe's answer: %v", name, err)
	}
	for _, v := range vs {
		for _, n := range v.Nodes {
			tb.t.Errorf("%s: axe rule %s (%s) at %s: %s", name, v.ID, v.Help, strings.Join(n.Target, " "), n.HTML)
		}
	}
}

// screenshots saves the page at phone and at desktop width, the whole
// length of the page, at one pixel per CSS pixel; at phone width also the
// first screen alone (390 by 844), what a person sees before scrolling.
// Then it goes back to the desktop width.
func (tb *tab) screenshots(name string) {
	tb.t.Helper()
	if tb.shots == "" {
		return
	}
	for _, s := range []struct {
		suffix string
		width  int64
		mobile bool
	}{{"phone", phoneWidth, true}, {"desktop", desktopWidth, false}} {
		var screen []byte
		// Then the window is made as tall as the page at this width, so
		// that the screenshot shows all of it.
		shot := func(ctx context.Context, target *chromedp.Target) ([]byte, error) {
			size := func(height int64) error {
				_, err := cdp.Call(ctx, target, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
					Width: s.width, Height: height, DeviceScaleFactor: 1, Mobile: s.mobile,
				})
				return err
			}
			if err := size(phoneHeight); err != nil {
				return nil, err
			}
			if s.mobile {
				var err error
				if screen, err = chromedp.CaptureScreenshot()(ctx, target); err != nil {
					return nil, err
				}
			}
			height, err := chromedp.Evaluate[int64](`document.documentElement.scrollHeight`)(ctx, target)
			if err != nil {
				return nil, err
			}
			if err := size(max(height, 400)); err != nil {
				return nil, err
			}
			return chromedp.CaptureScreenshot()(ctx, target)
		}
		full, err := chromedp.Run(tb.ctx, shot)
		if err != nil {
			tb.t.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := writePNG(filepath.Join(tb.shots, name+"-"+s.suffix+".png"), full); err != nil {
			tb.t.Fatal(err)
		}
		if screen != nil {
			if err := writePNG(filepath.Join(tb.shots, name+"-"+s.suffix+"-screen.png"), screen); err != nil {
				tb.t.Fatal(err)
			}
		}
	}
	tb.do(chromedp.EmulateViewport(desktopWidth, 900))
}

// compactShots makes writePNG shrink the screenshots, for those that are
// committed; it takes a few seconds.
var compactShots bool

// writePNG writes Chromium's PNG, or, with compactShots, writes it again with at most 256 colours and the
// best compression, to keep the committed screenshots small: a page has
// few colours, and the rare ones (the edges of letters) take the nearest
// of the 256 most used.
func writePNG(path string, b []byte) error {
	if !compactShots {
		return os.WriteFile(path, b, 0o644)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("decode screenshot: %w", err)
	}
	bounds := img.Bounds()
	counts := map[color.RGBA]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	common := slices.Collect(maps.Keys(counts))
	slices.SortFunc(common, func(a, b color.RGBA) int {
		if d := counts[b] - counts[a]; d != 0 {
			return d
		}
		return int(a.R)<<16 | int(a.G)<<8 | int(a.B) - (int(b.R)<<16 | int(b.G)<<8 | int(b.B))
	})
	palette := make(color.Palette, 0, 256)
	for _, c := range common[:min(256, len(common))] {
		palette = append(palette, c)
	}
	index := map[color.RGBA]uint8{}
	out := image.NewPaletted(bounds, palette)
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(palette.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
