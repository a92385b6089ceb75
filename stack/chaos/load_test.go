package chaos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/operator/demo"
)

// attempt is one HTTP exchange of the load: status 0 means no answer came
// (the connection was refused or cut, or the client gave up).
type attempt struct {
	start, end time.Time
	// sent is when the request was written to the gateway: the gateway's
	// deadline runs from about then. The time before it goes to finding
	// a connection, on this machine that runs the whole system and the
	// load together.
	sent   time.Time
	status int
	err    string
}

func (a attempt) ok() bool { return a.status >= 200 && a.status < 300 }

// concernRequest is one client's concern, sent again with the same request
// id after every 503, 504 or lost answer until it is acknowledged, as the
// website does.
type concernRequest struct {
	id   string
	body []byte

	attempts []attempt
	// name and code are the acknowledged answer's concern and access code.
	name, code string
	ackAt      time.Time
	// refused holds an answer that must never come (a 500, a 4xx): the
	// request is given up then.
	refused string
}

// concernAnswer is what the gateway answers to CreateConcern.
type concernAnswer struct {
	Name       string `json:"name"`
	Reference  string `json:"reference"`
	AccessCode string `json:"accessCode"`
}

// load offers concerns at a steady rate and reads a case list beside them,
// recording every exchange.
type load struct {
	base       string
	adminToken string
	client     *http.Client

	mu    sync.Mutex
	reqs  []*concernRequest
	reads []attempt
	wg    sync.WaitGroup
}

func newLoad(base, adminToken string) *load {
	return &load{
		base:       base,
		adminToken: adminToken,
		// Far longer than the gateway's deadline, so that a request that
		// waits past it is seen and counted rather than cut short here.
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	}
}

// run starts a concern every 1/rate seconds and a read five times a second
// until ctx is done. Concerns still unacknowledged then go on being retried
// until finish is done; wait waits for them.
func (l *load) run(ctx, finish context.Context, rate float64) {
	l.every(ctx, time.Duration(float64(time.Second)/rate), func() {
		r := newConcernRequest()
		l.mu.Lock()
		l.reqs = append(l.reqs, r)
		l.mu.Unlock()
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.send(finish, r)
		}()
	})
	l.every(ctx, 200*time.Millisecond, func() {
		a, _ := l.exchange(ctx, http.MethodGet, "/v1/groups/"+demo.GroupID+"/cases?pageSize=1", l.adminToken, nil)
		if ctx.Err() != nil && a.status == 0 {
			return // cut short by the end of the load, not by the system
		}
		l.mu.Lock()
		l.reads = append(l.reads, a)
		l.mu.Unlock()
	})
}

// every calls do every d, in a goroutine that wait waits for, until ctx is
// done.
func (l *load) every(ctx context.Context, d time.Duration, do func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(d)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				do()
			}
		}
	}()
}

func (l *load) wait() { l.wg.Wait() }

func newConcernRequest() *concernRequest {
	marker := rand.Text()[:12]
	body, _ := json.Marshal(map[string]any{
		"practitioner": "groups/" + demo.GroupID + "/members/cal-reyes",
		"description": "We agreed to end our work together and the last session left me shaken. " +
			"I would like the group to hear what happened and help us talk it through. " + marker,
		"clientName":    "Client " + marker,
		"clientContact": map[string]string{"email": "c-" + marker + "@client.example.net"},
	})
	return &concernRequest{id: uuid.NewString(), body: body}
}

// send posts r until it is acknowledged, refused for good or finish ends.
func (l *load) send(finish context.Context, r *concernRequest) {
	for {
		a, b := l.exchange(finish, http.MethodPost, "/v1/groups/"+demo.GroupID+"/concerns?requestId="+r.id, "", r.body)
		if finish.Err() != nil && a.status == 0 {
			return
		}
		l.mu.Lock()
		r.attempts = append(r.attempts, a)
		l.mu.Unlock()
		switch {
		case a.ok():
			var ans concernAnswer
			if err := json.Unmarshal(b, &ans); err != nil || ans.Name == "" || ans.AccessCode == "" {
				l.mu.Lock()
				r.refused = fmt.Sprintf("HTTP %d with an answer that is not a concern: %.200s", a.status, b)
				l.mu.Unlock()
				return
			}
			l.mu.Lock()
			r.name, r.code, r.ackAt = ans.Name, ans.AccessCode, a.end
			l.mu.Unlock()
			return
		case a.status == 0 || a.status == http.StatusServiceUnavailable || a.status == http.StatusGatewayTimeout:
			select {
			case <-finish.Done():
				return
			case <-time.After(retryDelay(a, len(r.attempts))):
			}
		default:
			l.mu.Lock()
			r.refused = fmt.Sprintf("HTTP %d: %.300s", a.status, b)
			l.mu.Unlock()
			return
		}
	}
}

// maxRetryDelay caps the wait between a concern's attempts.
const maxRetryDelay = 30 * time.Second

// retryDelay is how long a client waits after its attempts-th failed
// attempt a: a second, doubling with each failure up to maxRetryDelay, a
// random point in the upper half of that (so that the clients an outage
// turned away do not all come back at once), and never less than the
// Retry-After the answer asked for. Clients that retried every second
// whatever happened would, after three minutes of outage, be thousands
// knocking each second: a storm no real website's visitors make.
func retryDelay(a attempt, attempts int) time.Duration {
	d := min(time.Second<<min(attempts-1, 5), maxRetryDelay)
	d = d/2 + mathrand.N(d/2+1)
	if s, err := strconv.Atoi(a.err); err == nil && s > 0 {
		d = max(d, min(time.Duration(s)*time.Second, maxRetryDelay))
	}
	return d
}

// exchange makes one request. For a 503 it keeps the Retry-After value in
// the attempt's err, since nothing else needs the text.
func (l *load) exchange(ctx context.Context, method, path, token string, body []byte) (attempt, []byte) {
	a := attempt{start: time.Now()}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { a.sent = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, l.base+path, rd)
	if err != nil {
		a.end, a.err = time.Now(), err.Error()
		return a, nil
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		a.end, a.err = time.Now(), err.Error()
		return a, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	a.end, a.status = time.Now(), resp.StatusCode
	if resp.StatusCode == http.StatusServiceUnavailable {
		a.err = resp.Header.Get("Retry-After")
	}
	return a, b
}

// snapshot copies the record for the analysis.
func (l *load) snapshot() ([]concernRequest, []attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	reqs := make([]concernRequest, len(l.reqs))
	for i, r := range l.reqs {
		reqs[i] = *r
		reqs[i].attempts = append([]attempt(nil), r.attempts...)
	}
	return reqs, append([]attempt(nil), l.reads...)
}
