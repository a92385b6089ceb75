package cli_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/testenv"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// fakeNotification is a test double of notification: riverside has five
// dead deliveries, two of them about case K7QX-2M9D; other groups are
// unknown to the caller, and only adminToken may retry.
type fakeNotification struct {
	notificationv1.UnimplementedNotificationServiceServer
	mu       sync.Mutex
	requests []proto.Message
	bearers  []string
}

const adminToken = "admin-secret"

func (f *fakeNotification) RetryDeadDeliveries(ctx context.Context, req *notificationv1.RetryDeadDeliveriesRequest) (*notificationv1.RetryDeadDeliveriesResponse, error) {
	secret, _ := auth.BearerFromMetadata(ctx)
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.bearers = append(f.bearers, secret)
	f.mu.Unlock()
	switch {
	case req.GetParent() != "groups/riverside":
		return nil, status(fault.New(fault.NotFound, "GROUP_NOT_FOUND", "the group does not exist"))
	case secret != adminToken:
		return nil, status(fault.New(fault.PermissionDenied, "CALLER_NOT_ALLOWED", "only the group's admins may call this"))
	case req.GetCase() == "groups/riverside/cases/K7QX-2M9D":
		return &notificationv1.RetryDeadDeliveriesResponse{RetriedCount: 2}, nil
	case req.GetCase() != "":
		return &notificationv1.RetryDeadDeliveriesResponse{}, nil
	}
	return &notificationv1.RetryDeadDeliveriesResponse{RetriedCount: 5}, nil
}

func (f *fakeNotification) last() (proto.Message, string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return nil, "", 0
	}
	return f.requests[len(f.requests)-1], f.bearers[len(f.bearers)-1], len(f.requests)
}

func TestDeliveriesRetryDead(t *testing.T) {
	t.Parallel()
	fake := &fakeNotification{}
	addr := testenv.ServeGRPC(t, func(s *grpc.Server) { notificationv1.RegisterNotificationServiceServer(s, fake) })
	unreachable := testenv.FreeAddr(t)
	// The directory is unreachable: the command needs only notification.
	env := map[string]string{"NOTIFICATION_ADDR": addr, "DIRECTORY_ADDR": unreachable, "DISPUTES_TOKEN": adminToken}
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout string // exact, when the command succeeds
		wantStderr []string
		want       proto.Message // the request notification got; nil for none
	}{
		{name: "every dead delivery of the group", args: []string{"deliveries", "retry-dead", "riverside"},
			wantStdout: "retried 5 dead deliveries of groups/riverside\n",
			want:       &notificationv1.RetryDeadDeliveriesRequest{Parent: "groups/riverside"}},
		{name: "one case", args: []string{"deliveries", "retry-dead", "riverside", "--case", "K7QX-2M9D"},
			wantStdout: "retried 2 dead deliveries of groups/riverside/cases/K7QX-2M9D\n",
			want:       &notificationv1.RetryDeadDeliveriesRequest{Parent: "groups/riverside", Case: "groups/riverside/cases/K7QX-2M9D"}},
		{name: "json with none retried", args: []string{"--json", "deliveries", "retry-dead", "riverside", "--case", "NONE-0000"},
			wantStdout: "{\n  \"retriedCount\": 0\n}\n",
			want:       &notificationv1.RetryDeadDeliveriesRequest{Parent: "groups/riverside", Case: "groups/riverside/cases/NONE-0000"}},
		{name: "flag wins over the environment", env: map[string]string{"NOTIFICATION_ADDR": unreachable, "DISPUTES_TOKEN": adminToken},
			args:       []string{"--notification-addr", addr, "deliveries", "retry-dead", "riverside"},
			wantStdout: "retried 5 dead deliveries of groups/riverside\n",
			want:       &notificationv1.RetryDeadDeliveriesRequest{Parent: "groups/riverside"}},
		{name: "another group", args: []string{"deliveries", "retry-dead", "hillside"}, wantCode: exitcode.NotFound,
			wantStderr: []string{"(GROUP_NOT_FOUND)"}, want: &notificationv1.RetryDeadDeliveriesRequest{Parent: "groups/hillside"}},
		{name: "not an admin", env: map[string]string{"NOTIFICATION_ADDR": addr, "DISPUTES_TOKEN": memberToken},
			args: []string{"deliveries", "retry-dead", "riverside"}, wantCode: exitcode.Denied,
			wantStderr: []string{"(CALLER_NOT_ALLOWED)"}, want: &notificationv1.RetryDeadDeliveriesRequest{Parent: "groups/riverside"}},
		{name: "notification unreachable", env: map[string]string{"NOTIFICATION_ADDR": unreachable, "DISPUTES_TOKEN": adminToken},
			args: []string{"deliveries", "retry-dead", "riverside"}, wantCode: exitcode.Unavailable,
			wantStderr: []string{"cannot reach the notification service at " + unreachable, "(UNAVAILABLE)"}},
		{name: "no group", args: []string{"deliveries", "retry-dead"}, wantCode: exitcode.Usage,
			wantStderr: []string{"takes 1 argument(s): <group-id>; got 0"}},
		{name: "no verb", args: []string{"deliveries"}, wantCode: exitcode.Usage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Sequential: each case checks what reached the one fake.
			e := env
			if tc.env != nil {
				e = tc.env
			}
			_, _, before := fake.last()
			got := run(t, e, "", tc.args...)
			if got.code != tc.wantCode {
				t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", got.code, tc.wantCode, got.stdout, got.stderr)
			}
			if tc.wantCode == 0 && (!sameOutput(got.stdout, tc.wantStdout) || got.stderr != "") {
				t.Errorf("stdout %q, stderr %q; want stdout %q", got.stdout, got.stderr, tc.wantStdout)
			}
			if tc.wantCode != 0 && got.stdout != "" {
				t.Errorf("a failed command wrote to stdout: %q", got.stdout)
			}
			for _, s := range tc.wantStderr {
				if !strings.Contains(got.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, got.stderr)
				}
			}
			req, bearer, after := fake.last()
			if tc.want == nil {
				if after != before {
					t.Errorf("a request reached notification: %v", req)
				}
				return
			}
			if after != before+1 || !proto.Equal(req, tc.want) {
				t.Errorf("notification got %v (%d requests); want %v", req, after-before, tc.want)
			}
			if bearer != e["DISPUTES_TOKEN"] {
				t.Errorf("bearer %q; want %q", bearer, e["DISPUTES_TOKEN"])
			}
		})
	}
	// The JSON is the response message, for scripts.
	got := run(t, env, "", "--json", "deliveries", "retry-dead", "riverside")
	var resp notificationv1.RetryDeadDeliveriesResponse
	if err := protojson.Unmarshal([]byte(got.stdout), &resp); err != nil || resp.GetRetriedCount() != 5 {
		t.Errorf("--json = %q (%v); want retriedCount 5", got.stdout, err)
	}
}

// sameOutput compares what a command printed with what it should: JSON by
// its value, since protojson varies its whitespace from build to build on
// purpose, and text exactly.
func sameOutput(got, want string) bool {
	var g, w any
	if json.Unmarshal([]byte(want), &w) != nil {
		return got == want
	}
	return json.Unmarshal([]byte(got), &g) == nil && reflect.DeepEqual(g, w) && strings.HasSuffix(got, "\n")
}
