package grpcserver

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ipnmediation/disputes/platform/fault"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ErrorDomain is the ErrorInfo domain of every error the services return.
const ErrorDomain = "disputes.ipn.org.uk"

var kindCodes = map[fault.Kind]codes.Code{
	fault.Internal:           codes.Internal,
	fault.InvalidArgument:    codes.InvalidArgument,
	fault.NotFound:           codes.NotFound,
	fault.AlreadyExists:      codes.AlreadyExists,
	fault.FailedPrecondition: codes.FailedPrecondition,
	fault.Aborted:            codes.Aborted,
	fault.PermissionDenied:   codes.PermissionDenied,
	fault.Unauthenticated:    codes.Unauthenticated,
	fault.ResourceExhausted:  codes.ResourceExhausted,
	fault.Unavailable:        codes.Unavailable,
}

// ToStatus is the one place where errors become gRPC statuses. A *fault.Error
// keeps its kind, message, reason (in ErrorInfo), field violations (in
// BadRequest) and retry delay (in RetryInfo). A status error passes through. A context error becomes
// Canceled or DeadlineExceeded. Anything else is logged and hidden behind a
// plain INTERNAL status, so internals never reach a caller.
func ToStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	if fe, ok := fault.As(err); ok {
		if fe.Cause != nil || fe.Kind == fault.Internal {
			log.LogAttrs(ctx, slog.LevelWarn, "request failed", slog.String("method", method), slog.String("reason", fe.Reason), slog.Any("error", fe.Cause))
		}
		st := status.New(kindCodes[fe.Kind], fe.Message)
		info := &errdetails.ErrorInfo{Reason: fe.Reason, Domain: ErrorDomain, Metadata: fe.Metadata}
		details := []any{info}
		if len(fe.Violations) > 0 {
			br := &errdetails.BadRequest{}
			for _, v := range fe.Violations {
				br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
			}
			details = append(details, br)
		}
		if fe.RetryDelay > 0 {
			details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(fe.RetryDelay)})
		}
		if withDetails, derr := st.WithDetails(toProtoV1(details)...); derr == nil {
			st = withDetails
		}
		return st.Err()
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "the request was canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "the request ran out of time")
	}
	log.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("method", method), slog.Any("error", err))
	st, _ := status.New(codes.Internal, "internal error").WithDetails(&errdetails.ErrorInfo{Reason: "INTERNAL", Domain: ErrorDomain})
	return st.Err()
}
