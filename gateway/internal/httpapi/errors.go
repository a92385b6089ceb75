package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	// Registers ErrorInfo and BadRequest with the protobuf type registry:
	// without it the JSON marshaler cannot write the details the services
	// put in their errors, and every error would become a bare INTERNAL.
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// DefaultRetryAfter is the Retry-After of a 503 whose status carries no
// RetryInfo: a service the gateway cannot reach says nothing about when it
// will be back. Long enough that clients do not hammer a service that is
// restarting, short beside the promise that callers work again within 10 s
// of its return.
const DefaultRetryAfter = 2 * time.Second

// DefaultRateLimitRetryAfter is the Retry-After of a 429 whose status carries
// no RetryInfo. Intake's rate limits always say how long to wait; a
// RESOURCE_EXHAUSTED without a delay comes from a limit that does not know
// (gRPC's own, for one), and a client that retried at once would only meet
// it again. Ten seconds stops a retry loop without keeping a person waiting
// long.
const DefaultRateLimitRetryAfter = 10 * time.Second

// errorHandler writes errors as google.rpc.Status JSON, as grpc-gateway's
// default handler does, with the HTTP status it derives from the gRPC code
// (UNAVAILABLE 503, RESOURCE_EXHAUSTED 429, DEADLINE_EXCEEDED 504, …).
// Errors from the services arrive with an ErrorInfo and pass through
// untouched. Errors the gateway makes itself (a malformed body, an unknown
// route, a service it cannot reach or that did not answer in time) get an
// ErrorInfo too, so that every error a client sees carries a reason, and
// their messages are replaced where they could carry what the client sent or
// the gateway's internals. An answer that asks the client to come back later
// says when, in Retry-After (see retryAfter). Field violations name fields
// as the client's JSON does (see jsonViolations).
func errorHandler(log *slog.Logger, routes *routeTable) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		err = withReason(ctx, log, r, err)
		err = jsonViolations(routes, r, err)
		if after, ok := retryAfter(err); ok {
			// Set before the default handler writes the header; it keeps
			// the headers already set.
			w.Header().Set("Retry-After", after)
		}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
	}
}

// retryAfter is the Retry-After header for an error, in whole seconds: the
// RetryInfo delay the service sent (rounded up, so a client never comes back
// before the limit that refused it lets it in), whatever the status, as
// intake's rate limits send with RESOURCE_EXHAUSTED (429); else, for a 503,
// DefaultRetryAfter, and for a 429 DefaultRateLimitRetryAfter. Other errors
// get none.
func retryAfter(err error) (string, bool) {
	httpStatus := 0
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		httpStatus, err = httpErr.HTTPStatus, httpErr.Err
	}
	st := status.Convert(err)
	if httpStatus == 0 {
		httpStatus = runtime.HTTPStatusFromCode(st.Code())
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.RetryInfo); ok && info.GetRetryDelay() != nil {
			delay := max(info.GetRetryDelay().AsDuration(), 0)
			return strconv.FormatInt(int64(math.Ceil(delay.Seconds())), 10), true
		}
	}
	switch httpStatus {
	case http.StatusServiceUnavailable:
		return seconds(DefaultRetryAfter), true
	case http.StatusTooManyRequests:
		return seconds(DefaultRateLimitRetryAfter), true
	}
	return "", false
}

// seconds is a Retry-After of d, in whole seconds.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// invalidFieldsMessage begins the message of the platform's INVALID_FIELDS
// errors, which goes on to list the violations' fields, comma-separated
// (fault.Violations.Err).
const invalidFieldsMessage = "the request has invalid fields: "

// jsonViolations rewrites the field of every BadRequest field violation in
// err from the proto path the services name (`concern.client_name`) to the
// path in the JSON the client sent (`clientName`, see jsonFieldPath), for
// the route the request took, and the message that lists them, when it is
// the platform's. gRPC callers still get the proto paths: only the REST
// answer is rewritten. An error of a request no route takes is left as it
// is.
func jsonViolations(routes *routeTable, r *http.Request, err error) error {
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		return &runtime.HTTPStatusError{HTTPStatus: httpErr.HTTPStatus, Err: jsonViolations(routes, r, httpErr.Err)}
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	p := st.Proto()
	var rt *route
	var before, after []string
	for i, d := range p.GetDetails() {
		var br errdetails.BadRequest
		if !d.MessageIs(&br) || d.UnmarshalTo(&br) != nil {
			continue
		}
		if rt == nil {
			if rt = routes.match(r.Method, r.URL.Path); rt == nil {
				return err
			}
		}
		for _, v := range br.GetFieldViolations() {
			before = append(before, v.GetField())
			v.Field = jsonFieldPath(rt, v.GetField())
			after = append(after, v.GetField())
		}
		out, aerr := anypb.New(&br)
		if aerr != nil {
			return err
		}
		p.Details[i] = out
	}
	if rt == nil {
		return err
	}
	if p.GetMessage() == invalidFieldsMessage+strings.Join(before, ", ") {
		p.Message = invalidFieldsMessage + strings.Join(after, ", ")
	}
	return status.FromProto(p).Err()
}

// routingError answers a request no route takes with the HTTP status that
// says why (grpc-gateway's default turns 405 into 501), as a google.rpc.Status
// with a reason.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	code, reason := codes.NotFound, "ROUTE_NOT_FOUND"
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		code, reason = codes.Unimplemented, "METHOD_NOT_ALLOWED"
	case http.StatusBadRequest:
		code, reason = codes.InvalidArgument, "MALFORMED_REQUEST"
	}
	st, err := status.New(code, http.StatusText(httpStatus)).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: grpcserver.ErrorDomain})
	if err != nil {
		st = status.New(code, http.StatusText(httpStatus))
	}
	runtime.HTTPError(ctx, mux, m, w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: st.Err()})
}

func withReason(ctx context.Context, log *slog.Logger, r *http.Request, err error) error {
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		return &runtime.HTTPStatusError{HTTPStatus: httpErr.HTTPStatus, Err: withReason(ctx, log, r, httpErr.Err)}
	}
	st := status.Convert(err)
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return err
		}
	}
	message := st.Message()
	var reason string
	switch st.Code() {
	case codes.Unavailable:
		// The transport's message names addresses and ports.
		log.LogAttrs(ctx, slog.LevelWarn, "service unavailable", slog.String("path", r.URL.Path), slog.String("rpc", rpcMethod(ctx)), slog.String("error", st.Message()))
		reason, message = "SERVICE_UNAVAILABLE", "the service is not available at the moment; try again shortly"
	case codes.DeadlineExceeded:
		// The gateway's BACKEND_TIMEOUT or the client's own Grpc-Timeout
		// ran out (a service's own DEADLINE_EXCEEDED carries an ErrorInfo
		// and passed through above). The operator needs to know which
		// call was slow; the client only that a retry may do.
		log.LogAttrs(ctx, slog.LevelWarn, "service did not answer in time", slog.String("path", r.URL.Path), slog.String("rpc", rpcMethod(ctx)), slog.String("error", st.Message()))
		reason, message = "DEADLINE_EXCEEDED", "the service did not answer in time; try again shortly"
	case codes.InvalidArgument:
		// The JSON decoder's message may quote the body, which may be a
		// client's confidential words.
		reason, message = "MALFORMED_REQUEST", "the request body or its parameters could not be read; send JSON as the OpenAPI document describes"
	default:
		reason = upperSnake(st.Code())
	}
	out, derr := status.New(st.Code(), message).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: grpcserver.ErrorDomain})
	if derr != nil {
		return status.Error(st.Code(), message)
	}
	return out.Err()
}

// rpcMethod names the gRPC method a REST call was routed to, for logs.
func rpcMethod(ctx context.Context) string {
	m, _ := runtime.RPCMethod(ctx)
	return m
}

// upperSnake turns codes.NotFound into "NOT_FOUND".
func upperSnake(c codes.Code) string {
	var b strings.Builder
	for i, ch := range c.String() {
		if i > 0 && ch >= 'A' && ch <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(ch)
	}
	return strings.ToUpper(b.String())
}

// writeJSON writes a small JSON answer of the gateway's own.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
