package httpapi

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// maximal fills every field a client may send to its declared limit:
// strings of max_length characters of four bytes, max_items items, the
// longest enum name, the longest numbers and times. Of each oneof it sets
// member choice (modulo the oneof's size).
func maximal(t *testing.T, md protoreflect.MessageDescriptor, choice int) protoreflect.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
	if err != nil {
		t.Fatal(err)
	}
	m := mt.New()
	fillMaximal(t, m, choice)
	return m
}

func fillMaximal(t *testing.T, m protoreflect.Message, choice int) {
	t.Helper()
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if grpcserver.DeclaredField(fd).OutputOnly {
			continue
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() && od.Fields().Get(choice%od.Fields().Len()) != fd {
			continue
		}
		switch {
		case fd.IsMap():
			t.Fatalf("%s: maps are not filled yet", fd.FullName())
		case fd.IsList():
			list := m.Mutable(fd).List()
			for j := uint64(0); j < grpcserver.DeclaredField(fd).MaxItems; j++ {
				if fd.Message() != nil {
					v := list.NewElement()
					fillMaximalValue(t, v.Message(), fd, choice)
					list.Append(v)
				} else {
					list.Append(maximalScalar(fd))
				}
			}
		case fd.Message() != nil:
			fillMaximalValue(t, m.Mutable(fd).Message(), fd, choice)
		default:
			m.Set(fd, maximalScalar(fd))
		}
	}
}

func fillMaximalValue(t *testing.T, m protoreflect.Message, fd protoreflect.FieldDescriptor, choice int) {
	t.Helper()
	var wkt proto.Message
	switch m.Descriptor().FullName() {
	case "google.protobuf.Timestamp":
		wkt = &timestamppb.Timestamp{Seconds: 253402300799, Nanos: 999999999}
	case "google.protobuf.Duration":
		wkt = &durationpb.Duration{Seconds: -315576000000, Nanos: -999999999}
	case "google.protobuf.FieldMask":
		wkt = &fieldmaskpb.FieldMask{Paths: []string{"*"}}
	default:
		fillMaximal(t, m, choice)
		return
	}
	proto.Merge(m.Interface(), wkt)
}

func maximalScalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(strings.Repeat("😀", int(grpcserver.DeclaredField(fd).MaxLength)))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes(make([]byte, grpcserver.DeclaredField(fd).MaxLength))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		longest := values.Get(0)
		for i := 1; i < values.Len(); i++ {
			if len(values.Get(i).Name()) > len(longest.Name()) {
				longest = values.Get(i)
			}
		}
		return protoreflect.ValueOfEnum(longest.Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(math.MinInt32)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(math.MaxUint32)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(math.MinInt64)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(math.MaxUint64)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(-math.SmallestNonzeroFloat32)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(-2.2250738585072014e-308)
	}
	panic(fmt.Sprintf("%s: kind %v", fd.FullName(), fd.Kind()))
}

// escapeNonASCII writes every character outside ASCII as JSON escapes, a
// surrogate pair for those outside the Basic Multilingual Plane: the
// longest way a client may write them.
func escapeNonASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r >= 0x10000:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// maximalBodies are the longest bodies of a route protojson writes, for
// each oneof choice, under JSON and proto names, compact and indented, with
// every character escaped.
func maximalBodies(t *testing.T, r *route) map[string]string {
	t.Helper()
	choices := 1
	var count func(md protoreflect.MessageDescriptor, depth int)
	count = func(md protoreflect.MessageDescriptor, depth int) {
		for i := 0; i < md.Oneofs().Len(); i++ {
			choices = max(choices, md.Oneofs().Get(i).Fields().Len())
		}
		for i := 0; i < md.Fields().Len() && depth < 8; i++ {
			if fd := md.Fields().Get(i); fd.Message() != nil {
				count(fd.Message(), depth+1)
			}
		}
	}
	count(r.rpc.Input(), 0)
	out := map[string]string{}
	for choice := range choices {
		req := maximal(t, r.rpc.Input(), choice)
		var body proto.Message = req.Interface()
		if r.bodyField != nil {
			if r.bodyField.Message() == nil || r.bodyField.IsList() {
				t.Fatalf("%s: a body that is not one message", r)
			}
			body = req.Get(r.bodyField).Message().Interface()
		}
		for _, names := range []bool{false, true} {
			for _, indent := range []string{"", "  "} {
				b, err := protojson.MarshalOptions{UseProtoNames: names, Multiline: indent != "", Indent: indent}.Marshal(body)
				if err != nil {
					t.Fatalf("%s: %v", r, err)
				}
				out[fmt.Sprintf("choice %d, proto names %v, indent %q", choice, names, indent)] = escapeNonASCII(string(b))
			}
		}
	}
	return out
}

// TestBodyBoundCoversTheLongestBodies: on every route with a body, the
// longest valid body protojson writes, with every character escaped, fits
// in the route's bound without its whitespace allowance, and indented, in
// the whole bound.
func TestBodyBoundCoversTheLongestBodies(t *testing.T) {
	t.Parallel()
	withBody := 0
	for _, r := range contractRoutes(t).routes {
		if r.body == "" {
			if r.maxBody != whitespaceAllowance {
				t.Errorf("%s: bound %d for a route without a body", r, r.maxBody)
			}
			continue
		}
		withBody++
		for name, body := range maximalBodies(t, r) {
			limit := r.maxBody
			if strings.Contains(name, `indent ""`) {
				// Without the allowance, and without the space protojson
				// now and then puts after a colon (no string holds one).
				limit -= whitespaceAllowance
				body = strings.ReplaceAll(body, " ", "")
			}
			if int64(len(body)) > limit {
				t.Errorf("%s, %s: the longest body is %d bytes, more than %d", r, name, len(body), limit)
			}
		}
	}
	if withBody < 20 {
		t.Errorf("only %d routes with a body", withBody)
	}
}

func TestCreateConcernBound(t *testing.T) {
	t.Parallel()
	r := routeOf(t, "ipn.disputes.intake.v1.IntakeService.CreateConcern", "/v1/{parent=groups/*}/concerns")
	// The description and the desired outcome alone, in escapes, are
	// (20,000 + 5,000) × 12 bytes.
	if r.maxBody < (20000+5000)*12 || r.maxBody > 360_000 {
		t.Errorf("CreateConcern's bound is %d bytes", r.maxBody)
	}
	t.Logf("CreateConcern: %d bytes; the largest route, %s: %d bytes", r.maxBody, contractRoutes(t).largest(), contractRoutes(t).largest().maxBody)
}

// TestBoundRefusesWhatTheContractDoesNotLimit: a body with a string without
// max_length, a list without max_items, a Struct or a message nested in
// itself has no bound, and the route table says which fields.
func TestBoundRefusesWhatTheContractDoesNotLimit(t *testing.T) {
	t.Parallel()
	str, msg, rep := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	file := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("boundtest/v1/unbounded.proto"),
		Package:    proto.String("boundtest.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"google/protobuf/struct.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Request"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("text"), JsonName: proto.String("text"), Number: proto.Int32(1), Type: str},
				{Name: proto.String("tags"), JsonName: proto.String("tags"), Number: proto.Int32(2), Type: str, Label: rep},
				{Name: proto.String("anything"), JsonName: proto.String("anything"), Number: proto.Int32(3), Type: msg, TypeName: proto.String(".google.protobuf.Struct")},
				{Name: proto.String("child"), JsonName: proto.String("child"), Number: proto.Int32(4), Type: msg, TypeName: proto.String(".boundtest.v1.Request")},
			}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Service"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Call"), InputType: proto.String(".boundtest.v1.Request"), OutputType: proto.String(".boundtest.v1.Request")},
		}}},
	}
	fd, err := protodesc.NewFile(file, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	r := &route{method: "POST", template: "/v1/call", body: "*", rpc: fd.Services().Get(0).Methods().Get(0)}
	_, err = bodyBound(r)
	if err == nil {
		t.Fatal("a bound for a body without limits")
	}
	for _, want := range []string{"text declares no max_length", "tags declares no max_items", "anything is a Struct", "child nests boundtest.v1.Request in itself"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}
