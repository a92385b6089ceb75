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
)

// DefaultRetryAfter is the Retry-After of a 503 whose status carries no
// RetryInfo: a service the gateway cannot reach says nothing about when it
// will be back. Long enough that clients do not hammer a service that is
// restarting, short beside the promise that callers work again within 10 s
// of its return.
const DefaultRetryAfter = 2 * time.Second

// errorHandler writes errors as google.rpc.Status JSON, as grpc-gateway's
// default handler does, with the HTTP status it derives from the gRPC code
// (UNAVAILABLE 503, RESOURCE_EXHAUSTED 429, DEADLINE_EXCEEDED 504, …).
// Errors from the services arrive with an ErrorInfo and pass through
// untouched. Errors the gateway makes itself (a malformed body, an unknown
// route, a service it cannot reach or that did not answer in time) get an
// ErrorInfo too, so that every error a client sees carries a reason, and
// their messages are replaced where they could carry what the client sent or
// the gateway's internals. An answer that asks the client to come back later
// says when, in Retry-After (see retryAfter).
func errorHandler(log *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		err = withReason(ctx, log, r, err)
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
// DefaultRetryAfter. Other errors get none.
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
	if httpStatus == http.StatusServiceUnavailable {
		return strconv.FormatInt(int64(DefaultRetryAfter/time.Second), 10), true
	}
	return "", false
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
