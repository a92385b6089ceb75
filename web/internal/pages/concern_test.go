package pages

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// concernAPI is the little of the REST API the concern form calls: the
// group, its members and CreateConcern, which it records. A concern whose
// desired outcome holds "REFUSE" is refused as the gateway refuses a field
// (INVALID_FIELDS, the field as the JSON body spells it).
type concernAPI struct {
	mu   sync.Mutex
	sent []*intakev1.Concern
}

func (a *concernAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside":
		io.WriteString(w, `{"name": "groups/riverside", "displayName": "Riverside Practitioners"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/groups/riverside/members":
		io.WriteString(w, `{"members": [{"name": "groups/riverside/members/cal-reyes", "displayName": "Cal Reyes"}], "nextPageToken": ""}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/groups/riverside/concerns":
		b, _ := io.ReadAll(r.Body)
		c := &intakev1.Concern{}
		if err := protojson.Unmarshal(b, c); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code": 3, "message": "not a concern"}`)
			return
		}
		a.mu.Lock()
		a.sent = append(a.sent, c)
		a.mu.Unlock()
		if strings.Contains(c.GetDesiredOutcome(), "REFUSE") {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code": 3, "message": "the request has invalid fields: desiredOutcome", "details": [
				{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INVALID_FIELDS", "domain": "disputes.ipn.org.uk"},
				{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "desiredOutcome", "description": "is too long"}]}]}`)
			return
		}
		io.WriteString(w, `{"name": "groups/riverside/concerns/0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11", "reference": "K7QM-3XRD",
			"accessCode": "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-20", "case": "groups/riverside/cases/0b0c5a43-4b53-4a8e-9d0e-1b2f7b1c9a11"}`)
	default:
		// Signing in after registering is not this test's concern: the
		// confirmation then leads to the sign-in form.
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"code": 5, "message": "not here"}`)
	}
}

func (a *concernAPI) last() *intakev1.Concern {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sent) == 0 {
		return nil
	}
	return a.sent[len(a.sent)-1]
}

// TestConcernFormDesiredOutcome: the form asks, optionally, what the client
// would like to happen; what they write is sent to the API as the concern's
// desired outcome, line breaks kept; it is kept on every error, ours or the
// API's, next to its own field when it is the field at fault; and leaving it
// empty is fine.
func TestConcernFormDesiredOutcome(t *testing.T) {
	t.Parallel()
	fake := &concernAPI{}
	apiServer := httptest.NewServer(fake)
	t.Cleanup(apiServer.Close)
	site := serveSite(t, newTestSite(t, apiServer.URL))
	post := func(t *testing.T, form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, site.URL+"/riverside/concern", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", site.URL)
		return fetch(t, req)
	}
	complete := func(outcome string) url.Values {
		return url.Values{"requestId": {newRequestID()}, "practitioner": {"cal-reyes"}, "description": {"Our sessions stopped without a word."},
			"desiredOutcome": {outcome}, "clientName": {"Jo"}, "email": {"jo@client.example.net"}}
	}

	req, _ := http.NewRequest(http.MethodGet, site.URL+"/riverside/concern", nil)
	resp, body := fetch(t, req)
	for _, snippet := range []string{`<label class="label" for="desired-outcome">What would you like to happen? (optional)</label>`,
		`<textarea name="desiredOutcome" id="desired-outcome"`, `aria-describedby="desired-outcome-hint"`, `maxlength="5000"`, `id="desired-outcome-hint"`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, snippet) {
			t.Errorf("the form (%d) lacks %q", resp.StatusCode, snippet)
		}
	}
	checkPage(t, body)

	tests := []struct {
		name    string
		form    url.Values
		status  int
		want    []string // in the page
		sent    string   // the desired outcome the API got; "-" for no call
		errorAt string   // the field an error is shown next to, if any
	}{
		{name: "sent with its line breaks", form: complete("An apology,\nand <notice> of changes."), status: http.StatusOK,
			want: []string{"Your concern has been sent"}, sent: "An apology,\nand <notice> of changes."},
		{name: "left empty", form: complete(""), status: http.StatusOK,
			want: []string{"Your concern has been sent"}, sent: ""},
		{name: "kept when another field is wrong", form: func() url.Values {
			f := complete("An apology & an <explanation>.")
			f.Set("clientName", "")
			return f
		}(), status: http.StatusBadRequest, want: []string{"An apology &amp; an &lt;explanation&gt;.</textarea>", `href="#client-name"`}, sent: "-"},
		{name: "too long, by the form's count", form: complete(strings.Repeat("é", maxDesiredOutcome+1)), status: http.StatusBadRequest,
			want: []string{"What you would like to happen must be 5,000 characters or fewer: it has 5,001 now", `href="#desired-outcome"`}, sent: "-", errorAt: "desired-outcome"},
		{name: "refused by the API", form: complete("REFUSE this, please"), status: http.StatusBadRequest,
			want: []string{"Check what you would like to happen", "REFUSE this, please</textarea>", `href="#desired-outcome"`}, sent: "REFUSE this, please", errorAt: "desired-outcome"},
	}
	// One after another: each compares the API's last call with the one
	// before it.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fake.last()
			resp, body := post(t, tt.form)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d; want %d\n%s", resp.StatusCode, tt.status, body)
			}
			for _, snippet := range tt.want {
				if !strings.Contains(body, snippet) {
					t.Errorf("the page lacks %q", snippet)
				}
			}
			if tt.errorAt != "" && !strings.Contains(body, `aria-describedby="`+tt.errorAt+`-hint `+tt.errorAt+`-error"`) {
				t.Errorf("no error next to %s, or the field is not described by it", tt.errorAt)
			}
			got := fake.last()
			switch {
			case tt.sent == "-" && got != before:
				t.Errorf("the API was called: %v", got)
			case tt.sent != "-" && (got == before || got.GetDesiredOutcome() != tt.sent):
				t.Errorf("the API got the desired outcome %q; want %q", got.GetDesiredOutcome(), tt.sent)
			case tt.sent != "-" && got.GetDescription() != "Our sessions stopped without a word.":
				t.Errorf("the API got the description %q", got.GetDescription())
			}
			checkPage(t, body)
		})
	}
}
