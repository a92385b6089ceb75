package httpapi

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

func TestJSONFieldPath(t *testing.T) {
	t.Parallel()
	concern := routeOf(t, "ipn.disputes.intake.v1.IntakeService.CreateConcern", "/v1/{parent=groups/*}/concerns")
	takeStep := routeOf(t, "ipn.disputes.casework.v1.CaseworkService.TakeStep", "/v1/{name=groups/*/cases/*}:takeStep")
	updateGroup := routeOf(t, "ipn.disputes.directory.v1.DirectoryService.UpdateGroup", "/v1/{group.name=groups/*}")
	listCases := routeOf(t, "ipn.disputes.casework.v1.CaseworkService.ListCases", "/v1/{parent=groups/*}/cases")
	labelled := labelledRoute(t)
	tests := []struct {
		name  string
		route *route
		path  string
		want  string
	}{
		// body: "concern": paths inside the body, without it.
		{"a field of the body", concern, "concern.client_name", "clientName"},
		{"a nested field of the body", concern, "concern.client_contact.email", "clientContact.email"},
		{"the body itself", concern, "concern", "(body)"},
		{"a query parameter", concern, "request_id", "requestId"},
		{"a path field", concern, "parent", "parent"},
		{"already a JSON name", concern, "concern.clientContact.email", "clientContact.email"},
		{"a key the body should not have", concern, "concern.bogus", "bogus"},
		{"below a key the body should not have", concern, "concern.client_contact.bogus.deeper", "clientContact.bogus.deeper"},
		{"a field the request does not have", concern, "not_a_field.client_name", "not_a_field.client_name"},
		{"the body check's name for a body", concern, "(body)", "(body)"},
		{"no path", concern, "", ""},
		{"a path that cannot be read", concern, "concern..client_name", "concern..client_name"},
		{"an unclosed index", concern, "concern.client_name[1", "concern.client_name[1"},
		// body: "*": every field of the request is in the body.
		{"a field of a whole-request body", takeStep, "statement_answer", "statementAnswer"},
		{"an index", takeStep, "meeting_proposal.slots[2]", "meetingProposal.slots[2]"},
		{"a field of an item", takeStep, "meeting_proposal.slots[2].start_time", "meetingProposal.slots[2].startTime"},
		{"the path field of a whole-request body", takeStep, "name", "name"},
		// body: "group", with group.name in the URL path.
		{"a field in the URL path, inside the body's message", updateGroup, "group.name", "group.name"},
		{"a field of the body beside it", updateGroup, "group.procedure_settings.procedure", "procedureSettings.procedure"},
		{"the update mask, a query parameter", updateGroup, "update_mask", "updateMask"},
		// no body
		{"a query parameter of a GET", listCases, "page_token", "pageToken"},
		// map keys, which may hold dots and brackets
		{"a map key", labelled, `labels["a.b]"].note_text`, `labels["a.b]"].noteText`},
		{"a bare map key", labelled, `labels[k].note_text`, `labels[k].noteText`},
		{"a map key quoted badly", labelled, `labels["a].note_text`, `labels["a].note_text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := jsonFieldPath(tt.route, tt.path); got != tt.want {
				t.Errorf("jsonFieldPath(%s, %q) = %q, want %q", tt.route, tt.path, got, tt.want)
			}
		})
	}
}

// labelledRoute is a route whose whole request is its body, with a map of
// messages: labels (map<string, Label>), Label having note_text.
func labelledRoute(t *testing.T) *route {
	t.Helper()
	str, msg, rep := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	file := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("fieldpathtest/v1/labelled.proto"),
		Package: proto.String("fieldpathtest.v1"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Request"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("labels"), JsonName: proto.String("labels"), Number: proto.Int32(1), Type: msg, Label: rep,
					TypeName: proto.String(".fieldpathtest.v1.Request.LabelsEntry")},
			}, NestedType: []*descriptorpb.DescriptorProto{
				{Name: proto.String("LabelsEntry"), Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}, Field: []*descriptorpb.FieldDescriptorProto{
					{Name: proto.String("key"), JsonName: proto.String("key"), Number: proto.Int32(1), Type: str},
					{Name: proto.String("value"), JsonName: proto.String("value"), Number: proto.Int32(2), Type: msg, TypeName: proto.String(".fieldpathtest.v1.Label")},
				}},
			}},
			{Name: proto.String("Label"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("note_text"), JsonName: proto.String("noteText"), Number: proto.Int32(1), Type: str},
			}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Service"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Call"), InputType: proto.String(".fieldpathtest.v1.Request"), OutputType: proto.String(".fieldpathtest.v1.Request")},
		}}},
	}
	fd, err := protodesc.NewFile(file, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return &route{method: "POST", template: "/v1/call", body: "*", rpc: fd.Services().Get(0).Methods().Get(0)}
}

// FuzzJSONFieldPath feeds the violation path rewriting whatever a service
// might put in a field violation: it must never panic, a path it can split
// must be the segments it split it into, joined again, and the rewritten
// path of a non-empty path is never empty.
func FuzzJSONFieldPath(f *testing.F) {
	for _, seed := range []string{
		"concern.client_name", "concern.client_contact.email", "concern", "request_id", "parent",
		"concern..client_name", "concern.client_name[1", `labels["a.b"].value`, `labels["\"]"]`,
		"slots[2].start_time", "", ".", "[", `["`, "a[1][2].b",
	} {
		f.Add(seed)
	}
	concern := routeOf(f, "ipn.disputes.intake.v1.IntakeService.CreateConcern", "/v1/{parent=groups/*}/concerns")
	takeStep := routeOf(f, "ipn.disputes.casework.v1.CaseworkService.TakeStep", "/v1/{name=groups/*/cases/*}:takeStep")
	f.Fuzz(func(t *testing.T, path string) {
		if segs, ok := splitFieldPath(path); ok {
			parts := make([]string, len(segs))
			for i, s := range segs {
				parts[i] = s.name + s.suffix
			}
			if joined := strings.Join(parts, "."); joined != path {
				t.Errorf("splitFieldPath(%q) splits into %q, which join to %q", path, parts, joined)
			}
		}
		for _, r := range []*route{concern, takeStep} {
			if got := jsonFieldPath(r, path); path != "" && got == "" {
				t.Errorf("jsonFieldPath(%s, %q) is empty", r, path)
			}
		}
	})
}
