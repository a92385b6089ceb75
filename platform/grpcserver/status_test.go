package grpcserver

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToStatusRetryInfo(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name  string
		delay time.Duration
		want  time.Duration // 0: no RetryInfo
	}{
		{name: "with a delay", delay: 90 * time.Second, want: 90 * time.Second},
		{name: "without", delay: 0},
		{name: "a negative delay is left out", delay: -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := &fault.Error{Kind: fault.ResourceExhausted, Reason: "TOO_MANY_ATTEMPTS", Message: "try later", RetryDelay: tt.delay}
			st, _ := status.FromError(ToStatus(context.Background(), log, "/m", err))
			if st.Code() != codes.ResourceExhausted {
				t.Fatalf("code = %v", st.Code())
			}
			var got time.Duration
			var info bool
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.RetryInfo:
					got = d.GetRetryDelay().AsDuration()
				case *errdetails.ErrorInfo:
					info = d.GetReason() == "TOO_MANY_ATTEMPTS"
				}
			}
			if got != tt.want || !info {
				t.Errorf("retry delay %v (ErrorInfo kept: %v), want %v", got, info, tt.want)
			}
		})
	}
}
