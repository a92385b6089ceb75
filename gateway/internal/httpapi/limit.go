package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// limitBody refuses request bodies larger than max with 413 before anything
// is forwarded. The body is read whole (it is small by then) so that an
// oversized one is always answered 413, whether or not it announced its
// length; grpc-gateway would otherwise report a cut-off body as malformed.
func limitBody(api *runtime.ServeMux, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			tooLarge(api, w, r, max)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				tooLarge(api, w, r, max)
				return
			}
			_, outbound := runtime.MarshalerForRequest(api, r)
			runtime.HTTPError(r.Context(), api, outbound, w, r, status.Error(codes.InvalidArgument, "the request body could not be read"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		api.ServeHTTP(w, r)
	})
}

func tooLarge(api *runtime.ServeMux, w http.ResponseWriter, r *http.Request, max int64) {
	st, err := status.New(codes.InvalidArgument, "the request body is larger than "+strconv.FormatInt(max, 10)+" bytes").
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
