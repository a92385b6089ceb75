package app

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// TestProtobufAnswers: a client that sends `Accept: application/x-protobuf`
// gets the service's message in protobuf's binary encoding, and an error
// as a binary google.rpc.Status with the details the JSON one has (the
// field violations named as the JSON body names them); any other Accept
// gets JSON. Every answer says it varies with Accept.
func TestProtobufAnswers(t *testing.T) {
	t.Parallel()
	s := startSystem(t, nil)
	proto := map[string]string{"Authorization": "Bearer t", "Accept": "application/x-protobuf"}

	resp := do(t, "GET", s.url+"/v1/groups/g/cases/c1", proto, nil)
	if resp.status != http.StatusOK || resp.header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("status %d, Content-Type %q: %q", resp.status, resp.header.Get("Content-Type"), resp.body)
	}
	var c caseworkv1.Case
	if err := unmarshal(resp.body, &c); err != nil {
		t.Fatalf("the answer is not a Case in protobuf: %v", err)
	}
	if c.GetName() != "groups/g/cases/c1" || c.GetReference() != "K7QM-3XRD" || !c.GetRegisterTime().AsTime().Equal(registerTime) {
		t.Errorf("the case read as %v", &c)
	}
	if !slices.Contains(resp.header.Values("Vary"), "Accept") {
		t.Errorf("Vary %q does not name Accept", resp.header.Values("Vary"))
	}

	resp = do(t, "GET", s.url+"/v1/groups/g/cases/invalid", proto, nil)
	var st statuspb.Status
	if resp.status != http.StatusBadRequest || resp.header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("status %d, Content-Type %q: %q", resp.status, resp.header.Get("Content-Type"), resp.body)
	}
	if err := unmarshal(resp.body, &st); err != nil {
		t.Fatalf("the error is not a google.rpc.Status in protobuf: %v", err)
	}
	var reason string
	var fields []string
	for _, d := range st.GetDetails() {
		var info errdetails.ErrorInfo
		var br errdetails.BadRequest
		switch {
		case d.MessageIs(&info) && d.UnmarshalTo(&info) == nil:
			reason = info.GetReason()
		case d.MessageIs(&br) && d.UnmarshalTo(&br) == nil:
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	if st.GetCode() != 3 || reason != "INVALID_FIELDS" || strings.Join(fields, ",") != "name,page_size" {
		t.Errorf("code %d, reason %q, fields %q; want 3, INVALID_FIELDS, name,page_size (as the JSON error names them)", st.GetCode(), reason, fields)
	}

	for _, accept := range []string{"", "application/json", "*/*"} {
		resp = do(t, "GET", s.url+"/v1/groups/g/cases/c1", map[string]string{"Authorization": "Bearer t", "Accept": accept}, nil)
		if resp.status != http.StatusOK || resp.header.Get("Content-Type") != "application/json" || resp.json(t)["reference"] != "K7QM-3XRD" {
			t.Errorf("Accept %q: status %d, Content-Type %q: %s", accept, resp.status, resp.header.Get("Content-Type"), resp.body)
		}
	}
}

// unmarshal reads protobuf strictly: a JSON body is no protobuf.
func unmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }
