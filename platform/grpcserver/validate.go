package grpcserver

import (
	"context"

	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/fieldmask"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Validator checks what the proto annotations cannot say, for example the
// form of an e-mail address. It returns a fault error (usually from
// fault.Violations) or nil.
type Validator func(ctx context.Context, fullMethod string, req any) error

// CheckAnnotations validates a request against its own proto annotations: a
// field marked (google.api.field_behavior) = REQUIRED must be set, and a
// string field with a (google.api.resource_reference) must be a name of that
// resource type (any of its patterns), or with a child_type, a name of a
// parent of that type (the parent of any of its patterns). Nested messages
// are checked when set. Output-only fields are ignored, as AIP-203 asks.
//
// In an update request (one with an update_mask), the resource's own
// REQUIRED fields are required only when the mask names them, by their
// proto or JSON name or as `*` (platform/fieldmask reads masks alike):
// without a mask only the fields set change (AIP-134), so an unset field is
// never one of them.
func CheckAnnotations(msg proto.Message) []fault.FieldViolation {
	var v fault.Violations
	checkMessage(msg.ProtoReflect(), "", updateMask(msg.ProtoReflect()), &v)
	if v.Len() == 0 {
		return nil
	}
	err, _ := fault.As(v.Err())
	return err.Violations
}

// updateMask returns the fields of the resource a request's update_mask
// names, by the first segment of each path: nil when the request has no
// update_mask field, and empty when it is not set.
func updateMask(m protoreflect.Message) map[string]bool {
	fd := m.Descriptor().Fields().ByName("update_mask")
	if fd == nil || fd.Message() == nil || fd.Message().FullName() != "google.protobuf.FieldMask" {
		return nil
	}
	paths := map[string]bool{}
	if !m.Has(fd) {
		return paths
	}
	mask := m.Get(fd).Message()
	list := mask.Get(mask.Descriptor().Fields().ByName("paths")).List()
	for i := 0; i < list.Len(); i++ {
		first, _, _ := strings.Cut(list.Get(i).String(), ".")
		paths[first] = true
	}
	return paths
}

// checkMessage checks m's fields. mask, when not nil, is the update mask of
// the request m belongs to: it applies to the resource, one level down.
func checkMessage(m protoreflect.Message, prefix string, mask map[string]bool, v *fault.Violations) {
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		path := prefix + string(fd.Name())
		declared := DeclaredField(fd)
		if declared.OutputOnly {
			continue
		}
		set := m.Has(fd)
		if declared.Required && !set && (mask == nil || prefix == "" || mask[fieldmask.Wildcard] || mask[string(fd.Name())] || mask[fd.JSONName()]) {
			v.Add(path, "is required")
			continue
		}
		if !set {
			continue
		}
		switch {
		case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
			var inner map[string]bool
			if mask != nil && prefix == "" && fd.Name() != "update_mask" {
				inner = mask // the resource being updated
			}
			checkMessage(m.Get(fd).Message(), path+".", inner, v)
		case fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap():
			if ref, ok := referencePatterns(fd); ok && !ref.re.MatchString(m.Get(fd).String()) {
				v.Addf(path, "must be a resource name of the form %s", strings.Join(ref.patterns, " or "))
			}
		}
	}
}

var (
	patternsOnce sync.Once
	patterns     map[string][]string // resource type -> patterns
	compiled     sync.Map            // resource_reference -> reference
)

// resourcePatterns indexes every resource type declared in the linked protos.
func resourcePatterns() map[string][]string {
	patternsOnce.Do(func() {
		patterns = map[string][]string{}
		protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
			msgs := fd.Messages()
			for i := 0; i < msgs.Len(); i++ {
				opts := msgs.Get(i).Options()
				if opts == nil || !proto.HasExtension(opts, annotations.E_Resource) {
					continue
				}
				rd := proto.GetExtension(opts, annotations.E_Resource).(*annotations.ResourceDescriptor)
				if len(rd.GetPattern()) > 0 {
					patterns[rd.GetType()] = rd.GetPattern()
				}
			}
			return true
		})
	})
	return patterns
}

// reference is what a resource_reference accepts: its patterns, for
// messages, and one expression matching any of them.
type reference struct {
	patterns []string
	re       *regexp.Regexp
}

// referencePatterns returns what a field's resource_reference accepts: with
// type, a name of any pattern of that type; with child_type, a name of the
// parent of any pattern of that type (AIP-122), which is how a field names
// one of several kinds of parent. ok is false when the field has no
// reference or the type is not linked into this binary.
func referencePatterns(fd protoreflect.FieldDescriptor) (reference, bool) {
	opts := fd.Options()
	if opts == nil || !proto.HasExtension(opts, annotations.E_ResourceReference) {
		return reference{}, false
	}
	ref := proto.GetExtension(opts, annotations.E_ResourceReference).(*annotations.ResourceReference)
	key := "type:" + ref.GetType()
	if ref.GetType() == "" {
		key = "child:" + ref.GetChildType()
	}
	if r, ok := compiled.Load(key); ok {
		return r.(reference), true
	}
	var names []string
	if ref.GetType() != "" {
		names = resourcePatterns()[ref.GetType()]
	} else {
		for _, p := range resourcePatterns()[ref.GetChildType()] {
			if parent := parentPattern(p); parent != "" && !slices.Contains(names, parent) {
				names = append(names, parent)
			}
		}
	}
	if len(names) == 0 {
		return reference{}, false
	}
	alternatives := make([]string, len(names))
	for i, p := range names {
		alternatives[i] = patternRegexp(p)
	}
	r := reference{patterns: names, re: regexp.MustCompile("^(?:" + strings.Join(alternatives, "|") + ")$")}
	compiled.Store(key, r)
	return r, true
}

// parentPattern is the pattern of a resource's parent: the pattern without
// its last collection and id; empty for a top-level resource.
func parentPattern(pattern string) string {
	segs := strings.Split(pattern, "/")
	if len(segs) < 4 {
		return ""
	}
	return strings.Join(segs[:len(segs)-2], "/")
}

// patternRegexp turns "groups/{group}/members/{member}" into a regular
// expression whose variables are resource ids (AIP-122: lowercase letters,
// digits and hyphens).
func patternRegexp(pattern string) string {
	var b strings.Builder
	for i, seg := range strings.Split(pattern, "/") {
		if i > 0 {
			b.WriteString("/")
		}
		if strings.HasPrefix(seg, "{") {
			b.WriteString(IDPattern)
			continue
		}
		b.WriteString(regexp.QuoteMeta(seg))
	}
	return b.String()
}

// IDPattern is the form of every resource id: 1 to 63 characters, lowercase
// letters, digits and hyphens, starting with a letter or digit.
const IDPattern = `[a-z0-9][a-z0-9-]{0,62}`

func validationError(violations []fault.FieldViolation) error {
	v := fault.Violations{}
	v.Merge("", violations)
	return v.Err()
}
