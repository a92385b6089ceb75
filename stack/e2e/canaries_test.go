package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	annotationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/annotations/v1"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// canaries puts a canary into every confidential field of every request
// the walk sends over REST, found from the contract rather than listed
// here: a field the walk leaves empty gets a canary of its own, one it
// fills without the walk's marker gets the canary added. Every such text
// (but e-mail addresses, telephone numbers and list items, which must
// keep their form) is then made as long as the contract allows, in
// four-byte characters, so the walk also shows that the longest valid
// value of every confidential field goes through the whole system. A new
// confidential field of a request the walk sends is covered without
// editing the test; coverage tells which were sent, so that a field no
// request of the walk carries shows up as uncovered.
type canaries struct {
	marker  string
	phones  []string
	covered map[protoreflect.FullName]bool
	// secrets are the client's access codes and session tokens, which
	// must be nowhere at all; reference is the case's reference, half of
	// the client's sign-in, which the databases keep to find the case but
	// nothing that leaves the system may carry.
	secrets   []string
	reference string
}

func newCanaries(marker string) *canaries {
	// The walk gives the client the telephone number made from the marker.
	return &canaries{marker: marker, phones: []string{phoneFor(marker)}, covered: map[protoreflect.FullName]bool{}}
}

// forField is the canary of one field: the marker and a tag of the field,
// so that a hit says which field leaked.
func (c *canaries) forField(fd protoreflect.FieldDescriptor) string {
	sum := sha256.Sum256([]byte(fd.FullName()))
	return c.marker + "-" + strings.ToUpper(hex.EncodeToString(sum[:3]))
}

// all are the strings to look for: the marker, the marker in lower case
// (e-mail addresses) and the telephone numbers made from canaries.
func (c *canaries) all() []string {
	return append([]string{c.marker, strings.ToLower(c.marker)}, c.phones...)
}

// fill fills the confidential fields of body, the JSON of message
// fullName as the walk would send it, and returns the JSON to send.
func (c *canaries) fill(t *testing.T, fullName protoreflect.FullName, body any) map[string]any {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(fullName)
	if err != nil {
		t.Fatalf("no message %s: %v", fullName, err)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	c.fillMessage(d.(protoreflect.MessageDescriptor), out)
	return out
}

func (c *canaries) fillMessage(md protoreflect.MessageDescriptor, body map[string]any) {
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		key := fd.JSONName()
		value, present := body[key]
		switch {
		case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
			// Only into what the walk sends: a oneof member it did not
			// choose stays unchosen.
			if inner, ok := value.(map[string]any); ok {
				c.fillMessage(fd.Message(), inner)
			}
		case fd.Kind() != protoreflect.StringKind || !confidential(fd):
		case fd.IsList():
			items, _ := value.([]any)
			if !present || len(items) == 0 {
				items = []any{c.valueFor(fd)}
			}
			body[key] = items
			for _, item := range items {
				if s, _ := item.(string); strings.Contains(strings.ToUpper(s), c.marker) {
					c.covered[fd.FullName()] = true
				}
			}
		default:
			s, _ := value.(string)
			switch {
			case !present || s == "":
				s = c.valueFor(fd)
			case !strings.Contains(strings.ToUpper(s), c.marker) && format(fd) == annotationsv1.TextFormat_TEXT_FORMAT_UNSPECIFIED:
				s += " " + c.forField(fd)
			}
			if format(fd) == annotationsv1.TextFormat_TEXT_FORMAT_UNSPECIFIED {
				s = longest(fd, s)
			}
			body[key] = s
			if strings.Contains(strings.ToUpper(s), c.marker) || slices.Contains(c.phones, s) {
				c.covered[fd.FullName()] = true
			}
		}
	}
}

// longest pads s to the field's max_length with four-byte characters.
func longest(fd protoreflect.FieldDescriptor, s string) string {
	n := int(grpcserver.DeclaredField(fd).MaxLength) - utf8.RuneCountInString(s) - 1
	if n <= 0 {
		return s
	}
	return s + " " + strings.Repeat("𝄞", n)
}

// valueFor is a field's canary in the form the field takes.
func (c *canaries) valueFor(fd protoreflect.FieldDescriptor) string {
	canary := c.forField(fd)
	switch format(fd) {
	case annotationsv1.TextFormat_TEXT_FORMAT_EMAIL:
		return strings.ToLower(canary) + "@client.example.net"
	case annotationsv1.TextFormat_TEXT_FORMAT_PHONE:
		phone := phoneFor(canary)
		c.phones = append(c.phones, phone)
		return phone
	}
	return canary
}

// uncovered lists the confidential fields of the requests of the REST
// API that no request of the walk carried a canary in.
func (c *canaries) uncovered() []string {
	var out []string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "ipn.disputes.") {
			return true
		}
		for i := 0; i < fd.Services().Len(); i++ {
			methods := fd.Services().Get(i).Methods()
			for j := 0; j < methods.Len(); j++ {
				md := methods.Get(j)
				if !proto.HasExtension(md.Options(), annotations.E_Http) {
					continue // not public: no REST route
				}
				for _, f := range confidentialFields(md.Input(), map[protoreflect.FullName]bool{}) {
					if !c.covered[f] && !slices.Contains(out, string(f)) {
						out = append(out, string(f))
					}
				}
			}
		}
		return true
	})
	slices.Sort(out)
	return out
}

// confidentialFields lists the confidential string fields a request
// message can carry, however deeply nested.
func confidentialFields(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) []protoreflect.FullName {
	if seen[md.FullName()] {
		return nil
	}
	seen[md.FullName()] = true
	var out []protoreflect.FullName
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		switch {
		case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
			out = append(out, confidentialFields(fd.Message(), seen)...)
		case fd.Kind() == protoreflect.StringKind && confidential(fd) && !grpcserver.DeclaredField(fd).OutputOnly:
			out = append(out, fd.FullName())
		}
	}
	return out
}

func confidential(fd protoreflect.FieldDescriptor) bool {
	return grpcserver.DeclaredField(fd).Text.GetKind() == annotationsv1.TextKind_TEXT_KIND_CONFIDENTIAL
}

func format(fd protoreflect.FieldDescriptor) annotationsv1.TextFormat {
	return grpcserver.DeclaredField(fd).Text.GetFormat()
}
