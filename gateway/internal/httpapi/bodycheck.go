package httpapi

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ReasonUnsupportedMediaType is the reason of the 415 answer to a body that
// does not say it is JSON.
const ReasonUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"

// jsonContentType reports whether a Content-Type header says the body is
// JSON: application/json, with any parameters (`charset=utf-8`, which RFC
// 8259 says has no effect; JSON is UTF-8). grpc-gateway would read any body
// as JSON whatever its type; requiring the type keeps a form or a text that
// a client sent by mistake from being read as something it is not, and
// makes a cross-origin body from a web page need a CORS preflight (a
// "simple" request can only send text/plain, a form or multipart).
func jsonContentType(header string) bool {
	mt, _, err := mime.ParseMediaType(header)
	return err == nil && mt == "application/json"
}

// unsupportedMediaType answers 415 to a body that is not declared JSON, and
// says what to send instead, in the message and, for POST and PATCH, in
// Accept-Post or Accept-Patch (RFC 5789).
func unsupportedMediaType(api *runtime.ServeMux, w http.ResponseWriter, r *http.Request) {
	const message = "the request body must be JSON: send it with the header `Content-Type: application/json`"
	st, err := status.New(codes.InvalidArgument, message).
		WithDetails(&errdetails.ErrorInfo{Reason: ReasonUnsupportedMediaType, Domain: grpcserver.ErrorDomain})
	if err != nil {
		st = status.New(codes.InvalidArgument, message)
	}
	switch r.Method {
	case http.MethodPost:
		w.Header().Set("Accept-Post", "application/json")
	case http.MethodPatch:
		w.Header().Set("Accept-Patch", "application/json")
	}
	_, outbound := runtime.MarshalerForRequest(api, r)
	runtime.HTTPError(r.Context(), api, outbound, w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusUnsupportedMediaType, Err: st.Err()})
}

// checkBody reads a JSON body against the message (or field) the route's
// body fills, as protojson will, and reports what protojson would refuse
// without saying where, as field violations that name the field:
//   - a key that names no field (protojson accepts both a field's JSON name
//     and its proto name), with a hint when the name is one of the
//     request's fields that travel in the URL;
//   - a string that is not valid UTF-8, or that escapes half a surrogate
//     pair.
//
// malformed is true when the body is not one JSON value; the caller answers
// MALFORMED_REQUEST then. Values of the wrong type (a string where an object
// belongs) are left to protojson, which refuses them as malformed too. An
// empty body is neither: grpc-gateway reads it as an empty message.
//
// Violations name fields by their proto names (`concern.client_contact`), as
// the services' do. The key of an unknown field is named only when it looks
// like a field name, so that an answer never repeats words a client typed
// where a name belongs.
func checkBody(r *route, body []byte) (violations []fault.FieldViolation, malformed bool) {
	if len(trimJSONSpace(body)) == 0 {
		return nil, false
	}
	if !json.Valid(body) {
		return nil, true
	}
	w := &bodyWalker{data: body, route: r, reported: map[string]bool{}}
	w.space()
	if r.body == "*" {
		w.value(nil, r.rpc.Input(), "", true)
	} else {
		w.field(r.bodyField, string(r.bodyField.Name()), true)
	}
	return w.violations, false
}

// trimJSONSpace trims the whitespace JSON allows around tokens.
func trimJSONSpace(b []byte) []byte {
	for len(b) > 0 && isJSONSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isJSONSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// bodyWalker walks a body json.Valid accepted, so it checks no syntax of
// its own.
type bodyWalker struct {
	data       []byte
	pos        int
	route      *route
	reported   map[string]bool
	violations []fault.FieldViolation
}

// report records one violation per field.
func (w *bodyWalker) report(field, description string) {
	if w.reported[field] {
		return
	}
	w.reported[field] = true
	w.violations = append(w.violations, fault.FieldViolation{Field: field, Description: description})
}

const invalidText = "must be valid UTF-8 text"

func (w *bodyWalker) space() {
	for w.pos < len(w.data) && isJSONSpace(w.data[w.pos]) {
		w.pos++
	}
}

func (w *bodyWalker) peek() byte { return w.data[w.pos] }

// consume skips the byte at pos (a bracket, colon or comma) and the space
// after it.
func (w *bodyWalker) consume() {
	w.pos++
	w.space()
}

// field walks the value of fd: a list, a map or a single value.
func (w *bodyWalker) field(fd protoreflect.FieldDescriptor, path string, bodyTop bool) {
	switch {
	case w.peek() == 'n':
		w.skip() // null: the field stays unset
	case (fd.IsList() && w.peek() != '[') || (fd.IsMap() && w.peek() != '{'):
		// Not a list or map: protojson refuses it as malformed.
		if !w.skip() {
			w.report(path, invalidText)
		}
	case fd.IsList():
		w.consume()
		for i := 0; w.peek() != ']'; i++ {
			w.value(fd, fd.Message(), fmt.Sprintf("%s[%d]", path, i), false)
			if w.peek() == ',' {
				w.consume()
			}
		}
		w.consume()
	case fd.IsMap():
		w.consume()
		for w.peek() != '}' {
			key, ok := w.str()
			w.consume() // the colon
			entry := path + "[]"
			if ok && isFieldName(key) {
				entry = path + "[" + strconv.Quote(key) + "]"
			}
			if !ok {
				w.report(path, "must have keys of valid UTF-8 text")
			}
			w.value(fd.MapValue(), fd.MapValue().Message(), entry, false)
			if w.peek() == ',' {
				w.consume()
			}
		}
		w.consume()
	default:
		w.value(fd, fd.Message(), path, bodyTop)
	}
}

// value walks one value of fd's kind: md, when it is a message, walked as
// an object (unless protojson reads it in another form); anything else
// checked for invalid text only.
func (w *bodyWalker) value(fd protoreflect.FieldDescriptor, md protoreflect.MessageDescriptor, path string, bodyTop bool) {
	if md == nil || w.peek() != '{' || opaqueJSON(md) {
		if !w.skip() {
			w.report(pathOrBody(path), invalidText)
		}
		return
	}
	prefix := path
	if prefix != "" {
		prefix += "."
	}
	fields := md.Fields()
	w.consume()
	for w.peek() != '}' {
		key, ok := w.str()
		w.consume() // the colon
		fd := fields.ByJSONName(key)
		if fd == nil {
			fd = fields.ByTextName(key)
		}
		switch {
		case fd != nil && ok:
			w.field(fd, prefix+string(fd.Name()), false)
		case ok && isFieldName(key):
			w.skip()
			w.report(prefix+key, w.unknown(md, key, bodyTop))
		default:
			w.skip()
			w.report(pathOrBody(path), fmt.Sprintf("has a field whose name is not a field name of %s", md.Name()))
		}
		if w.peek() == ',' {
			w.consume()
		}
	}
	w.consume()
}

// unknown says why a key names no field of md, with what to do instead
// when the client put a field that travels in the URL into the body.
func (w *bodyWalker) unknown(md protoreflect.MessageDescriptor, key string, bodyTop bool) string {
	r := w.route
	if bodyTop && r.bodyField != nil {
		fields := r.rpc.Input().Fields()
		other := fields.ByJSONName(key)
		if other == nil {
			other = fields.ByTextName(key)
		}
		switch {
		case other == nil:
		case other == r.bodyField:
			return fmt.Sprintf("is not a field of %s: the request body is the %s itself, not an object that holds it", md.Name(), other.Name())
		case r.pathFields[other.Name()]:
			return fmt.Sprintf("is not a field of %s: %s travels in the URL path", md.Name(), other.Name())
		default:
			return fmt.Sprintf("is not a field of %s: send it as the query parameter `%s`", md.Name(), other.JSONName())
		}
	}
	return fmt.Sprintf("is not a field of %s", md.Name())
}

// pathOrBody names the body itself when a violation has no field path (an
// unnamed key at the top of a body that is the whole request).
func pathOrBody(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

// opaqueJSON reports whether protojson reads md from JSON of another shape
// than an object of its fields: well-known types written as strings,
// numbers or any JSON at all. Their contents are checked for invalid text
// only.
func opaqueJSON(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Any", "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue",
		"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
		"google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		return true
	}
	return false
}

var fieldName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// isFieldName reports whether a key looks like a field name, and so may be
// named in an answer.
func isFieldName(key string) bool { return fieldName.MatchString(key) }

// skip passes over one value and the space after it, and reports whether
// every string in it (keys included) is valid text.
func (w *bodyWalker) skip() bool {
	valid := true
	depth := 0
	for {
		switch c := w.peek(); c {
		case '"':
			if _, ok := w.str(); !ok {
				valid = false
			}
		case '{', '[':
			depth++
			w.pos++
		case '}', ']':
			depth--
			w.pos++
		case ',', ':':
			w.pos++
		default: // a number, true, false or null
			for w.pos < len(w.data) && !isJSONSpace(w.data[w.pos]) && !isDelimiter(w.data[w.pos]) {
				w.pos++
			}
		}
		w.space()
		if depth == 0 {
			return valid
		}
	}
}

func isDelimiter(c byte) bool {
	return c == ',' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' || c == '"'
}

// str reads a string and the space after it, and returns its value and
// whether it is valid text: valid UTF-8, with escaped surrogates only in
// pairs (protojson refuses both, without saying where).
func (w *bodyWalker) str() (string, bool) {
	var out []byte
	valid := true
	w.pos++ // the opening quote
	for {
		c := w.data[w.pos]
		switch {
		case c == '"':
			w.pos++
			w.space()
			return string(out), valid
		case c == '\\':
			if w.data[w.pos+1] != 'u' {
				out = append(out, unescape(w.data[w.pos+1]))
				w.pos += 2
				continue
			}
			r := hex4(w.data[w.pos+2 : w.pos+6])
			w.pos += 6
			if utf16.IsSurrogate(r) {
				low := rune(-1)
				if w.pos+6 <= len(w.data) && w.data[w.pos] == '\\' && w.data[w.pos+1] == 'u' {
					low = hex4(w.data[w.pos+2 : w.pos+6])
				}
				if r = utf16.DecodeRune(r, low); r == utf8.RuneError {
					valid = false
					continue
				}
				w.pos += 6
			}
			out = utf8.AppendRune(out, r)
		case c < utf8.RuneSelf:
			out = append(out, c)
			w.pos++
		default:
			r, size := utf8.DecodeRune(w.data[w.pos:])
			if r == utf8.RuneError && size <= 1 {
				valid = false
			}
			out = append(out, w.data[w.pos:w.pos+size]...)
			w.pos += size
		}
	}
}

func unescape(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // '"', '\\' and '/'
}

func hex4(b []byte) rune {
	v, _ := strconv.ParseUint(string(b), 16, 16)
	return rune(v)
}
