package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// served turns a domain error into the status a service would send.
func served(err error) error {
	return grpcserver.ToStatus(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), "/test", err)
}

func invalidEmail() error {
	var v fault.Violations
	v.Add("member.contact.email", "must be an e-mail address")
	v.Add("member.display_name", "is required")
	return served(v.Err())
}

func TestOfAndDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		err       error
		wantCode  int
		wantLines []string
	}{
		{"nil", nil, exitcode.OK, nil},
		{"local failure", fmt.Errorf("read statement: %w", errors.New("no such file")), exitcode.Failure, []string{"read statement: no such file"}},
		{"usage", exitcode.Usagef("--status must be member or forming"), exitcode.Usage, []string{"--status must be member or forming (USAGE)"}},
		{"wrapped usage", fmt.Errorf("parse: %w", exitcode.AsUsage(errors.New("bad flag"))), exitcode.Usage, []string{"bad flag (USAGE)"}},
		{"not found with reason", served(fault.New(fault.NotFound, "GROUP_NOT_FOUND", "no such group")), exitcode.NotFound, []string{"no such group (GROUP_NOT_FOUND)"}},
		{"unauthenticated", served(fault.New(fault.Unauthenticated, "UNAUTHENTICATED", "bad credentials")), exitcode.Denied, []string{"bad credentials (UNAUTHENTICATED)"}},
		{"permission denied", served(fault.New(fault.PermissionDenied, "OPERATOR_ONLY", "only the operator")), exitcode.Denied, []string{"only the operator (OPERATOR_ONLY)"}},
		{"already exists", served(fault.New(fault.AlreadyExists, "ALREADY_EXISTS", "member already exists")), exitcode.AlreadyExists, []string{"member already exists (ALREADY_EXISTS)"}},
		{"invalid with violations", invalidEmail(), exitcode.InvalidArgument, []string{
			"the request has invalid fields: member.contact.email, member.display_name (INVALID_FIELDS)",
			"  member.contact.email: must be an e-mail address",
			"  member.display_name: is required",
		}},
		{"failed precondition", served(fault.New(fault.FailedPrecondition, "STATEMENT_NOT_DRAFT", "only a draft")), exitcode.Conflict, []string{"only a draft (STATEMENT_NOT_DRAFT)"}},
		{"aborted", served(fault.New(fault.Aborted, "ETAG_MISMATCH", "changed by someone else")), exitcode.Conflict, []string{"changed by someone else (ETAG_MISMATCH)"}},
		{"bare status names its code", status.Error(codes.Unimplemented, "unknown method"), exitcode.Failure, []string{"unknown method (UNIMPLEMENTED)"}},
		{"internal", served(errors.New("disk on fire")), exitcode.Failure, []string{"internal error (INTERNAL)"}},
		{"unavailable names the service", &exitcode.ServiceError{Service: "directory", Addr: "127.0.0.1:1", Err: status.Error(codes.Unavailable, "connection refused")},
			exitcode.Unavailable, []string{"cannot reach the directory service at 127.0.0.1:1: connection refused (UNAVAILABLE)"}},
		{"unavailable with a cause says it instead of gRPC's text", &exitcode.ServiceError{Service: "directory", Addr: "127.0.0.1:1", Cause: "the TLS handshake failed",
			Err: status.Error(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: x509: ..."`)},
			exitcode.Unavailable, []string{"cannot reach the directory service at 127.0.0.1:1: the TLS handshake failed (UNAVAILABLE)"}},
		{"deadline names the timeout", &exitcode.ServiceError{Service: "directory", Addr: "127.0.0.1:7101", Timeout: 2 * time.Second, Err: status.Error(codes.DeadlineExceeded, "context deadline exceeded")},
			exitcode.Unavailable, []string{"the directory service at 127.0.0.1:7101 did not answer within 2s (DEADLINE_EXCEEDED)"}},
		{"service error keeps the service's reason", &exitcode.ServiceError{Service: "directory", Addr: "a:1", Err: served(fault.New(fault.NotFound, "MEMBER_NOT_FOUND", "no such member"))},
			exitcode.NotFound, []string{"no such member (MEMBER_NOT_FOUND)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := exitcode.Of(tc.err); got != tc.wantCode {
				t.Errorf("Of = %d, want %d", got, tc.wantCode)
			}
			if tc.err == nil {
				return
			}
			if got := exitcode.Describe(tc.err).Lines(); !slices.Equal(got, tc.wantLines) {
				t.Errorf("Describe().Lines() =\n%q\nwant\n%q", got, tc.wantLines)
			}
		})
	}
}

// TestTableIsComplete keeps the documented table in step with the codes.
func TestTableIsComplete(t *testing.T) {
	t.Parallel()
	for i, e := range exitcode.Table {
		if e.Code != i {
			t.Errorf("Table[%d] documents code %d; want the codes 0..8 in order", i, e.Code)
		}
	}
	if len(exitcode.Table) != exitcode.Unavailable+1 {
		t.Errorf("Table documents %d codes, want %d", len(exitcode.Table), exitcode.Unavailable+1)
	}
}

// TestREADMEListsEveryStatus keeps operator/README.md's table in step with
// the codes scripts rely on.
func TestREADMEListsEveryStatus(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exitcode.Table {
		if !strings.Contains(string(b), fmt.Sprintf("\n| %d | ", e.Code)) {
			t.Errorf("README.md does not document exit status %d (%s)", e.Code, e.Meaning)
		}
	}
}
