// Package api is the website's client of the public REST API (the gateway):
// the generated proto types, in protobuf's binary encoding (see
// mimeProtobuf) or JSON, as any website would call it.
// It holds no credentials of its own: each call carries the client's session
// token, or none for what anyone may read.
//
// Answers are read with DiscardUnknown, so that a newer API with fields
// this website does not know yet does not break it. Every call is bounded by
// the client's timeout. Errors are *Error, with what a page needs to decide
// what to show: the HTTP status, the ErrorInfo reason, field violations (as
// the JSON body names the fields) and Retry-After.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/platform/tracing"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// maxAnswer bounds an answer's body: the largest the website reads (a page
// of timeline entries, an ethical statement) is far smaller.
const maxAnswer = 4 << 20

// Client calls the REST API at a base URL.
type Client struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
	// public keeps the anonymous reads' answers; nil keeps nothing (see
	// CachePublic).
	public *publicCache
}

// New returns a client of the API at base (http://127.0.0.1:7180), each
// call of which gives up after timeout.
func New(base *url.URL, timeout time.Duration) *Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 32
	// Each call is a span of the page's trace, and passes it on to the
	// gateway in its traceparent header.
	return &Client{base: base, http: &http.Client{Transport: tracing.Transport(transport)}, timeout: timeout}
}

type clientAddrKey struct{}

// WithClientAddress returns ctx carrying the address of the person the
// website is serving, which every call passes on in X-Forwarded-For: the
// API counts its per-address limits (concerns, sign-in attempts) by it, and
// without it every visitor would count as the website's own address. The
// gateway believes it only from the networks in its TRUSTED_PROXIES.
func WithClientAddress(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, a)
}

// request is one call.
type request struct {
	method, path string
	query        url.Values
	token        string
	body         proto.Message
}

// do sends req and reads the answer into out (nil to ignore it).
func (c *Client) do(ctx context.Context, req request, out proto.Message) error {
	b, contentType, err := c.send(ctx, req, mimeProtobuf)
	if err != nil || out == nil {
		return err
	}
	if err := unmarshalAnswer(b, contentType, out); err != nil {
		return fmt.Errorf("api: %s %s: read the answer: %w", req.method, req.path, err)
	}
	return nil
}

// mimeProtobuf is the media type of the API's answers in protobuf's binary
// encoding. The website asks for it: the same messages as the JSON, which
// cost the gateway several times more to write and the website to read.
const mimeProtobuf = "application/x-protobuf"

// isProtobuf reports whether a Content-Type says the body is protobuf.
func isProtobuf(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == mimeProtobuf
}

// unmarshalAnswer reads an answer into out by its Content-Type: protobuf
// when the API sent it, JSON otherwise (an API that does not offer
// protobuf answers with JSON whatever is asked). Both skip fields this
// website does not know yet.
func unmarshalAnswer(b []byte, contentType string, out proto.Message) error {
	if isProtobuf(contentType) {
		return proto.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, out)
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, out)
}

// send sends req, asking for an answer of the type accept, and returns the
// answer's body and content type; an answer that is not a success is an
// *Error.
func (c *Client) send(ctx context.Context, req request, accept string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base.JoinPath(req.path)
	u.RawQuery = req.query.Encode()
	var body io.Reader
	if req.body != nil {
		b, err := protojson.Marshal(req.body)
		if err != nil {
			return nil, "", fmt.Errorf("api: encode %s %s: %w", req.method, req.path, err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
	if err != nil {
		return nil, "", fmt.Errorf("api: %s %s: %w", req.method, req.path, err)
	}
	hr.Header.Set("Accept", accept)
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.token)
	}
	if a, ok := ctx.Value(clientAddrKey{}).(netip.Addr); ok && a.IsValid() {
		hr.Header.Set("X-Forwarded-For", a.String())
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, "", unreachable(req, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, "", unreachable(req, err)
	}
	if resp.StatusCode >= 300 {
		return nil, "", decodeError(req, resp, b)
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// Error is an answer of the API that is not a success, or a call that got no
// answer at all.
type Error struct {
	// Method and Path name the call (paths hold ids only, never a person's
	// words).
	Method, Path string
	// Status is the HTTP status; 0 when no answer came (the API
	// unreachable, or too slow).
	Status int
	// Reason is the ErrorInfo reason, for example CASE_OPENING.
	Reason string
	// Message is the API's message for people (in the engineers' words; a
	// page rewords it before showing it).
	Message string
	// Metadata is the ErrorInfo's metadata.
	Metadata map[string]string
	// Fields are the field violations, named as the JSON body spells them
	// (clientName, clientContact.email).
	Fields []FieldViolation
	// RetryAfter is how long to wait before trying again, from Retry-After.
	RetryAfter time.Duration
	// Err is why no answer came, when Status is 0.
	Err error
}

// FieldViolation is one field the API refused and why.
type FieldViolation struct {
	Field, Description string
}

// Error says what went wrong, for logs: the call, the status, the reason.
func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("api: %s %s: no answer: %v", e.Method, e.Path, e.Err)
	}
	return fmt.Sprintf("api: %s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Reason, e.Message)
}

// Unwrap returns why no answer came.
func (e *Error) Unwrap() error { return e.Err }

// Unavailable reports whether the API could not serve the call just now
// (no answer, 503 or 504): a page says to try again in a few minutes.
func (e *Error) Unavailable() bool {
	return e.Status == 0 || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout
}

// AsError returns err's *Error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsReason reports whether err is an answer of the API with that reason.
func IsReason(err error, reason string) bool {
	e, ok := AsError(err)
	return ok && e.Reason == reason
}

func unreachable(req request, err error) *Error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer in time: %w", err)
	}
	return &Error{Method: req.method, Path: req.path, Err: err}
}

// status is google.rpc.Status as JSON, its details left raw so that a detail
// of a type this website does not know is skipped, not an error.
type status struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

func decodeError(req request, resp *http.Response, body []byte) *Error {
	e := &Error{Method: req.method, Path: req.path, Status: resp.StatusCode}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	if isProtobuf(resp.Header.Get("Content-Type")) {
		return decodeProtobufError(e, resp, body)
	}
	var st status
	if err := json.Unmarshal(body, &st); err != nil {
		e.Message = http.StatusText(resp.StatusCode)
		return e
	}
	e.Message = st.Message
	lenient := protojson.UnmarshalOptions{DiscardUnknown: true}
	for _, raw := range st.Details {
		var typed struct {
			Type string `json:"@type"`
		}
		if json.Unmarshal(raw, &typed) != nil {
			continue
		}
		// protojson reads an Any's fields beside its @type; the detail
		// alone is read here, so the @type goes.
		fields := map[string]json.RawMessage{}
		if json.Unmarshal(raw, &fields) != nil {
			continue
		}
		delete(fields, "@type")
		plain, err := json.Marshal(fields)
		if err != nil {
			continue
		}
		switch typed.Type {
		case "type.googleapis.com/google.rpc.ErrorInfo":
			var info errdetails.ErrorInfo
			if lenient.Unmarshal(plain, &info) == nil {
				e.Reason, e.Metadata = info.GetReason(), info.GetMetadata()
			}
		case "type.googleapis.com/google.rpc.BadRequest":
			var br errdetails.BadRequest
			if lenient.Unmarshal(plain, &br) == nil {
				for _, v := range br.GetFieldViolations() {
					e.Fields = append(e.Fields, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
				}
			}
		case "type.googleapis.com/google.rpc.RetryInfo":
			var ri errdetails.RetryInfo
			if lenient.Unmarshal(plain, &ri) == nil && e.RetryAfter == 0 && ri.GetRetryDelay() != nil {
				e.RetryAfter = ri.GetRetryDelay().AsDuration()
			}
		}
	}
	return e
}

// decodeProtobufError reads a google.rpc.Status in protobuf's binary
// encoding into e, as decodeError reads the JSON one: a detail of a type
// this website does not know is skipped.
func decodeProtobufError(e *Error, resp *http.Response, body []byte) *Error {
	var st statuspb.Status
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, &st); err != nil {
		e.Message = http.StatusText(resp.StatusCode)
		return e
	}
	e.Message = st.GetMessage()
	for _, d := range st.GetDetails() {
		var info errdetails.ErrorInfo
		var br errdetails.BadRequest
		var ri errdetails.RetryInfo
		switch {
		case d.MessageIs(&info) && d.UnmarshalTo(&info) == nil:
			e.Reason, e.Metadata = info.GetReason(), info.GetMetadata()
		case d.MessageIs(&br) && d.UnmarshalTo(&br) == nil:
			for _, v := range br.GetFieldViolations() {
				e.Fields = append(e.Fields, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case d.MessageIs(&ri) && d.UnmarshalTo(&ri) == nil:
			if e.RetryAfter == 0 && ri.GetRetryDelay() != nil {
				e.RetryAfter = ri.GetRetryDelay().AsDuration()
			}
		}
	}
	return e
}

// Ready reports whether the API says it can serve (its /readyz answers 200),
// for the website's own readiness metric.
func (c *Client) Ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.JoinPath("readyz").String(), nil)
	if err != nil {
		return false
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	return resp.StatusCode == http.StatusOK
}
