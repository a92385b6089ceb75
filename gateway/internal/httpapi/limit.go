package httpapi

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/tracing"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// checkBodies stands between the server and the mux. It finds the route a
// request takes, refuses a body larger than the route's bound with 413
// before anything is forwarded, refuses a body on a route that takes one
// whose Content-Type is not application/json with 415 (an empty body on any
// route, and any body on a route that takes none, which grpc-gateway
// ignores, pass), and refuses a JSON body with a field the
// body's message does not have, or a string that is not valid text, with 400
// and a field violation naming the field. The body is read whole (it is no
// larger than the bound by then) so that an oversized one is answered 413
// whether or not it announced its length; grpc-gateway would otherwise
// report a cut-off body as malformed.
//
// A request no route takes goes on to the mux, which answers 404 or 405
// without reading its body.
func checkBodies(api *runtime.ServeMux, routes *routeTable, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := routes.match(r.Method, r.URL.Path)
		if rt == nil {
			r.Body = http.MaxBytesReader(w, r.Body, whitespaceAllowance)
			api.ServeHTTP(w, r)
			return
		}
		// The span takes the route's template, never the path.
		tracing.SetRoute(r.Context(), rt.method, rt.template)
		if r.ContentLength > rt.maxBody {
			tooLarge(api, w, r, rt.maxBody)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rt.maxBody))
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				tooLarge(api, w, r, rt.maxBody)
				return
			}
			_, outbound := runtime.MarshalerForRequest(api, r)
			runtime.HTTPError(r.Context(), api, outbound, w, r, status.Error(codes.InvalidArgument, "the request body could not be read"))
			return
		}
		if rt.body != "" && len(body) > 0 && !jsonContentType(r.Header.Get("Content-Type")) {
			unsupportedMediaType(api, w, r)
			return
		}
		if rt.body != "" {
			violations, malformed := checkBody(rt, body)
			switch {
			case malformed:
				// The errorHandler gives it the MALFORMED_REQUEST reason
				// and message.
				_, outbound := runtime.MarshalerForRequest(api, r)
				runtime.HTTPError(r.Context(), api, outbound, w, r, status.Error(codes.InvalidArgument, "the request body is not one JSON value"))
				return
			case len(violations) > 0:
				var v fault.Violations
				v.Merge("", violations)
				st := grpcserver.ToStatus(r.Context(), log, string(rt.rpc.FullName()), v.Err())
				_, outbound := runtime.MarshalerForRequest(api, r)
				runtime.HTTPError(r.Context(), api, outbound, w, r, st)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		api.ServeHTTP(w, r)
	})
}

func tooLarge(api *runtime.ServeMux, w http.ResponseWriter, r *http.Request, max int64) {
	st, err := status.New(codes.InvalidArgument, "the request body is larger than "+strconv.FormatInt(max, 10)+" bytes, the most a valid request on this route can take").
		WithDetails(&errdetails.ErrorInfo{
			Reason:   "REQUEST_TOO_LARGE",
			Domain:   grpcserver.ErrorDomain,
			Metadata: map[string]string{"maxBytes": strconv.FormatInt(max, 10)},
		})
	if err != nil {
		st = status.New(codes.InvalidArgument, "the request body is too large")
	}
	// The connection is not reused: the rest of the body was never read.
	w.Header().Set("Connection", "close")
	_, outbound := runtime.MarshalerForRequest(api, r)
	runtime.HTTPError(r.Context(), api, outbound, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: st.Err()})
}
