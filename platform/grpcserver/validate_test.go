package grpcserver

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/fault"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

func fields(vs []fault.FieldViolation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Field)
	}
	sort.Strings(out)
	return out
}

func TestCheckAnnotations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  proto.Message
		want []string
	}{
		{"empty request", &intakev1.CreateConcernRequest{}, []string{"concern", "parent"}},
		{"bad parent name", &intakev1.CreateConcernRequest{Parent: "group/x", Concern: &intakev1.Concern{
			Practitioner: "groups/x/members/y", Description: "d", ClientName: "n", ClientContact: &intakev1.ClientContact{},
		}}, []string{"parent"}},
		{"nested required fields", &intakev1.CreateConcernRequest{Parent: "groups/x", Concern: &intakev1.Concern{Practitioner: "members/y"}},
			[]string{"concern.client_contact", "concern.client_name", "concern.description", "concern.practitioner"}},
		{"update: a required field outside the mask is not required", updateBook(t, false, "note"), nil},
		{"update: a required field in the mask is, by its proto name", updateBook(t, false, "display_title"), []string{"book.display_title"}},
		{"update: or by its JSON name", updateBook(t, false, "displayTitle"), []string{"book.display_title"}},
		{"update: or as a part of it", updateBook(t, false, "display_title.x"), []string{"book.display_title"}},
		{"update: or by *", updateBook(t, false, "*"), []string{"book.display_title"}},
		{"update: without a mask only the fields set change, so none is required", updateBook(t, false), nil},
		{"update: the resource itself stays required", updateBook(t, true, "note"), []string{"book"}},
		{"output-only fields are ignored", &intakev1.CreateConcernRequest{Parent: "groups/x", Concern: &intakev1.Concern{
			Practitioner: "groups/x/members/y", Description: "d", ClientName: "n", ClientContact: &intakev1.ClientContact{}, Reference: "ignored",
		}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fields(CheckAnnotations(tc.msg)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("violations = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCheckAnnotationsSeveralPatterns covers a resource type with two
// patterns (directory's AccessToken, held by a member or a link group): a
// reference by type accepts a name of either pattern, a reference by
// child_type a name of either parent.
func TestCheckAnnotationsSeveralPatterns(t *testing.T) {
	t.Parallel()
	const (
		memberToken = "groups/g/members/m/accessTokens/abc"
		linkToken   = "groups/g/linkGroups/l/accessTokens/abc"
	)
	tests := []struct {
		name    string
		msg     proto.Message
		message string // the violation's description; empty: none
	}{
		{"type: first pattern", &directoryv1.RevokeAccessTokenRequest{Name: memberToken}, ""},
		{"type: second pattern", &directoryv1.RevokeAccessTokenRequest{Name: linkToken}, ""},
		{"type: neither", &directoryv1.RevokeAccessTokenRequest{Name: "groups/g/statements/1/accessTokens/abc"},
			"must be a resource name of the form groups/{group}/members/{member}/accessTokens/{access_token} or groups/{group}/linkGroups/{link_group}/accessTokens/{access_token}"},
		{"type: a parent is not the resource", &directoryv1.RevokeAccessTokenRequest{Name: "groups/g/members/m"}, "must be"},
		{"child_type: first parent", &directoryv1.CreateAccessTokenRequest{Parent: "groups/g/members/m"}, ""},
		{"child_type: second parent", &directoryv1.ListAccessTokensRequest{Parent: "groups/g/linkGroups/l"}, ""},
		{"child_type: a grandparent is not a parent", &directoryv1.ListAccessTokensRequest{Parent: "groups/g"},
			"must be a resource name of the form groups/{group}/members/{member} or groups/{group}/linkGroups/{link_group}"},
		{"child_type: the resource is not its parent", &directoryv1.CreateAccessTokenRequest{Parent: linkToken}, "must be"},
		{"child_type: bad id", &directoryv1.CreateAccessTokenRequest{Parent: "groups/g/linkGroups/Not_An_ID"}, "must be"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := CheckAnnotations(tc.msg)
			switch {
			case tc.message == "" && len(got) != 0:
				t.Errorf("violations = %v, want none", got)
			case tc.message != "" && (len(got) != 1 || !strings.HasPrefix(got[0].Description, tc.message)):
				t.Errorf("violations = %v, want one starting %q", got, tc.message)
			}
		})
	}
}

func TestParentPattern(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"groups/{group}":                  "",
		"groups/{group}/members/{member}": "groups/{group}",
		"groups/{group}/linkGroups/{link_group}/accessTokens/{access_token}": "groups/{group}/linkGroups/{link_group}",
	} {
		if got := parentPattern(pattern); got != want {
			t.Errorf("parentPattern(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestToStatus(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var v fault.Violations
	v.Add("concern.description", "is required")
	tests := []struct {
		name    string
		err     error
		code    codes.Code
		reason  string
		fields  int
		message string
	}{
		{"violations", v.Err(), codes.InvalidArgument, "INVALID_FIELDS", 1, "the request has invalid fields: concern.description"},
		{"not found", fault.New(fault.NotFound, "CASE_NOT_FOUND", "no such case"), codes.NotFound, "CASE_NOT_FOUND", 0, "no such case"},
		{"internal cause is hidden", &fault.Error{Kind: fault.Aborted, Reason: "ETAG_MISMATCH", Message: "changed", Cause: errors.New("secret detail")}, codes.Aborted, "ETAG_MISMATCH", 0, "changed"},
		{"plain error is hidden", errors.New("pq: password=hunter2"), codes.Internal, "INTERNAL", 0, "internal error"},
		{"canceled", context.Canceled, codes.Canceled, "", 0, "the request was canceled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, _ := status.FromError(ToStatus(context.Background(), log, "/m", tc.err))
			if st.Code() != tc.code || st.Message() != tc.message {
				t.Errorf("status = %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.message)
			}
			var reason string
			var n int
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					reason = d.GetReason()
					if d.GetDomain() != ErrorDomain {
						t.Errorf("domain = %q", d.GetDomain())
					}
				case *errdetails.BadRequest:
					n = len(d.GetFieldViolations())
				}
			}
			if reason != tc.reason || n != tc.fields {
				t.Errorf("reason %q with %d violations, want %q with %d", reason, n, tc.reason, tc.fields)
			}
		})
	}
}

// updateBook is an update request of a resource whose display_title is
// REQUIRED (no resource of the contract has a required field and an update
// method: the document would require the field in every PATCH body), with
// the book left out when noBook, and an update mask of paths when given.
func updateBook(t *testing.T, noBook bool, paths ...string) proto.Message {
	t.Helper()
	required := &descriptorpb.FieldOptions{}
	proto.SetExtension(required, annotations.E_FieldBehavior, []annotations.FieldBehavior{annotations.FieldBehavior_REQUIRED})
	field := func(name string, number int32, typ descriptorpb.FieldDescriptorProto_Type, typeName string, opts *descriptorpb.FieldOptions) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(number), Type: typ.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Options: opts}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	file, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
		Name: proto.String("grpcservertest/book.proto"), Package: proto.String("grpcservertest"), Syntax: proto.String("proto3"),
		Dependency: []string{"google/protobuf/field_mask.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Book"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, descriptorpb.FieldDescriptorProto_TYPE_STRING, "", nil),
				field("display_title", 2, descriptorpb.FieldDescriptorProto_TYPE_STRING, "", required),
				field("note", 3, descriptorpb.FieldDescriptorProto_TYPE_STRING, "", nil),
			}},
			{Name: proto.String("UpdateBookRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("book", 1, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".grpcservertest.Book", required),
				field("update_mask", 2, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".google.protobuf.FieldMask", nil),
			}},
		},
	}, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	req := dynamicpb.NewMessage(file.Messages().ByName("UpdateBookRequest"))
	fields := req.Descriptor().Fields()
	if !noBook {
		book := req.Mutable(fields.ByName("book")).Message()
		book.Set(book.Descriptor().Fields().ByName("note"), protoreflect.ValueOfString("a note"))
	}
	if len(paths) > 0 {
		req.Set(fields.ByName("update_mask"), protoreflect.ValueOfMessage((&fieldmaskpb.FieldMask{Paths: paths}).ProtoReflect()))
	}
	return req
}
