package grpcserver_test

import (
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/protobuf/proto"
)

func concernWith(description, clientName string) *intakev1.CreateConcernRequest {
	return &intakev1.CreateConcernRequest{Parent: "groups/g", Concern: &intakev1.Concern{
		Practitioner: "groups/g/members/m", Description: description, ClientName: clientName,
		ClientContact: &intakev1.ClientContact{Email: "a@b.example"},
	}}
}

func TestCheckText(t *testing.T) {
	t.Parallel()
	// The longest description the contract allows, in characters of four
	// bytes each: the limit counts characters, not bytes.
	longest := strings.Repeat("😀", 20000)
	tests := []struct {
		name      string
		req       proto.Message
		field     string // the one field violation expected; "" for none
		wantWords string
	}{
		{"plain text", concernWith("Sessions ended early.\r\n\tTwice.", "Sam"), "", ""},
		{"the longest description, in four-byte characters", concernWith(longest, "Sam"), "", ""},
		{"one character more", concernWith(longest+"a", "Sam"), "concern.description", "at most 20000 characters (it has 20001)"},
		{"NUL in multi-line text", concernWith("a\x00b", "Sam"), "concern.description", "U+0000"},
		{"escape in multi-line text", concernWith("a\x1bb", "Sam"), "concern.description", "U+001B"},
		{"a line break in a one-line field", concernWith("fine", "Sam\nSmith"), "concern.client_name", "one line"},
		{"a tab in a one-line field", concernWith("fine", "Sam\tSmith"), "concern.client_name", "U+0009"},
		{"invalid UTF-8", concernWith("fine", "Sam\xff\xfe"), "concern.client_name", "valid UTF-8"},
		{"invalid UTF-8 in a resource name", &intakev1.CreateConcernRequest{Parent: "groups/\xff\xfe"}, "parent", "valid UTF-8"},
		{"a repeated field's items", &caseworkv1.TakeStepRequest{
			Name: "groups/g/cases/c", Step: "approve_statement",
			Input: &caseworkv1.TakeStepRequest_StatementAnswer{StatementAnswer: &caseworkv1.StatementAnswer{
				Constraints: &caseworkv1.Constraints{WithheldDetails: []string{"fine", "not\x00fine"}},
			}},
		}, "statement_answer.constraints.withheld_details[1]", "U+0000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := grpcserver.CheckText(tc.req)
			if tc.field == "" {
				if len(got) != 0 {
					t.Fatalf("violations %v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Field != tc.field || !strings.Contains(got[0].Description, tc.wantWords) {
				t.Fatalf("violations %v, want one on %s saying %q", got, tc.field, tc.wantWords)
			}
		})
	}
}

// FuzzCheckText: whatever a caller sends, the rule answers without
// panicking, and what it lets through can be marshalled and sent.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"", "ok", "a\x00b", "\xff", "😀\r\n", strings.Repeat("x", 300)} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, description, name string) {
		req := concernWith(description, name)
		if len(grpcserver.CheckText(req)) > 0 {
			return
		}
		if _, err := proto.Marshal(req); err != nil {
			t.Fatalf("the rule let through what cannot be sent: %v", err)
		}
	})
}
