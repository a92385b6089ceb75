package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
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
	cfg.DirectoryAddr = s.backends["directory"].addr
	cfg.IntakeAddr = s.backends["intake"].addr
	cfg.CaseworkAddr = s.backends["casework"].addr
	cfg.NotificationAddr = s.backends["notification"].addr
	if adjust != nil {
		adjust(&cfg)
	}
	s.url, s.cancel, s.done = startGateway(t, cfg)
	return s
}

// startGateway runs the gateway with cfg (on a free address, logging errors
// only) until the test ends, and returns its base URL once it answers.
func startGateway(t testing.TB, cfg Config) (url string, cancel context.CancelFunc, done chan error) {
	t.Helper()
	if cfg.HTTPAddr == "" || cfg.HTTPAddr == defaults(t).HTTPAddr {
		cfg.HTTPAddr = deadAddr(t)
	}
	if cfg.AdminAddr == defaults(t).AdminAddr {
		cfg.AdminAddr = deadAddr(t)
	}
	cfg.LogLevel = "error"
	url = "http://" + cfg.HTTPAddr

	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	testenv.Eventually(t, 10*time.Second, "gateway answers /healthz", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return url, cancel, done
}

// defaults returns the configuration with every setting at its default.
func defaults(t testing.TB) Config {
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
	return doWithin(t, 0, method, url, header, body)
}

// doWithin is do with a client that gives up after timeout (none when
// zero), for a request that might otherwise hang the test.
func doWithin(t *testing.T, timeout time.Duration, method, url string, header map[string]string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
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
			want: Config{HTTPAddr: "127.0.0.1:7180", AdminAddr: "127.0.0.1:7280", DirectoryAddr: "127.0.0.1:7101", IntakeAddr: "127.0.0.1:7102",
				CaseworkAddr: "127.0.0.1:7103", NotificationAddr: "127.0.0.1:7104", LogLevel: "info",
				ShutdownTimeout: 10 * time.Second, BackendTimeout: 10 * time.Second},
		},
		{
			name: "environment, then flags",
			env: map[string]string{"HTTP_ADDR": "0.0.0.0:8080", "DIRECTORY_ADDR": "directory:7101", "INTAKE_ADDR": "intake:7102",
				"CASEWORK_ADDR": "casework:7103", "NOTIFICATION_ADDR": "notification:7104", "LOG_LEVEL": "debug",
				"SHUTDOWN_TIMEOUT": "3s", "BACKEND_TIMEOUT": "5s", "CORS_ALLOWED_ORIGINS": "https://riverside.example.org", "ADMIN_ADDR": ":9280"},
			args: []string{"-shutdown-timeout", "4s", "-http-addr", ":9090", "-backend-timeout", "2500ms",
				"-cors-allowed-origins", "https://riverside.example.org,http://localhost:5173"},
			want: Config{HTTPAddr: ":9090", AdminAddr: ":9280", DirectoryAddr: "directory:7101", IntakeAddr: "intake:7102",
				CaseworkAddr: "casework:7103", NotificationAddr: "notification:7104", LogLevel: "debug",
				ShutdownTimeout: 4 * time.Second, BackendTimeout: 2500 * time.Millisecond,
				CORSAllowedOrigins: "https://riverside.example.org,http://localhost:5173"},
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
		// lowerCamelCase names, and every field present: those the
		// service left unset at their zero value, so a page can tell
		// false and 0 from a field it does not know.
		fields := (&caseworkv1.Case{}).ProtoReflect().Descriptor().Fields()
		if len(got) != fields.Len() {
			t.Errorf("%d fields, want all %d of Case: %v", len(got), fields.Len(), got)
		}
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			v, ok := got[fd.JSONName()]
			if !ok {
				t.Errorf("%s is missing", fd.JSONName())
				continue
			}
			w, set := want[fd.JSONName()]
			if !set {
				w = jsonZero(fd)
			}
			if fmt.Sprintf("%#v", v) != fmt.Sprintf("%#v", w) {
				t.Errorf("%s = %#v, want %#v", fd.JSONName(), v, w)
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

// jsonZero is what encoding/json reads from the JSON protojson writes for
// fd when it is not set: null for a message, the first value's name for an
// enum, a string for 64-bit numbers.
func jsonZero(fd protoreflect.FieldDescriptor) any {
	switch {
	case fd.IsList():
		return []any{}
	case fd.IsMap():
		return map[string]any{}
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return nil
	case protoreflect.BoolKind:
		return false
	case protoreflect.StringKind, protoreflect.BytesKind:
		return ""
	case protoreflect.EnumKind:
		return string(fd.Enum().Values().ByNumber(0).Name())
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return "0"
	}
	return float64(0)
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
		// wantRetryAfter is the Retry-After header; none when empty.
		wantRetryAfter string
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
			wantStatus: 400, wantCode: 3, wantReason: "INVALID_FIELDS", wantViolations: []string{"pageToken"}},
		{name: "two JSON values", method: "POST", path: "/v1/groups/g/concerns", body: `{"description": "a"} {"bogus": "secret words"}`,
			wantStatus: 400, wantCode: 3, wantReason: "MALFORMED_REQUEST", notInMessage: "secret words"},
		{name: "service down", method: "GET", path: "/v1/groups/g/deliveries",
			wantStatus: 503, wantCode: 14, wantReason: "SERVICE_UNAVAILABLE", notInMessage: "127.0.0.1", wantRetryAfter: "2"},
		{name: "service unavailable, with a retry delay", method: "GET", path: "/v1/groups/g/cases/unavailable",
			wantStatus: 503, wantCode: 14, wantReason: "DATABASE_UNAVAILABLE", wantRetryAfter: "3"},
		{name: "service unavailable, without a retry delay", method: "GET", path: "/v1/groups/g/cases/unavailable-now",
			wantStatus: 503, wantCode: 14, wantReason: "DATABASE_UNAVAILABLE", wantRetryAfter: "2"},
		{name: "rate limited, with a retry delay of 6.5 s", method: "GET", path: "/v1/groups/g/cases/exhausted",
			wantStatus: 429, wantCode: 8, wantReason: "TOO_MANY_REQUESTS", wantRetryAfter: "7"},
		{name: "rate limited, without a retry delay", method: "GET", path: "/v1/groups/g/cases/exhausted-now",
			wantStatus: 429, wantCode: 8, wantReason: "TOO_MANY_REQUESTS", wantRetryAfter: "10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader
			header := map[string]string{"Authorization": "Bearer t"}
			if tt.body != "" {
				body = strings.NewReader(tt.body)
				header["Content-Type"] = "application/json"
			}
			resp := do(t, tt.method, s.url+tt.path, header, body)
			if resp.status != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			if got := resp.header.Values("Retry-After"); strings.Join(got, ",") != tt.wantRetryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetryAfter)
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
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name   string `json:"name"`
				In     string `json:"in"`
				Schema struct {
					Pattern string `json:"pattern"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Errorf("openapi %q, want 3.0.x", doc.OpenAPI)
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
				if p.In == "path" && p.Schema.Pattern != "" {
					patterns[p.Name] = p.Schema.Pattern
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

// readinessReport is the body of /readyz.
type readinessReport struct {
	Ready    bool              `json:"ready"`
	Backends map[string]string `json:"backends"`
	NotReady []string          `json:"notReady"`
}

// TestReadiness: the gateway is ready while it can reach any service; the
// body names each service's state. One service down, not serving or frozen
// does not take the gateway out of its load balancer; no service reachable
// does.
func TestReadiness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		adjust func(*Config)
		// notServing and frozen name a backend that answers NOT_SERVING,
		// or whose health check never answers.
		notServing, frozen string
		wantStatus         int
		wantNotReady       []string
		wantState          string
	}{
		{name: "all serving", wantStatus: 200},
		{name: "a service is down", adjust: func(c *Config) { c.IntakeAddr = deadAddr(t) },
			wantStatus: 200, wantNotReady: []string{"intake"}, wantState: "UNREACHABLE"},
		{name: "a service is not serving", notServing: "notification",
			wantStatus: 200, wantNotReady: []string{"notification"}, wantState: "NOT_SERVING"},
		{name: "a service is frozen", frozen: "casework",
			wantStatus: 200, wantNotReady: []string{"casework"}, wantState: "UNREACHABLE"},
		{name: "no service is reachable", adjust: func(c *Config) {
			c.DirectoryAddr, c.IntakeAddr, c.CaseworkAddr, c.NotificationAddr = deadAddr(t), deadAddr(t), deadAddr(t), deadAddr(t)
		}, wantStatus: 503, wantNotReady: []string{"directory", "intake", "casework", "notification"}, wantState: "UNREACHABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startSystem(t, tt.adjust)
			if tt.notServing != "" {
				s.backends[tt.notServing].setServing(false)
			}
			if tt.frozen != "" {
				s.backends[tt.frozen].health.frozen.Store(true)
			}
			start := time.Now()
			resp := do(t, "GET", s.url+"/readyz", nil, nil)
			// A probe gives up after its own timeout (Kubernetes': 1 s by
			// default); a frozen service must not make the gateway's answer
			// that slow. The gateway's own bound is half that.
			if took := time.Since(start); took > time.Second {
				t.Errorf("/readyz took %v", took)
			}
			if resp.status != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.status, tt.wantStatus, resp.body)
			}
			// Like every 503, it says when to ask again.
			if got, want := resp.header.Get("Retry-After"), map[bool]string{true: "2"}[resp.status == 503]; got != want {
				t.Errorf("Retry-After %q, want %q", got, want)
			}
			var report readinessReport
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
			if tt.notServing != "" || tt.frozen != "" {
				s.backends[tt.notServing+tt.frozen].setServing(true)
				s.backends[tt.notServing+tt.frozen].health.frozen.Store(false)
				testenv.Eventually(t, 5*time.Second, "every service named SERVING once it serves again", func() bool {
					var report readinessReport
					resp := do(t, "GET", s.url+"/readyz", nil, nil)
					return resp.status == http.StatusOK && json.Unmarshal(resp.body, &report) == nil && len(report.NotReady) == 0
				})
			}
		})
	}
}

// TestBackendDeadline: a call the service does not answer is given up after
// BACKEND_TIMEOUT, or the client's own Grpc-Timeout when sooner, and
// answered 504 DEADLINE_EXCEEDED with a message that says to try again.
func TestBackendDeadline(t *testing.T) {
	t.Parallel()
	const backendTimeout = time.Second
	short := startSystem(t, func(c *Config) { c.BackendTimeout = backendTimeout })
	long := startSystem(t, nil) // BACKEND_TIMEOUT at its default, 10 s
	tests := []struct {
		name   string
		url    string
		header map[string]string
		body   io.Reader
		// atLeast and atMost bound the time to the answer. atMost is
		// generous for a loaded machine, yet below the deadline that must
		// not be the one that ended the call.
		atLeast, atMost time.Duration
	}{
		{name: "the gateway's deadline", url: short.url, atLeast: backendTimeout, atMost: 5 * time.Second},
		{name: "the client's shorter deadline wins", url: long.url, header: map[string]string{"Grpc-Timeout": "300m"},
			atLeast: 300 * time.Millisecond, atMost: 5 * time.Second},
		// The write timeout runs from the end of the request's headers; it
		// must leave room for a slow upload and the whole deadline, or the
		// client gets a closed connection instead of the 504.
		{name: "a slow upload, then the gateway's deadline", url: short.url, body: &slowReader{data: []byte("{}"), gap: 750 * time.Millisecond},
			atLeast: backendTimeout + 1500*time.Millisecond, atMost: 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			resp := doWithin(t, 20*time.Second, "GET", tt.url+"/v1/groups/g/cases/stuck", tt.header, tt.body)
			took := time.Since(start)
			if resp.status != http.StatusGatewayTimeout {
				t.Fatalf("status %d, want 504: %s", resp.status, resp.body)
			}
			if took < tt.atLeast || took > tt.atMost {
				t.Errorf("answered after %v, want between %v and %v", took, tt.atLeast, tt.atMost)
			}
			var e errorBody
			if err := json.Unmarshal(resp.body, &e); err != nil {
				t.Fatalf("not JSON: %v: %s", err, resp.body)
			}
			if info := e.detail("google.rpc.ErrorInfo"); e.Code != 4 || info == nil || info["reason"] != "DEADLINE_EXCEEDED" {
				t.Errorf("code %d, ErrorInfo %v, want 4 DEADLINE_EXCEEDED", e.Code, info)
			}
			if !strings.Contains(e.Message, "try again") {
				t.Errorf("message %q does not say to try again", e.Message)
			}
		})
	}
	t.Run("BACKEND_TIMEOUT must be positive", func(t *testing.T) {
		t.Parallel()
		cfg := defaults(t)
		cfg.BackendTimeout = 0
		if err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "BACKEND_TIMEOUT") {
			t.Errorf("Run = %v, want an error naming BACKEND_TIMEOUT", err)
		}
	})
}

// slowReader gives its data a byte at a time, gap apart: a client on a slow
// line.
type slowReader struct {
	data []byte
	gap  time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	<-time.After(r.gap)
	n := copy(p[:1], r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestRecoveryAfterABackendRestarts: however long a service was down, the
// gateway works again within 10 s of its return. The service stays away
// while the gateway's reconnection attempts back off to their slowest, and
// comes back on the same address just after one of them failed: the worst
// moment. Meanwhile every request gets a quick 503 with Retry-After.
func TestRecoveryAfterABackendRestarts(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)
	casework := s.backends["casework"]
	get := func() response { return do(t, "GET", s.url+"/v1/groups/g/cases/c1", nil, nil) }
	if resp := get(); resp.status != http.StatusOK {
		t.Fatalf("before: status %d: %s", resp.status, resp.body)
	}
	casework.stop()

	// While the service is away, something on its port takes each
	// connection and closes it at once (a refused connection would do as
	// well, but this way the test sees each attempt). gRPC's default
	// backoff (1 s, 1.6 times longer each time, up to 2 minutes) takes
	// some 40 s to make the attempts that the gateway's makes in about 10.
	const attempts = 9
	lis, err := net.Listen("tcp", casework.addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", casework.addr, err)
	}
	var (
		mu           sync.Mutex
		attemptTimes []time.Time
		lastAttempt  = make(chan struct{})
	)
	seen := func() int { mu.Lock(); defer mu.Unlock(); return len(attemptTimes) }
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			conn.Close()
			mu.Lock()
			attemptTimes = append(attemptTimes, time.Now())
			n := len(attemptTimes)
			mu.Unlock()
			if n == attempts {
				// Back at once: the next attempt is a whole backoff away.
				lis.Close()
				close(lastAttempt)
				return
			}
		}
	}()
	down := time.Now()
	deadline := time.After(25 * time.Second)
outage:
	for {
		select {
		case <-lastAttempt:
			break outage
		case <-deadline:
			lis.Close()
			t.Fatalf("the gateway tried to reconnect %d times in 25 s, want %d", seen(), attempts)
		default:
		}
		start := time.Now()
		resp := get()
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("a request during the outage took %v", took)
		}
		if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" {
			t.Fatalf("during the outage: status %d, Retry-After %q: %s", resp.status, resp.header.Get("Retry-After"), resp.body)
		}
		<-time.After(100 * time.Millisecond) // the pace of a client's requests
	}
	casework.restart(t)
	back := time.Now()
	testenv.Eventually(t, 10*time.Second, "the gateway reaches casework again", func() bool {
		return get().status == http.StatusOK
	})
	var gaps []string
	for i := 1; i < len(attemptTimes); i++ {
		gaps = append(gaps, attemptTimes[i].Sub(attemptTimes[i-1]).Round(10*time.Millisecond).String())
	}
	t.Logf("down %v (attempts %v apart), working again %v after the service's return",
		back.Sub(down).Round(10*time.Millisecond), gaps, time.Since(back).Round(10*time.Millisecond))
}

// concernField returns the descriptor of a field of intake's Concern.
func concernField(t *testing.T, name string) protoreflect.FieldDescriptor {
	t.Helper()
	fd := (&intakev1.Concern{}).ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		t.Fatalf("Concern has no field %s", name)
	}
	return fd
}

// maxLength is a string field's declared max_length.
func maxLength(t *testing.T, fd protoreflect.FieldDescriptor) int {
	t.Helper()
	n := grpcserver.DeclaredField(fd).MaxLength
	if n == 0 {
		t.Fatalf("%s declares no max_length", fd.FullName())
	}
	return int(n)
}

// tooLargeBytes returns the maxBytes of a 413 answer.
func tooLargeBytes(t *testing.T, resp response) int {
	t.Helper()
	if resp.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %.300s", resp.status, resp.body)
	}
	var e errorBody
	if err := json.Unmarshal(resp.body, &e); err != nil {
		t.Fatalf("not JSON: %v: %.300s", err, resp.body)
	}
	info := e.detail("google.rpc.ErrorInfo")
	if info == nil || info["reason"] != "REQUEST_TOO_LARGE" {
		t.Fatalf("error %s, want reason REQUEST_TOO_LARGE", resp.body)
	}
	meta, _ := info["metadata"].(map[string]any)
	n, err := strconv.Atoi(fmt.Sprint(meta["maxBytes"]))
	if err != nil {
		t.Fatalf("maxBytes %v: %v", meta["maxBytes"], err)
	}
	return n
}

// TestBodyLimit: CreateConcern's body limit follows from the contract. A
// body with every field at its limit in characters of four bytes, even
// written as JSON escapes, goes through; a byte more than the route's bound
// is 413 whether or not the body says its length.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)
	const grin = "😀"
	at := func(name string) string { return strings.Repeat(grin, maxLength(t, concernField(t, name))) }
	contactField := func(name string) protoreflect.FieldDescriptor {
		return (&intakev1.ClientContact{}).ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(name))
	}
	full := map[string]any{
		"name":         at("name"),
		"practitioner": at("practitioner"),
		"description":  at("description"),
		"clientName":   at("client_name"),
		"clientContact": map[string]string{
			"email": strings.Repeat(grin, maxLength(t, contactField("email"))),
			"phone": strings.Repeat(grin, maxLength(t, contactField("phone"))),
		},
	}
	raw, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	escaped := strings.ReplaceAll(string(raw), grin, `\ud83d\ude00`)
	longest := fmt.Sprintf(`{"practitioner":"groups/g/members/cal-reyes","clientName":"Sam","description":%q}`, strings.Repeat(grin, 20000))

	// The route's bound, as a 413 for a body far beyond it says.
	bound := tooLargeBytes(t, do(t, "POST", s.url+"/v1/groups/g/concerns", map[string]string{"Content-Type": "application/json"},
		strings.NewReader(escaped+strings.Repeat(" ", 1<<20))))
	if bound < len(escaped) {
		t.Fatalf("the bound %d is less than the longest valid body in escapes, %d bytes", bound, len(escaped))
	}
	padded := func(body string, size int) string { return body + strings.Repeat(" ", size-len(body)) }

	tests := []struct {
		name       string
		body       io.Reader
		wantStatus int
		// wantDescription is the description the service must get, whole.
		wantDescription string
	}{
		{name: "every field at its limit, in four-byte characters", body: strings.NewReader(string(raw)), wantStatus: 200, wantDescription: at("description")},
		{name: "every field at its limit, written as escapes", body: strings.NewReader(escaped), wantStatus: 200, wantDescription: at("description")},
		{name: "a 20,000-character description of four-byte characters", body: strings.NewReader(longest), wantStatus: 200, wantDescription: strings.Repeat(grin, 20000)},
		{name: "exactly the bound", body: strings.NewReader(padded(escaped, bound)), wantStatus: 200, wantDescription: at("description")},
		{name: "a byte over the bound, with a length", body: strings.NewReader(padded(escaped, bound+1)), wantStatus: 413},
		// io.MultiReader hides the length, so the body is sent chunked.
		{name: "a byte over the bound, chunked", body: io.MultiReader(strings.NewReader(padded(escaped, bound+1))), wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, "POST", s.url+"/v1/groups/g/concerns", map[string]string{"Content-Type": "application/json"}, tt.body)
			if resp.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %.300s", resp.status, tt.wantStatus, resp.body)
			}
			if tt.wantStatus == 413 {
				if got := tooLargeBytes(t, resp); got != bound {
					t.Errorf("maxBytes %d, want the route's bound %d", got, bound)
				}
				return
			}
			if !s.intake.received(func(c call) bool {
				return c.method == "CreateConcern" && c.request.(*intakev1.CreateConcernRequest).GetConcern().GetDescription() == tt.wantDescription
			}) {
				t.Error("intake did not get the description whole")
			}
		})
	}

	t.Run("a route without a body takes little", func(t *testing.T) {
		t.Parallel()
		max := tooLargeBytes(t, do(t, "GET", s.url+"/v1/groups/g/cases/c1", nil, strings.NewReader(strings.Repeat(" ", 64<<10))))
		if max >= bound || max < 2 {
			t.Errorf("maxBytes %d for a route without a body", max)
		}
		if resp := do(t, "GET", s.url+"/v1/groups/g/cases/c1", nil, strings.NewReader("{}")); resp.status != 200 {
			t.Errorf("GET with {}: status %d", resp.status)
		}
	})
	t.Run("no route: the mux answers, whatever the body", func(t *testing.T) {
		t.Parallel()
		resp := do(t, "POST", s.url+"/v2/anything", nil, strings.NewReader(strings.Repeat(" ", 64<<10)))
		if resp.status != http.StatusNotFound {
			t.Errorf("status %d, want 404", resp.status)
		}
	})
}

// TestUnknownFields: a field the body's message does not have, or a string
// that is not UTF-8, is 400 INVALID_FIELDS with a field violation naming
// it as the body spells it, and the call never reaches the service.
func TestUnknownFields(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)
	tests := []struct {
		name   string
		path   string
		body   string
		marker string // a description the service must never see
		// want is the one field violation: field, then words of its
		// description.
		want [2]string
	}{
		{name: "an unknown field", path: "/v1/groups/g/concerns", marker: "m1",
			body: `{"practitioner": "groups/g/members/m", "description": "m1", "clientName": "Sam", "bogus": 1}`,
			want: [2]string{"bogus", "is not a field of Concern"}},
		{name: "an unknown nested field", path: "/v1/groups/g/concerns", marker: "m2",
			body: `{"description": "m2", "clientContact": {"email": "sam@client.example.net", "bogus": {"x": 1}}}`,
			want: [2]string{"clientContact.bogus", "is not a field of ClientContact"}},
		{name: "the request id in the body", path: "/v1/groups/g/concerns", marker: "m3",
			body: `{"description": "m3", "requestId": "4c0b8c6e-8f5e-4f0e-9a43-2d6c1f0b7a19"}`,
			want: [2]string{"requestId", "send it as the query parameter `requestId`"}},
		{name: "invalid UTF-8 in a string", path: "/v1/groups/g/concerns", marker: "m4",
			body: "{\"description\": \"m4\", \"clientName\": \"Sam\xff\xfe\"}",
			want: [2]string{"clientName", "valid UTF-8"}},
		{name: "an unknown field of a whole-request body", path: "/v1/clientSessions",
			body: `{"reference": "K7QM-3XRD", "accessCode": "x", "bogus": true}`,
			want: [2]string{"bogus", "is not a field of CreateClientSessionRequest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, "POST", s.url+tt.path, map[string]string{"Content-Type": "application/json"}, strings.NewReader(tt.body))
			if resp.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.status, resp.body)
			}
			var e errorBody
			if err := json.Unmarshal(resp.body, &e); err != nil {
				t.Fatalf("not JSON: %v: %s", err, resp.body)
			}
			if info := e.detail("google.rpc.ErrorInfo"); e.Code != 3 || info == nil || info["reason"] != "INVALID_FIELDS" {
				t.Errorf("code %d, ErrorInfo %v, want 3 INVALID_FIELDS", e.Code, info)
			}
			br := e.detail("google.rpc.BadRequest")
			vs, _ := br["fieldViolations"].([]any)
			if len(vs) != 1 {
				t.Fatalf("field violations %v, want one", vs)
			}
			v := vs[0].(map[string]any)
			if v["field"] != tt.want[0] || !strings.Contains(fmt.Sprint(v["description"]), tt.want[1]) {
				t.Errorf("violation %v, want %s: …%s…", v, tt.want[0], tt.want[1])
			}
			for _, secret := range []string{"Sam", "4c0b8c6e", "sam@"} {
				if strings.Contains(string(resp.body), secret) {
					t.Errorf("the answer repeats %q: %s", secret, resp.body)
				}
			}
			if tt.marker != "" && s.intake.received(func(c call) bool {
				return c.method == "CreateConcern" && c.request.(*intakev1.CreateConcernRequest).GetConcern().GetDescription() == tt.marker
			}) {
				t.Error("the call reached intake")
			}
		})
	}

	t.Run("proto names, and the request id where it belongs", func(t *testing.T) {
		t.Parallel()
		body := `{"practitioner": "groups/g/members/m", "description": "m5", "client_name": "Sam", "client_contact": {"email": "sam@client.example.net"}}`
		resp := do(t, "POST", s.url+"/v1/groups/g/concerns?requestId=4c0b8c6e-8f5e-4f0e-9a43-2d6c1f0b7a19", map[string]string{"Content-Type": "application/json"}, strings.NewReader(body))
		if resp.status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}
		if !s.intake.received(func(c call) bool {
			r, ok := c.request.(*intakev1.CreateConcernRequest)
			return ok && r.GetConcern().GetDescription() == "m5" && r.GetRequestId() == "4c0b8c6e-8f5e-4f0e-9a43-2d6c1f0b7a19" && r.GetConcern().GetClientName() == "Sam"
		}) {
			t.Error("intake did not get the concern with its request id")
		}
	})
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
