package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// contractClient sends the end-to-end tests' REST requests (system.call,
// restWalk.getRaw) and holds every exchange to the OpenAPI document that the
// gateway serves at /openapi.json: the document is the contract. A request
// the document does not describe, or an answer that differs from what it
// promises for the operation and status (a member its schema does not have,
// a missing field, a wrong type, a reason its status does not list, a
// content type it does not name), fails the request with an error that names
// the operation, the status and what differed, so the test that sent it
// fails. A request the document calls invalid may still be sent, to see it
// refused: the gateway must then answer 4xx, and its error answer is checked
// like any other.
var contractClient = &http.Client{Transport: &contractTransport{base: http.DefaultTransport, routers: map[string]routers.Router{}}}

func init() {
	// A meeting's calendar file is text, as the document says; read it as
	// such to check its content type.
	openapi3filter.RegisterBodyDecoder("text/calendar", openapi3filter.PlainBodyDecoder)
}

// gatewayOwnPaths are the gateway's own answers, outside the REST API the
// document describes.
var gatewayOwnPaths = []string{"/openapi.json", "/healthz", "/readyz", "/reference"}

// contractTransport is the RoundTripper of contractClient.
type contractTransport struct {
	base http.RoundTripper

	mu sync.Mutex
	// routers hold each gateway's document, by scheme and host: each
	// system a test starts has its own gateway.
	routers map[string]routers.Router
}

// router is the router of the document that the gateway at the request's
// host serves, loaded on first use.
func (c *contractTransport) router(req *http.Request) (routers.Router, error) {
	origin := req.URL.Scheme + "://" + req.URL.Host
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.routers[origin]; ok {
		return r, nil
	}
	get, err := http.NewRequestWithContext(req.Context(), http.MethodGet, origin+"/openapi.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.base.RoundTrip(get)
	if err != nil {
		return nil, fmt.Errorf("get the OpenAPI document: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get the OpenAPI document: HTTP %d, %v", resp.StatusCode, err)
	}
	r, err := contractRouter(raw, origin)
	if err != nil {
		return nil, err
	}
	c.routers[origin] = r
	return r, nil
}

// contractRouter loads an OpenAPI document and routes requests to origin
// by it. The document names its server relative ("/"); the router needs the
// origin the test's requests go to.
func contractRouter(raw []byte, origin string) (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: origin}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route by the OpenAPI document: %w", err)
	}
	return r, nil
}

// bearerOnly is the AuthenticationFunc of the check: a request meets the
// bearer scheme when it sends a bearer token. Whether the token is good is
// the services' to say, for real.
func bearerOnly(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearer" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	auth := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") || len(auth) == len("Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}

// RoundTrip checks the request against the document, sends it, and checks
// the answer.
func (c *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	send := req.Clone(req.Context())
	if body != nil {
		send.Body = io.NopCloser(bytes.NewReader(body))
		send.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	r, err := c.router(req)
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	exchange := req.Method + " " + req.URL.RequestURI()

	route, params, routeErr := r.FindRoute(send)
	var input *openapi3filter.RequestValidationInput
	var requestErr error
	if routeErr == nil {
		exchange += " (" + route.Operation.OperationID + ")"
		check := req.Clone(req.Context())
		check.Body = io.NopCloser(bytes.NewReader(body))
		input = &openapi3filter.RequestValidationInput{
			Request:    check,
			PathParams: params,
			Route:      route,
			Options:    checkOptions(&openapi3filter.Options{AuthenticationFunc: bearerOnly}),
		}
		requestErr = openapi3filter.ValidateRequest(req.Context(), input)
	}

	resp, err := c.base.RoundTrip(send)
	if err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	ok := resp.StatusCode < 300

	switch {
	case routeErr != nil:
		if ok && !gatewayOwn(req.URL.Path) {
			return nil, fmt.Errorf("contract: %s: the gateway answered %d to a request the OpenAPI document has no operation for (%v)", exchange, resp.StatusCode, routeErr)
		}
		return resp, nil
	case requestErr != nil && ok:
		return nil, fmt.Errorf("contract: %s: the OpenAPI document says the request is not valid, yet the gateway answered %d:\n%v\nrequest body: %s", exchange, resp.StatusCode, requestErr, clip(body))
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(answer)),
		Options:                checkOptions(&openapi3filter.Options{IncludeResponseStatus: true}),
	}
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		return nil, fmt.Errorf("contract: %s: the answer %d differs from the OpenAPI document:\n%v\nanswer: %s", exchange, resp.StatusCode, err, clip(answer))
	}
	return resp, nil
}

// checkOptions completes the options of a check: every difference, not the
// first, each said as where it is and what is wrong, without the schema.
func checkOptions(o *openapi3filter.Options) *openapi3filter.Options {
	o.MultiError = true
	o.WithCustomSchemaErrorFunc(schemaError)
	return o
}

// schemaError says where a value differs from its schema and how, and, for
// a value that fails a schema it must match through allOf or anyOf, why.
func schemaError(err *openapi3.SchemaError) string {
	msg := fmt.Sprintf("at /%s: %s", strings.Join(err.JSONPointer(), "/"), err.Reason)
	var inner *openapi3.SchemaError
	var multi openapi3.MultiError
	switch {
	case errors.As(err.Origin, &inner):
		msg += " (" + schemaError(inner) + ")"
	case errors.As(err.Origin, &multi):
		var parts []string
		for _, e := range multi {
			if errors.As(e, &inner) {
				parts = append(parts, schemaError(inner))
			}
		}
		if len(parts) > 0 {
			msg += " (" + strings.Join(parts, "; ") + ")"
		}
	}
	return msg
}

// gatewayOwn reports whether a path is one of the gateway's own answers.
func gatewayOwn(path string) bool {
	for _, p := range gatewayOwnPaths {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// clip shortens a body for an error message.
func clip(b []byte) string {
	const most = 2000
	if len(b) > most {
		return string(b[:most]) + "…"
	}
	return string(b)
}

// TestContractCheck feeds contractClient answers from a stand-in gateway that
// serves the committed OpenAPI document: an answer as the document describes
// it passes, and one with a member the document does not describe, a wrong
// type, or an error reason its status does not list fails, naming the
// operation, the status and what differed. So does a request the document
// calls invalid that the gateway accepts.
func TestContractCheck(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../gateway/internal/openapi/disputes.openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	const group = `{"name": "groups/riverside", "displayName": "Riverside", "publicContact": "", "meetingFrequency": "",
		"ipnStatus": "IPN_STATUS_FORMING", "ipnStatusSinceYear": 2024, "procedureSettings": %s,
		"createTime": "2026-01-05T10:00:00Z", "updateTime": null, "etag": "W/\"1\""%s}`
	const settings = `{"procedure": "procedures/ipn-2024", "overallTarget": "4838400s", "firstResponseTarget": null, "retention": null, "reminderOffsets": [], "memberSessionLifetime": null}`
	const concern = `{"clientName": "Sam", "clientContact": {"email": "sam@example.org"}, "practitioner": "groups/riverside/members/alex",
		"description": "What happened.", "surprise": true}`
	notFound := func(reason string) string {
		return `{"code": 5, "message": "there is no group groups/nowhere", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": "` + reason + `", "domain": "disputes.ipn.org.uk", "metadata": {}}]}`
	}
	tests := []struct {
		name       string
		method     string
		path, body string // the request
		status     int    // the stand-in gateway's answer
		answer     string
		want       []string // in the error; none for no error
	}{
		{name: "as described", method: "GET", path: "/v1/groups/riverside", status: 200,
			answer: fmt.Sprintf(group, settings, "")},
		{name: "an unset message field is null", method: "GET", path: "/v1/groups/riverside", status: 200,
			answer: fmt.Sprintf(group, "null", "")},
		{name: "a field the document does not describe", method: "GET", path: "/v1/groups/riverside", status: 200,
			answer: fmt.Sprintf(group, settings, `, "surprise": true`),
			want:   []string{"GET /v1/groups/riverside (DirectoryService_GetGroup)", "answer 200 differs", `"surprise"`}},
		{name: "a nested field the document does not describe", method: "GET", path: "/v1/groups/riverside", status: 200,
			answer: fmt.Sprintf(group, strings.Replace(settings, "{", `{"extra": 1, `, 1), ""),
			want:   []string{"DirectoryService_GetGroup", `property "extra" is unsupported`}},
		{name: "a wrong type", method: "GET", path: "/v1/groups/riverside", status: 200,
			answer: strings.Replace(fmt.Sprintf(group, settings, ""), "2024", `"2024"`, 1),
			want:   []string{"DirectoryService_GetGroup", "ipnStatusSinceYear"}},
		{name: "a status's own reason", method: "GET", path: "/v1/groups/nowhere", status: 404, answer: notFound("GROUP_NOT_FOUND")},
		{name: "a reason the status does not list", method: "GET", path: "/v1/groups/nowhere", status: 404, answer: notFound("TOO_MANY_CONCERNS"),
			want: []string{"answer 404 differs", "TOO_MANY_CONCERNS"}},
		{name: "an invalid request accepted", method: "POST", path: "/v1/groups/riverside/concerns", body: concern, status: 200,
			answer: `{}`, want: []string{"(IntakeService_CreateConcern)", "says the request is not valid", "surprise"}},
		{name: "an invalid request refused", method: "POST", path: "/v1/groups/riverside/concerns", body: concern, status: 400,
			answer: `{"code": 3, "message": "the request body or its parameters could not be read", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
				"reason": "MALFORMED_REQUEST", "domain": "disputes.ipn.org.uk", "metadata": {}}]}`},
		{name: "no operation answered", method: "GET", path: "/v1/nothing", status: 200, answer: `{}`,
			want: []string{"no operation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/openapi.json" {
					_, _ = w.Write(doc)
					return
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.answer)
			}))
			defer gateway.Close()
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, gateway.URL+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := contractClient.Do(req)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("the check refused an exchange the document describes: %v", err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("the check passed an exchange that differs from the document")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the check's error does not say %q:\n%v", want, err)
				}
			}
		})
	}
}
