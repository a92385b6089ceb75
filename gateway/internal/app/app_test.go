package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/grpc"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system is the gateway run in-process in front of fake services.
type system struct {
	url      string
	casework *fakeCasework
	intake   *fakeIntake
	backends map[string]*backend
	cancel   context.CancelFunc
	done     chan error
}

// startSystem starts the four fake services and the gateway in front of
// them; adjust may change the gateway's settings before it starts.
func startSystem(t *testing.T, adjust func(*Config)) *system {
	t.Helper()
	s := &system{
		casework: &fakeCasework{recorder: &recorder{}, slowStarted: make(chan struct{}), release: make(chan struct{})},
		intake:   &fakeIntake{recorder: &recorder{}},
		backends: map[string]*backend{},
	}
	s.backends["directory"] = startBackend(t, "directory", nil)
	s.backends["intake"] = startBackend(t, "intake", func(srv *grpc.Server) { intakev1.RegisterIntakeServiceServer(srv, s.intake) })
	s.backends["casework"] = startBackend(t, "casework", func(srv *grpc.Server) { caseworkv1.RegisterCaseworkServiceServer(srv, s.casework) })
	s.backends["notification"] = startBackend(t, "notification", nil)

	cfg := defaults(t)
	cfg.HTTPAddr = deadAddr(t)
	cfg.DirectoryAddr = s.backends["directory"].addr
	cfg.IntakeAddr = s.backends["intake"].addr
	cfg.CaseworkAddr = s.backends["casework"].addr
	cfg.NotificationAddr = s.backends["notification"].addr
	cfg.LogLevel = "error"
	if adjust != nil {
		adjust(&cfg)
	}
	s.url = "http://" + cfg.HTTPAddr

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	testenv.Eventually(t, 10*time.Second, "gateway answers /healthz", func() bool {
		select {
		case err := <-s.done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		resp, err := http.Get(s.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// defaults returns the configuration with every setting at its default.
func defaults(t *testing.T) Config {
	t.Helper()
	var cfg Config
	set := config.NewSet("gateway", func(string) (string, bool) { return "", false })
	cfg.Register(set)
	if err := set.Parse(nil); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// response is an HTTP answer with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic map.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func do(t *testing.T, method, url string, header map[string]string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want Config
	}{
		{
			name: "defaults",
			want: Config{HTTPAddr: "127.0.0.1:7180", DirectoryAddr: "127.0.0.1:7101", IntakeAddr: "127.0.0.1:7102",
				CaseworkAddr: "127.0.0.1:7103", NotificationAddr: "127.0.0.1:7104", LogLevel: "info",
				ShutdownTimeout: 10 * time.Second, MaxBodyBytes: 65536},
		},
		{
			name: "environment, then flags",
			env: map[string]string{"HTTP_ADDR": "0.0.0.0:8080", "DIRECTORY_ADDR": "directory:7101", "INTAKE_ADDR": "intake:7102",
				"CASEWORK_ADDR": "casework:7103", "NOTIFICATION_ADDR": "notification:7104", "LOG_LEVEL": "debug",
				"SHUTDOWN_TIMEOUT": "3s", "MAX_BODY_BYTES": "1000"},
			args: []string{"-max-body-bytes", "2000", "-http-addr", ":9090"},
			want: Config{HTTPAddr: ":9090", DirectoryAddr: "directory:7101", IntakeAddr: "intake:7102",
				CaseworkAddr: "casework:7103", NotificationAddr: "notification:7104", LogLevel: "debug",
				ShutdownTimeout: 3 * time.Second, MaxBodyBytes: 2000},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg Config
			set := config.NewSet("gateway", func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			cfg.Register(set)
			if err := set.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if cfg != tt.want {
				t.Errorf("got %+v, want %+v", cfg, tt.want)
			}
		})
	}
}

func TestRoutesReachTheServices(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)

	t.Run("GetCase maps the path and forwards the Authorization header", func(t *testing.T) {
		t.Parallel()
		resp := do(t, "GET", s.url+"/v1/groups/g/cases/c1", map[string]string{"Authorization": "Bearer member-token-1"}, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}
		if ct := resp.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		got := resp.json(t)
		want := map[string]any{
			"name":         "groups/g/cases/c1",
			"reference":    "K7QM-3XRD",
			"therapist":    "groups/g/members/cal-reyes",
			"phase":        "PHASE_REGISTERED",
			"registerTime": "2026-03-02T09:30:00Z",
		}
		// Exactly these: lowerCamelCase names, and no unset fields.
		if len(got) != len(want) {
			t.Errorf("fields %v, want exactly %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		c := s.casework.last(t, "GetCase")
		if name := c.request.(*caseworkv1.GetCaseRequest).GetName(); name != "groups/g/cases/c1" {
			t.Errorf("the service was asked for %q", name)
		}
		if got := c.metadata.Get("authorization"); len(got) != 1 || got[0] != "Bearer member-token-1" {
			t.Errorf("authorization metadata %q, want exactly the caller's header", got)
		}
		if got := c.metadata.Get("grpcgateway-authorization"); len(got) != 0 {
			t.Errorf("the credential was forwarded a second time: %q", got)
		}
	})

	t.Run("ListCases maps the parent and query parameters", func(t *testing.T) {
		t.Parallel()
		resp := do(t, "GET", s.url+"/v1/groups/h/cases?pageSize=5&pageToken=abc", map[string]string{"Authorization": "Bearer member-token-2"}, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}
		got := resp.json(t)
		if got["nextPageToken"] != "next" {
			t.Errorf("nextPageToken = %v", got["nextPageToken"])
		}
		if cases, _ := got["cases"].([]any); len(cases) != 1 {
			t.Errorf("cases = %v", got["cases"])
		}
		req := s.casework.last(t, "ListCases").request.(*caseworkv1.ListCasesRequest)
		if req.GetParent() != "groups/h" || req.GetPageSize() != 5 || req.GetPageToken() != "abc" {
			t.Errorf("the service got %v", req)
		}
	})

	t.Run("CreateConcern maps the body, without credentials", func(t *testing.T) {
		t.Parallel()
		body := `{"practitioner": "groups/g/members/cal-reyes",
			"description": "My sessions ended early.",
			"clientName": "Sam",
			"clientContact": {"email": "sam@client.example.net"}}`
		resp := do(t, "POST", s.url+"/v1/groups/g/concerns", map[string]string{"Content-Type": "application/json"}, strings.NewReader(body))
		if resp.status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}
		got := resp.json(t)
		if got["name"] != "groups/g/concerns/n1" || got["reference"] != "K7QM-3XRD" || got["accessCode"] == nil {
			t.Errorf("response %v", got)
		}
		c := s.intake.last(t, "CreateConcern")
		req := c.request.(*intakev1.CreateConcernRequest)
		if req.GetParent() != "groups/g" || req.GetConcern().GetClientName() != "Sam" ||
			req.GetConcern().GetDescription() != "My sessions ended early." ||
			req.GetConcern().GetClientContact().GetEmail() != "sam@client.example.net" ||
			req.GetConcern().GetPractitioner() != "groups/g/members/cal-reyes" {
			t.Errorf("the service got %v", req)
		}
		if got := c.metadata.Get("authorization"); len(got) != 0 {
			t.Errorf("authorization metadata %q on a call without credentials", got)
		}
	})

	t.Run("CreateClientSession maps the whole body, without credentials", func(t *testing.T) {
		t.Parallel()
		body := `{"reference": "k7qm 3xrd", "accessCode": "abcd-efgh-jkmn-pqrs-tvwx-yz01-23"}`
		resp := do(t, "POST", s.url+"/v1/clientSessions", map[string]string{"Content-Type": "application/json"}, strings.NewReader(body))
		if resp.status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}
		got := resp.json(t)
		if got["token"] != "ipncs_aaaaaaaaaaaaaaaa_"+strings.Repeat("b", 52) || got["concern"] != "groups/g/concerns/n1" ||
			got["expireTime"] != "2026-03-02T10:30:00Z" {
			t.Errorf("response %v", got)
		}
		c := s.intake.last(t, "CreateClientSession")
		req := c.request.(*intakev1.CreateClientSessionRequest)
		if req.GetReference() != "k7qm 3xrd" || req.GetAccessCode() != "abcd-efgh-jkmn-pqrs-tvwx-yz01-23" {
			t.Errorf("the service got %v", req)
		}
		if got := c.metadata.Get("authorization"); len(got) != 0 {
			t.Errorf("authorization metadata %q on a call without credentials", got)
		}
	})
}

// errorBody is google.rpc.Status as JSON.
type errorBody struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Details []map[string]any `json:"details"`
}

func (e errorBody) detail(typ string) map[string]any {
	for _, d := range e.Details {
		if d["@type"] == "type.googleapis.com/"+typ {
			return d
		}
	}
	return nil
}

func TestErrors(t *testing.T) {
	t.Parallel()
	s := startSystem(t, func(c *Config) { c.NotificationAddr = deadAddr(t) })
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantCode   int
		wantReason string
		// wantViolations are the BadRequest field violations, if any.
		wantViolations []string
		// notInMessage must not appear in the message.
		notInMessage string
	}{
		{name: "service error with field violations", method: "GET", path: "/v1/groups/g/cases/invalid",
			wantStatus: 400, wantCode: 3, wantReason: "INVALID_FIELDS", wantViolations: []string{"name", "page_size"}},
		{name: "service not-found", method: "GET", path: "/v1/groups/g/cases/nope",
			wantStatus: 404, wantCode: 5, wantReason: "CASE_NOT_FOUND"},
		{name: "malformed body", method: "POST", path: "/v1/groups/g/concerns", body: `{"description": "secret words`,
			wantStatus: 400, wantCode: 3, wantReason: "MALFORMED_REQUEST", notInMessage: "secret words"},
		{name: "unknown route", method: "GET", path: "/v2/anything",
			wantStatus: 404, wantCode: 5, wantReason: "ROUTE_NOT_FOUND"},
		{name: "method not allowed", method: "DELETE", path: "/v1/groups/g/cases/c1",
			wantStatus: 405, wantCode: 12, wantReason: "METHOD_NOT_ALLOWED"},
		{name: "a path segment that is not UTF-8", method: "POST", path: "/v1/groups/%ff%fe/concerns", body: `{"description": "a"}`,
			wantStatus: 400, wantCode: 3, wantReason: "INVALID_FIELDS", wantViolations: []string{"parent"}},
		{name: "NUL in a path segment", method: "GET", path: "/v1/groups/g/cases/c1%00",
			wantStatus: 400, wantCode: 3, wantReason: "INVALID_FIELDS", wantViolations: []string{"name"}},
		{name: "a query parameter that is not UTF-8", method: "GET", path: "/v1/groups/g/cases?pageToken=%ff",
			wantStatus: 400, wantCode: 3, wantReason: "INVALID_FIELDS", wantViolations: []string{"page_token"}},
		{name: "service down", method: "GET", path: "/v1/groups/g/deliveries",
			wantStatus: 503, wantCode: 14, wantReason: "SERVICE_UNAVAILABLE", notInMessage: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp := do(t, tt.method, s.url+tt.path, map[string]string{"Authorization": "Bearer t"}, body)
			if resp.status != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			var e errorBody
			if err := json.Unmarshal(resp.body, &e); err != nil {
				t.Fatalf("not JSON: %v: %s", err, resp.body)
			}
			if e.Code != tt.wantCode || e.Message == "" {
				t.Errorf("code %d message %q, want code %d and a message", e.Code, e.Message, tt.wantCode)
			}
			if tt.notInMessage != "" && strings.Contains(string(resp.body), tt.notInMessage) {
				t.Errorf("the error repeats %q: %s", tt.notInMessage, resp.body)
			}
			info := e.detail("google.rpc.ErrorInfo")
			if info == nil || info["reason"] != tt.wantReason || info["domain"] != "disputes.ipn.org.uk" {
				t.Errorf("ErrorInfo %v, want reason %s", info, tt.wantReason)
			}
			var fields []string
			if br := e.detail("google.rpc.BadRequest"); br != nil {
				vs, _ := br["fieldViolations"].([]any)
				for _, v := range vs {
					fields = append(fields, v.(map[string]any)["field"].(string))
				}
			}
			if strings.Join(fields, ",") != strings.Join(tt.wantViolations, ",") {
				t.Errorf("field violations %v, want %v", fields, tt.wantViolations)
			}
		})
	}
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)
	resp := do(t, "GET", s.url+"/openapi.json", nil, nil)
	if resp.status != http.StatusOK || resp.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q", resp.status, resp.header.Get("Content-Type"))
	}
	var doc struct {
		Swagger string `json:"swagger"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name    string `json:"name"`
				In      string `json:"in"`
				Pattern string `json:"pattern"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger %q", doc.Swagger)
	}
	// operation finds the operation whose path template matches a concrete
	// path. Path parameters match the pattern the document gives them
	// (`groups/[^/]+` for a parent), else one segment.
	pathParam := regexp.MustCompile(`\{[^}]+\}`)
	operation := func(method, path string) string {
		for template, ops := range doc.Paths {
			op, ok := ops[strings.ToLower(method)]
			if !ok {
				continue
			}
			patterns := map[string]string{}
			for _, p := range op.Parameters {
				if p.In == "path" && p.Pattern != "" {
					patterns[p.Name] = p.Pattern
				}
			}
			var expr strings.Builder
			last := 0
			for _, loc := range pathParam.FindAllStringIndex(template, -1) {
				expr.WriteString(regexp.QuoteMeta(template[last:loc[0]]))
				if p, ok := patterns[template[loc[0]+1:loc[1]-1]]; ok {
					expr.WriteString("(?:" + p + ")")
				} else {
					expr.WriteString("[^/]+")
				}
				last = loc[1]
			}
			expr.WriteString(regexp.QuoteMeta(template[last:]))
			if regexp.MustCompile("^" + expr.String() + "$").MatchString(path) {
				return op.OperationID
			}
		}
		return ""
	}
	tests := []struct{ method, path, want string }{
		{"POST", "/v1/groups/g/concerns", "IntakeService_CreateConcern"},
		{"POST", "/v1/clientSessions", "IntakeService_CreateClientSession"},
		{"GET", "/v1/groups/g/cases", "CaseworkService_ListCases"},
		{"GET", "/v1/groups/g/cases/c1", "CaseworkService_GetCase"},
		{"GET", "/v1/groups/g", "DirectoryService_GetGroup"},
		{"GET", "/v1/groups/g/members", "DirectoryService_ListMembers"},
		{"GET", "/v1/groups/g/linkGroups", "DirectoryService_ListLinkGroups"},
		{"GET", "/v1/groups/g/deliveries", "NotificationService_ListDeliveries"},
	}
	for _, tt := range tests {
		if got := operation(tt.method, tt.path); got != tt.want {
			t.Errorf("%s %s: operation %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		adjust       func(*Config)
		notServing   string
		wantStatus   int
		wantNotReady []string
		wantState    string
	}{
		{name: "all serving", wantStatus: 200},
		{name: "a service is down", adjust: func(c *Config) { c.IntakeAddr = deadAddr(t) },
			wantStatus: 503, wantNotReady: []string{"intake"}, wantState: "UNREACHABLE"},
		{name: "a service is not serving", notServing: "notification",
			wantStatus: 503, wantNotReady: []string{"notification"}, wantState: "NOT_SERVING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSystem(t, tt.adjust)
			if tt.notServing != "" {
				s.backends[tt.notServing].setServing(false)
			}
			resp := do(t, "GET", s.url+"/readyz", nil, nil)
			if resp.status != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			var report struct {
				Ready    bool              `json:"ready"`
				Backends map[string]string `json:"backends"`
				NotReady []string          `json:"notReady"`
			}
			if err := json.Unmarshal(resp.body, &report); err != nil {
				t.Fatalf("not JSON: %v: %s", err, resp.body)
			}
			if report.Ready != (tt.wantStatus == 200) || strings.Join(report.NotReady, ",") != strings.Join(tt.wantNotReady, ",") {
				t.Errorf("report %+v, want not ready %v", report, tt.wantNotReady)
			}
			if len(report.Backends) != 4 {
				t.Errorf("backends %v, want all four", report.Backends)
			}
			for _, name := range tt.wantNotReady {
				if report.Backends[name] != tt.wantState {
					t.Errorf("%s is %q, want %q", name, report.Backends[name], tt.wantState)
				}
			}
			if tt.notServing != "" {
				s.backends[tt.notServing].setServing(true)
				testenv.Eventually(t, 5*time.Second, "ready once the service serves again", func() bool {
					return do(t, "GET", s.url+"/readyz", nil, nil).status == http.StatusOK
				})
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	const limit = 1024
	s := startSystem(t, func(c *Config) { c.MaxBodyBytes = limit })
	concern := func(size int) string {
		// A valid concern whose description pads the body to size bytes.
		head := `{"practitioner":"groups/g/members/cal-reyes","clientName":"Sam","description":"`
		return head + strings.Repeat("x", size-len(head)-2) + `"}`
	}
	tests := []struct {
		name       string
		body       io.Reader
		wantStatus int
	}{
		{name: "at the limit", body: strings.NewReader(concern(limit)), wantStatus: 200},
		{name: "over the limit, with a length", body: strings.NewReader(concern(limit + 1)), wantStatus: 413},
		// io.MultiReader hides the length, so the body is sent chunked.
		{name: "over the limit, chunked", body: io.MultiReader(strings.NewReader(concern(10 * limit))), wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, "POST", s.url+"/v1/groups/g/concerns", map[string]string{"Content-Type": "application/json"}, tt.body)
			if resp.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			if tt.wantStatus == 413 {
				var e errorBody
				if err := json.Unmarshal(resp.body, &e); err != nil {
					t.Fatalf("not JSON: %v: %s", err, resp.body)
				}
				if info := e.detail("google.rpc.ErrorInfo"); info == nil || info["reason"] != "REQUEST_TOO_LARGE" {
					t.Errorf("error %s, want reason REQUEST_TOO_LARGE", resp.body)
				}
			}
		})
	}
}

func TestGracefulShutdownDrainsRequests(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)
	answered := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.url+"/v1/groups/g/cases/slow", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- response{status: -1, body: []byte(err.Error())}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- response{status: resp.StatusCode, body: b}
	}()
	<-s.casework.slowStarted
	s.cancel()
	// Once the listener is closed the drain has begun; only then may the
	// slow call finish.
	host := strings.TrimPrefix(s.url, "http://")
	testenv.Eventually(t, 5*time.Second, "the gateway stops accepting connections", func() bool {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	})
	close(s.casework.release)
	resp := <-answered
	if resp.status != http.StatusOK || !bytes.Contains(resp.body, []byte("groups/g/cases/slow")) {
		t.Errorf("the in-flight request got %d: %s", resp.status, resp.body)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		s.done <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
}
