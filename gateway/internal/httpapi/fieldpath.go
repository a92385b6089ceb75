package httpapi

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// bodyItself names the body as a whole in a field violation: the body field
// of a route whose body is one field of the request, when a violation names
// that field itself (a CreateConcern with no concern), or an object whose
// key does not look like a field name.
const bodyItself = "(body)"

// jsonFieldPath rewrites a field violation's path from the proto names the
// services use (`concern.client_contact.email`, `meeting_proposal.slots[2]`)
// to the JSON names of the route's request as a REST client writes them:
//
//   - each field by its JSON name (`clientContact`), found by walking the
//     request message's descriptor;
//   - without the body field when the route's body is that field
//     (`body: "concern"`: `clientContact.email`, the path inside the body
//     the client sent), and bodyItself for that field itself;
//   - a field that travels in the URL path keeps its whole path, in JSON
//     names (`group.name` of `/v1/{group.name=groups/*}`), and one that
//     travels in the query its JSON name (`pageToken`), as the client wrote
//     the parameter;
//   - indexes and map keys (`[2]`, `["key"]`) as they are.
//
// A path whose first field the request does not have is left as it is; one
// whose later segment names no field (a key the body check found that the
// message does not have) keeps that segment and the rest as they are. A
// path it cannot parse is left as it is.
func jsonFieldPath(r *route, path string) string {
	segs, ok := splitFieldPath(path)
	if !ok || len(segs) == 0 {
		return path
	}
	var out []string
	md := r.rpc.Input()
	var first protoreflect.FieldDescriptor
	protoPath := make([]string, 0, len(segs))
	for i, s := range segs {
		var fd protoreflect.FieldDescriptor
		if md != nil {
			if fd = md.Fields().ByName(protoreflect.Name(s.name)); fd == nil {
				fd = md.Fields().ByJSONName(s.name)
			}
		}
		if fd == nil {
			if i == 0 {
				return path
			}
			for _, rest := range segs[i:] {
				out = append(out, rest.name+rest.suffix)
			}
			break
		}
		if i == 0 {
			first = fd
		}
		out = append(out, fd.JSONName()+s.suffix)
		protoPath = append(protoPath, string(fd.Name()))
		if fd.IsMap() {
			md = fd.MapValue().Message()
		} else {
			md = fd.Message()
		}
	}
	switch {
	case first != r.bodyField, segs[0].suffix != "":
		return strings.Join(out, ".")
	case r.pathVars[strings.Join(protoPath, ".")]:
		// The field is in the URL path ({group.name=groups/*}), whose
		// variable the client knows by this name.
		return strings.Join(out, ".")
	case len(out) == 1:
		return bodyItself
	}
	return strings.Join(out[1:], ".")
}

// fieldSegment is one field of a violation's path, with the indexes or
// map keys after it as written (`[2]`, `["key"]`).
type fieldSegment struct {
	name, suffix string
}

// splitFieldPath splits a path at the dots between fields, not at those
// inside a quoted map key. ok is false for a path it cannot read.
func splitFieldPath(path string) (segs []fieldSegment, ok bool) {
	i := 0
	for i < len(path) {
		start := i
		for i < len(path) && path[i] != '.' && path[i] != '[' {
			i++
		}
		seg := fieldSegment{name: path[start:i]}
		if seg.name == "" {
			return nil, false
		}
		suffixStart := i
		for i < len(path) && path[i] == '[' {
			end := bracketEnd(path, i)
			if end < 0 {
				return nil, false
			}
			i = end + 1
		}
		seg.suffix = path[suffixStart:i]
		segs = append(segs, seg)
		if i < len(path) {
			if path[i] != '.' || i+1 == len(path) {
				return nil, false
			}
			i++
		}
	}
	return segs, true
}

// bracketEnd returns the index of the `]` that closes the `[` at open: an
// index, a bare key, or a key quoted as Go quotes it (strconv.Quote, as the
// services' text rule and the body check write map keys); -1 when there is
// none.
func bracketEnd(path string, open int) int {
	i := open + 1
	if i < len(path) && path[i] == '"' {
		quoted, err := strconv.QuotedPrefix(path[i:])
		if err != nil {
			return -1
		}
		i += len(quoted)
		if i < len(path) && path[i] == ']' {
			return i
		}
		return -1
	}
	end := strings.IndexByte(path[i:], ']')
	if end < 0 {
		return -1
	}
	return i + end
}
