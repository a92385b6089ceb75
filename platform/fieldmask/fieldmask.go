// Package fieldmask reads the update mask of an update method (AIP-134,
// AIP-161) once, the same way for every service: which fields of the
// resource the caller asks to change, as proto field paths.
//
// A mask's paths may name fields as the JSON body spells them
// (`procedureSettings.procedure`) or by their proto names
// (`procedure_settings.procedure`), and may go into a message field
// (`contact.email`) or name it whole (`contact`). Without a mask, the
// fields the caller set are the ones to change, as AIP-134 asks: over REST
// the gateway derives that mask from the body's fields, and over gRPC Paths
// derives it from the fields that are set. `*` alone changes every field the
// caller may set. Fields the caller cannot set are left out without
// complaint (AIP-161): output-only fields, the resource's name and its
// etag, which guards the update rather than being changed by it. A path
// that names no field is refused with a field violation on `update_mask`
// that names the path.
package fieldmask

import (
	"slices"
	"strings"

	"github.com/ipnmediation/disputes/platform/fault"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Field is the request field every violation names: the update mask.
const Field = "update_mask"

// Wildcard is the path that stands for every field the caller may set.
const Wildcard = "*"

// Paths returns the fields of resource that an update with mask changes,
// as proto field paths in the order the mask gives them (field order when
// the mask is empty or `*`), each once: mask's paths with every segment
// turned into its proto name, or, when mask has none, the paths of the
// fields set in resource. Paths to fields the caller cannot set are left
// out. A path that names no field of resource, goes on past a field that is
// not a message (or into a repeated field, a map or a well-known type), or
// `*` beside other paths, is a fault.Violations error on update_mask.
func Paths(resource proto.Message, mask *fieldmaskpb.FieldMask) ([]string, error) {
	md := resource.ProtoReflect().Descriptor()
	given := mask.GetPaths()
	if len(given) == 0 {
		return Populated(resource.ProtoReflect()), nil
	}
	if slices.Contains(given, Wildcard) {
		if len(given) > 1 {
			var v fault.Violations
			v.Add(Field, "`*` stands for every field and cannot be combined with other paths; send `*` alone, or list the fields")
			return nil, v.Err()
		}
		return settable(md), nil
	}
	var (
		v   fault.Violations
		out []string
	)
	for _, p := range given {
		name, canSet, ok := resolve(md, p)
		switch {
		case !ok:
			v.Addf(Field, "%q is not a field of %s that an update can name; name fields as the body spells them (displayName) or by their proto names (display_name), with a dot into a nested field (contact.email)", p, md.Name())
		case canSet && !slices.Contains(out, name):
			out = append(out, name)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Populated returns the paths of the fields set in m that a caller may set,
// the implied mask of an update without one (AIP-134): a message field's
// own set fields, each by its path (`contact.email`), or the message field
// itself when it is set but empty; repeated fields, maps and well-known
// types (a duration, a timestamp) as a whole. It is how the gateway derives
// a mask from a JSON body, for callers who send no body.
func Populated(m protoreflect.Message) []string {
	var out []string
	populated(m, "", &out)
	return out
}

func populated(m protoreflect.Message, prefix string, out *[]string) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) || !writable(fd, prefix == "") {
			continue
		}
		path := prefix + string(fd.Name())
		if !traversable(fd) {
			*out = append(*out, path)
			continue
		}
		before := len(*out)
		populated(m.Get(fd).Message(), path+".", out)
		if len(*out) == before {
			*out = append(*out, path) // set, but with nothing in it
		}
	}
}

// settable is every top-level field of md a caller may set: what `*`
// stands for.
func settable(md protoreflect.MessageDescriptor) []string {
	var out []string
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		if fd := fields.Get(i); writable(fd, true) {
			out = append(out, string(fd.Name()))
		}
	}
	return out
}

// resolve turns path, relative to md, into proto names. canSet is false
// when a field on the way is one the caller cannot set; ok is false when
// the path names no field.
func resolve(md protoreflect.MessageDescriptor, path string) (name string, canSet bool, ok bool) {
	segments := strings.Split(path, ".")
	names := make([]string, len(segments))
	canSet = true
	for i, seg := range segments {
		if md == nil {
			return "", false, false // past a field that is not a message
		}
		fd := byName(md, seg)
		if fd == nil {
			return "", false, false
		}
		names[i] = string(fd.Name())
		canSet = canSet && writable(fd, i == 0)
		md = nil
		if traversable(fd) {
			md = fd.Message()
		}
	}
	return strings.Join(names, "."), canSet, true
}

// byName finds a field by its proto name or its JSON name.
func byName(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	if name == "" {
		return nil
	}
	if fd := md.Fields().ByName(protoreflect.Name(name)); fd != nil {
		return fd
	}
	return md.Fields().ByJSONName(name)
}

// traversable says whether a path may go on into fd's fields: a singular
// message field that is not a well-known type (whose JSON is a scalar).
func traversable(fd protoreflect.FieldDescriptor) bool {
	return fd.Message() != nil && !fd.IsList() && !fd.IsMap() &&
		!strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.")
}

// writable says whether an update may change fd: not when it is output
// only or the resource's identifier, nor the resource's etag.
func writable(fd protoreflect.FieldDescriptor, topLevel bool) bool {
	if topLevel && fd.Name() == "etag" {
		return false
	}
	opts := fd.Options()
	if opts == nil || !proto.HasExtension(opts, annotations.E_FieldBehavior) {
		return true
	}
	behaviors, _ := proto.GetExtension(opts, annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	return !slices.Contains(behaviors, annotations.FieldBehavior_OUTPUT_ONLY) &&
		!slices.Contains(behaviors, annotations.FieldBehavior_IDENTIFIER)
}
