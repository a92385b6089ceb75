package testenv_test

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func method(t *testing.T, sd protoreflect.ServiceDescriptor, name string) protoreflect.MethodDescriptor {
	t.Helper()
	md := sd.Methods().ByName(protoreflect.Name(name))
	if md == nil {
		t.Fatalf("%s has no method %s", sd.FullName(), name)
	}
	return md
}

var (
	intake    = intakev1.File_ipn_disputes_intake_v1_intake_proto.Services().ByName("IntakeService")
	casework  = caseworkv1.File_ipn_disputes_casework_v1_casework_proto.Services().ByName("CaseworkService")
	directory = directoryv1.File_ipn_disputes_directory_v1_directory_proto.Services().ByName("DirectoryService")
)

func TestREST(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name      string
		md        protoreflect.MethodDescriptor
		binding   int
		req       proto.Message
		method    string
		target    string
		body      string // "" for none
		wantValid bool   // whether the body is valid UTF-8
	}{
		{
			name: "a body field, and query parameters for the fields outside it",
			md:   method(t, intake, "CreateConcern"),
			req: &intakev1.CreateConcernRequest{Parent: "groups/riverside", RequestId: "r-1", Website: "",
				Concern: &intakev1.Concern{Description: "Ended early.\n", ClientName: "Sam"}},
			method: "POST", target: "/v1/groups/riverside/concerns?requestId=r-1",
			body: `{"description":"Ended early.\n","clientName":"Sam"}`, wantValid: true,
		},
		{
			name:   "every byte of a path segment survives, invalid UTF-8 and slashes' neighbours too",
			md:     method(t, intake, "CreateConcern"),
			req:    &intakev1.CreateConcernRequest{Parent: "groups/a b\xff\xfe\x00%:?#é"},
			method: "POST", target: "/v1/groups/a%20b%FF%FE%00%25%3A%3F%23%C3%A9/concerns",
			body: `{}`, wantValid: true,
		},
		{
			name: "invalid UTF-8 in the body is written as its bytes",
			md:   method(t, intake, "CreateConcern"),
			req: &intakev1.CreateConcernRequest{Parent: "groups/g",
				Concern: &intakev1.Concern{ClientName: "S\xffm \"q\" \x01", Description: "fine", ClientContact: &intakev1.ClientContact{Email: "\xc3"}}},
			method: "POST", target: "/v1/groups/g/concerns",
			body: "{\"description\":\"fine\",\"clientName\":\"S\xffm \\\"q\\\" \\u0001\",\"clientContact\":{\"email\":\"\xc3\"}}",
		},
		{
			name: "a whole-request body leaves out the path's fields, and there is no query",
			md:   method(t, casework, "TakeStep"),
			req: &caseworkv1.TakeStepRequest{Name: "groups/g/cases/c1", Step: "propose_meeting", Etag: "e1",
				Input: &caseworkv1.TakeStepRequest_MeetingProposal{MeetingProposal: &caseworkv1.MeetingProposal{
					Location: "room", Slots: []*caseworkv1.TimeSlot{{StartTime: timestamppb.New(start)}}}}},
			method: "POST", target: "/v1/groups/g/cases/c1:takeStep",
			body:      `{"step":"propose_meeting","etag":"e1","meetingProposal":{"slots":[{"startTime":"2026-03-02T09:30:00Z"}],"location":"room"}}`,
			wantValid: true,
		},
		{
			name: "a nested path field is left out of the body; the update mask goes in the query with proto names",
			md:   method(t, directory, "UpdateGroup"),
			req: &directoryv1.UpdateGroupRequest{Group: &directoryv1.Group{Name: "groups/g", DisplayName: "Riverside"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name", "meeting_frequency"}}},
			method: "PATCH", target: "/v1/groups/g?updateMask=display_name%2Cmeeting_frequency",
			body: `{"displayName":"Riverside"}`, wantValid: true,
		},
		{
			name: "no body, and scalars of every kind in the query",
			md:   method(t, casework, "ListCases"),
			req: &caseworkv1.ListCasesRequest{Parent: "groups/g", PageSize: 5, PageToken: "a b&c\xff",
				Phase: procedurev1.Phase_PHASE_REGISTERED, OverdueOnly: true},
			method: "GET",
			target: "/v1/groups/g/cases?overdueOnly=true&pageSize=5&pageToken=a+b%26c%FF&phase=PHASE_REGISTERED",
		},
		{
			name:    "an additional binding",
			md:      method(t, directory, "CreateAccessToken"),
			binding: 1,
			req: &directoryv1.CreateAccessTokenRequest{Parent: "groups/g/linkGroups/l",
				AccessToken: &directoryv1.AccessToken{DisplayName: "laptop"}},
			method: "POST", target: "/v1/groups/g/linkGroups/l/accessTokens",
			body: `{"displayName":"laptop"}`, wantValid: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var call testenv.RESTCall
			var err error
			if tt.binding == 0 {
				call, err = testenv.REST(tt.md, tt.req)
			} else {
				call, err = testenv.RESTFor(testenv.HTTPRules(tt.md)[tt.binding], tt.req)
			}
			if err != nil {
				t.Fatal(err)
			}
			if call.Method != tt.method || call.Target() != tt.target {
				t.Errorf("%s %s, want %s %s", call.Method, call.Target(), tt.method, tt.target)
			}
			if tt.body == "" {
				if call.Body != nil {
					t.Errorf("body %s, want none", call.Body)
				}
			} else if !equalJSON(t, call.Body, []byte(tt.body)) {
				t.Errorf("body %s, want %s", call.Body, tt.body)
			}
			if call.Body != nil && tt.wantValid {
				// What the builder writes, the gateway reads back.
				back := proto.Clone(tt.req)
				proto.Reset(back)
				if err := protojson.Unmarshal(call.Body, bodyMessage(tt.md, tt.binding, back)); err != nil {
					t.Errorf("protojson cannot read the body back: %v", err)
				}
			}
			req, err := call.NewRequest(context.Background(), "http://127.0.0.1:7180/")
			if err != nil {
				t.Fatal(err)
			}
			if req.URL.String() != "http://127.0.0.1:7180"+tt.target || req.Method != tt.method {
				t.Errorf("request %s %s", req.Method, req.URL)
			}
			if got := req.Header.Get("Content-Type"); (got == "application/json") != (call.Body != nil) {
				t.Errorf("Content-Type %q", got)
			}
			if call.Body != nil {
				b, _ := io.ReadAll(req.Body)
				if string(b) != string(call.Body) {
					t.Errorf("request body %s", b)
				}
			}
			// The escaped path unescapes to the values.
			if _, err := url.PathUnescape(call.Path); err != nil {
				t.Errorf("path %q: %v", call.Path, err)
			}
		})
	}
}

// bodyMessage is the message the route's body fills in req.
func bodyMessage(md protoreflect.MethodDescriptor, binding int, req proto.Message) proto.Message {
	body := testenv.HTTPRules(md)[binding].GetBody()
	if body == "*" {
		return req
	}
	m := req.ProtoReflect()
	return m.Mutable(m.Descriptor().Fields().ByName(protoreflect.Name(body))).Message().Interface()
}

// equalJSON compares two bodies as JSON, byte for byte inside strings
// (encoding/json would turn invalid UTF-8 into U+FFFD on both sides).
func equalJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("want not JSON: %v: %s", err, b)
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys) && strings.Count(string(a), "\xff") == strings.Count(string(b), "\xff") &&
		strings.Count(string(a), "\xc3") == strings.Count(string(b), "\xc3")
}

func TestRESTRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		md   protoreflect.MethodDescriptor
		req  proto.Message
		want string
	}{
		{"another method's request", method(t, intake, "CreateConcern"), &caseworkv1.GetCaseRequest{Name: "groups/g/cases/c"}, "takes ipn.disputes.intake.v1.CreateConcernRequest"},
		{"a method without a route", method(t, intake, "GetConcern"), &intakev1.GetConcernRequest{Name: "groups/g/concerns/c"}, "no REST route"},
		{"an empty path field", method(t, casework, "GetCase"), &caseworkv1.GetCaseRequest{}, "name is empty"},
	}
	for _, tt := range tests {
		if _, err := testenv.REST(tt.md, tt.req); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.want)
		}
	}
}
