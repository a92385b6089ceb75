package httpapi

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The body limit of each route follows from the contract: it is the largest
// body, in bytes, that a request whose every field is valid and within its
// declared limits can have, written as JSON a client might write. Nothing
// is configured: a request the services would accept is never refused for
// its size, and anything larger is refused before it is read whole.
//
// The bound assumes, for every field of the body (output-only ones as null):
//   - a string of max_length characters, each written in 12 bytes (a
//     character outside the Basic Multilingual Plane written as a surrogate
//     pair of escapes, `\ud83d\ude00`), in quotes;
//   - max_items elements of a repeated field (or entries of a map);
//   - a number or enum at its longest, quoted (`"-9223372036854775808"`,
//     the longest value name); a bool as `false`; null where that is longer;
//   - a Timestamp, Duration or FieldMask as the string protojson reads;
//   - for a oneof, its longest member, with every other member as null;
//   - every field's key under the longer of its JSON and proto names, with
//     quotes, colon and comma;
//
// plus whitespaceAllowance bytes for the whitespace a client may put between
// tokens (indentation, line breaks). Keys, enum names and field mask paths
// are counted as written plainly, not escaped. A field without a declared
// limit cannot be bounded: the gateway refuses to start rather than guess
// (the contract test in platform/grpcserver refuses such a field first).

// whitespaceAllowance is what every route's bound allows for whitespace
// between tokens: more than a body pretty-printed with two-space indentation
// takes on any route of the contract (see TestBodyBoundCoversPrettyJSON).
const whitespaceAllowance = 4 << 10

// Lengths of values with a fixed longest form, quotes included.
const (
	nullLen      = len("null")
	boolLen      = len("false")
	int32Len     = len(`"-2147483648"`)
	uint32Len    = len(`"4294967295"`)
	int64Len     = len(`"-9223372036854775808"`)
	uint64Len    = len(`"18446744073709551615"`)
	floatLen     = len(`"-2.2250738585072014e-308"`) + 8 // shortest round-trip forms are shorter; leave room
	timestampLen = len(`"9999-12-31T23:59:59.999999999+14:00"`)
	durationLen  = len(`"-315576000000.999999999s"`)
	// charBytes is the most bytes one character can take in a JSON
	// string: a surrogate pair of \u escapes.
	charBytes = len(`\ud83d\ude00`)
)

// bodyBound returns the route's largest valid body in bytes. A route without
// a body gets the whitespace allowance: grpc-gateway ignores what is sent,
// and a little of it (`{}`, a line break) is what some clients send anyway.
func bodyBound(r *route) (int64, error) {
	b := bounder{}
	var n int64
	switch {
	case r.body == "":
		return whitespaceAllowance, nil
	case r.body == "*":
		n = b.message(r.rpc.Input(), "")
	default:
		n = b.field(r.bodyField, string(r.bodyField.Name()))
	}
	if len(b.unbounded) > 0 {
		return 0, fmt.Errorf("the body cannot be bounded: %s", strings.Join(b.unbounded, "; "))
	}
	return add(n, whitespaceAllowance), nil
}

// bounder computes bounds, collecting the fields that declare no limit.
type bounder struct {
	unbounded []string
	stack     []protoreflect.FullName
}

func (b *bounder) fail(path, why string) int64 {
	b.unbounded = append(b.unbounded, path+" "+why)
	return 0
}

// message is the bound of a JSON object of md.
func (b *bounder) message(md protoreflect.MessageDescriptor, path string) int64 {
	if slices.Contains(b.stack, md.FullName()) {
		return b.fail(path, "nests "+string(md.FullName())+" in itself")
	}
	b.stack = append(b.stack, md.FullName())
	defer func() { b.stack = b.stack[:len(b.stack)-1] }()

	prefix := path
	if prefix != "" {
		prefix += "."
	}
	n := int64(len("{}"))
	members := 0
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			continue
		}
		n = add(n, b.member(fd, prefix))
		members++
	}
	oneofs := md.Oneofs()
	for i := 0; i < oneofs.Len(); i++ {
		od := oneofs.Get(i)
		if od.IsSynthetic() {
			continue
		}
		// One member set, the others null at most.
		var longest, nulls int64
		for j := 0; j < od.Fields().Len(); j++ {
			fd := od.Fields().Get(j)
			null := keyLen(fd) + 1 + int64(nullLen)
			nulls = add(nulls, null)
			longest = max(longest, b.member(fd, prefix)-null)
			members++
		}
		n = add(n, add(nulls, longest))
	}
	if members > 1 {
		n = add(n, int64(members-1)) // commas
	}
	return n
}

// member is the bound of `"key":value` for one field.
func (b *bounder) member(fd protoreflect.FieldDescriptor, prefix string) int64 {
	value := int64(nullLen)
	if !grpcserver.DeclaredField(fd).OutputOnly {
		value = max(value, b.field(fd, prefix+string(fd.Name())))
	}
	return add(keyLen(fd)+1, value)
}

// keyLen is a field's key in quotes, under the longer of its names.
func keyLen(fd protoreflect.FieldDescriptor) int64 {
	return int64(max(len(fd.JSONName()), len(fd.Name())) + 2)
}

// field is the bound of a field's value: a list, a map or one value.
func (b *bounder) field(fd protoreflect.FieldDescriptor, path string) int64 {
	switch {
	case fd.IsList() || fd.IsMap():
		items := grpcserver.DeclaredField(fd).MaxItems
		if items == 0 {
			return b.fail(path, "declares no max_items")
		}
		var item int64
		if fd.IsMap() {
			item = add(add(b.mapKey(fd.MapKey(), fd, path), 1), b.value(fd.MapValue(), fd, path+"[]"))
		} else {
			item = b.value(fd, fd, path+"[]")
		}
		return add(mul(int64(items), item), int64(len("[]"))+int64(items)-1)
	default:
		return b.value(fd, fd, path)
	}
}

// mapKey is the bound of a map key, always a JSON string.
func (b *bounder) mapKey(kd, decl protoreflect.FieldDescriptor, path string) int64 {
	if kd.Kind() == protoreflect.StringKind {
		return b.fail(path, "is a map with string keys, whose length the contract cannot declare")
	}
	return b.value(kd, decl, path) + 2
}

// value is the bound of one value of vd's kind. decl is the field that
// carries the declarations (the map or list field itself for its items).
func (b *bounder) value(vd, decl protoreflect.FieldDescriptor, path string) int64 {
	n := int64(nullLen)
	switch vd.Kind() {
	case protoreflect.StringKind:
		length := grpcserver.DeclaredField(decl).MaxLength
		if length == 0 {
			return b.fail(path, "declares no max_length")
		}
		return max(n, mul(int64(length), int64(charBytes))+2)
	case protoreflect.BytesKind:
		length := grpcserver.DeclaredField(decl).MaxLength
		if length == 0 {
			return b.fail(path, "declares no max_length")
		}
		return max(n, mul((int64(length)+2)/3, 4)+2) // base64
	case protoreflect.BoolKind:
		return int64(boolLen)
	case protoreflect.EnumKind:
		longest := int32Len // a number is accepted too
		values := vd.Enum().Values()
		for i := 0; i < values.Len(); i++ {
			longest = max(longest, len(values.Get(i).Name())+2)
		}
		return int64(longest)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return int64(int32Len)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return int64(uint32Len)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return int64(int64Len)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return int64(uint64Len)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return int64(floatLen)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return max(n, b.messageValue(vd.Message(), decl, path))
	}
	return b.fail(path, "has a kind the gateway cannot bound")
}

// messageValue is the bound of a message value: the well-known types in
// the forms protojson reads, any other message as an object.
func (b *bounder) messageValue(md protoreflect.MessageDescriptor, decl protoreflect.FieldDescriptor, path string) int64 {
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		return int64(timestampLen)
	case "google.protobuf.Duration":
		return int64(durationLen)
	case "google.protobuf.FieldMask":
		return b.fieldMask(decl, path)
	case "google.protobuf.Empty":
		return int64(len("{}"))
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		// The wrapped value alone; the wrapper field carries the limits.
		return b.value(md.Fields().ByName("value"), decl, path)
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.Any":
		return b.fail(path, "is a "+string(md.Name())+", which holds anything")
	}
	return b.message(md, path)
}

// fieldMask is the bound of a FieldMask: every path it could name in the
// messages beside it (the resource it updates), comma-separated.
func (b *bounder) fieldMask(decl protoreflect.FieldDescriptor, path string) int64 {
	var n int64 = 2 + 2 // quotes, and "*" (AIP-134's full replacement) with a comma
	siblings := decl.ContainingMessage().Fields()
	for i := 0; i < siblings.Len(); i++ {
		fd := siblings.Get(i)
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && fd.Message().FullName() != "google.protobuf.FieldMask" {
			n = add(n, maskPaths(fd.Message(), "", "", 0))
		}
	}
	if n == 4 {
		return b.fail(path, "is a FieldMask with no message beside it to name paths of")
	}
	return n
}

// maskPaths is the length of every field path in md, each with a comma,
// under the longer of its JSON and proto spellings, to a depth of 4.
func maskPaths(md protoreflect.MessageDescriptor, jsonPrefix, protoPrefix string, depth int) int64 {
	var n int64
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		j, p := jsonPrefix+fd.JSONName(), protoPrefix+string(fd.Name())
		n = add(n, int64(max(len(j), len(p))+1))
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && depth < 4 && !strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.") {
			n = add(n, maskPaths(fd.Message(), j+".", p+".", depth+1))
		}
	}
	return n
}

// add and mul saturate instead of overflowing: a bound that large is a
// mistake in the contract, and must not wrap to a small one.
func add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
