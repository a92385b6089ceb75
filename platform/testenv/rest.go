package testenv

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// RESTCall is the HTTP request that calls an RPC through its REST route,
// as the gateway translates it (grpc-gateway's mapping of the method's
// google.api.http rule).
type RESTCall struct {
	// Method is the HTTP method, for example "POST".
	Method string
	// Path is the URL path, with every path variable filled from the
	// request and percent-escaped, for example "/v1/groups/riverside/concerns".
	Path string
	// Query holds the request's fields that travel neither in the path nor
	// in the body, under their JSON names (`pageSize`, `requestId`).
	Query url.Values
	// Body is the JSON body; nil when the route takes none.
	Body []byte
}

// Target is the path with the query, if any: what follows the host in the
// request's URL.
func (c RESTCall) Target() string {
	if len(c.Query) == 0 {
		return c.Path
	}
	return c.Path + "?" + c.Query.Encode()
}

// NewRequest returns the call as an HTTP request to baseURL (for example
// "http://127.0.0.1:7180"), with Content-Type application/json when it has
// a body.
func (c RESTCall) NewRequest(ctx context.Context, baseURL string) (*http.Request, error) {
	var body io.Reader
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, strings.TrimSuffix(baseURL, "/")+c.Target(), body)
	if err != nil {
		return nil, err
	}
	if c.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// HTTPRules returns a method's google.api.http rule followed by its
// additional_bindings, each of which is a REST route of its own; nil when
// the method has no REST route.
func HTTPRules(md protoreflect.MethodDescriptor) []*annotations.HttpRule {
	rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
	if rule == nil {
		return nil
	}
	return append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...)
}

// REST builds the call of req on the method's google.api.http rule (not its
// additional bindings; see RESTFor). req must be the method's request
// message.
func REST(md protoreflect.MethodDescriptor, req proto.Message) (RESTCall, error) {
	if got := req.ProtoReflect().Descriptor().FullName(); got != md.Input().FullName() {
		return RESTCall{}, fmt.Errorf("testenv: %s takes %s, not %s", md.FullName(), md.Input().FullName(), got)
	}
	rules := HTTPRules(md)
	if len(rules) == 0 {
		return RESTCall{}, fmt.Errorf("testenv: %s has no REST route", md.FullName())
	}
	return RESTFor(rules[0], req)
}

// RESTFor builds the call of req on one HTTP rule (one of HTTPRules):
//   - the path from the rule's template, each variable filled from the field
//     it names and each segment of its value percent-escaped, every byte but
//     letters, digits and -._~ (a value's slashes separate segments, as the
//     gateway reads them; a value that does not fit the template makes a
//     path no route takes);
//   - the body, for `body: "*"` the whole request less the fields in the
//     path, for `body: "field"` that field, as protojson writes it;
//   - the query, for the set fields neither in the path nor in the body:
//     scalars and lists of them, nested messages as `parent.child`, and the
//     well-known types grpc-gateway reads from a query (Timestamp, Duration,
//     FieldMask with proto names, wrappers).
//
// Strings need not be valid UTF-8 (protojson refuses to marshal them): such
// a string's bytes are written into the body as they are, and escaped in
// the path and query like any other, so that tests can send them.
func RESTFor(rule *annotations.HttpRule, req proto.Message) (RESTCall, error) {
	var c RESTCall
	var template string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		c.Method, template = http.MethodGet, p.Get
	case *annotations.HttpRule_Put:
		c.Method, template = http.MethodPut, p.Put
	case *annotations.HttpRule_Post:
		c.Method, template = http.MethodPost, p.Post
	case *annotations.HttpRule_Delete:
		c.Method, template = http.MethodDelete, p.Delete
	case *annotations.HttpRule_Patch:
		c.Method, template = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Custom:
		c.Method, template = p.Custom.GetKind(), p.Custom.GetPath()
	default:
		return RESTCall{}, fmt.Errorf("testenv: an HTTP rule without a pattern")
	}
	m := req.ProtoReflect()
	path, vars, err := fillTemplate(template, m)
	if err != nil {
		return RESTCall{}, err
	}
	c.Path = path
	inPath := map[string]bool{}
	for _, v := range vars {
		inPath[v] = true
	}

	switch body := rule.GetBody(); body {
	case "":
	case "*":
		if c.Body, err = marshalBody(m, "", inPath); err != nil {
			return RESTCall{}, err
		}
	default:
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(body))
		if fd == nil || fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return RESTCall{}, fmt.Errorf("testenv: the body %q is not a message field of %s", body, m.Descriptor().FullName())
		}
		if c.Body, err = marshalBody(m.Get(fd).Message(), body+".", inPath); err != nil {
			return RESTCall{}, err
		}
	}
	if rule.GetBody() != "*" {
		c.Query = url.Values{}
		if err := addQuery(c.Query, m, "", "", rule.GetBody(), inPath); err != nil {
			return RESTCall{}, err
		}
	}
	return c, nil
}

// fillTemplate writes the path of a template with its variables filled
// from m, and returns the variables' field paths.
func fillTemplate(template string, m protoreflect.Message) (string, []string, error) {
	if !strings.HasPrefix(template, "/") {
		return "", nil, fmt.Errorf("testenv: path template %q does not start with /", template)
	}
	var out strings.Builder
	var vars []string
	rest := template
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			out.WriteString(rest)
			break
		}
		out.WriteString(rest[:i])
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return "", nil, fmt.Errorf("testenv: path template %q: unterminated variable", template)
		}
		field, _, _ := strings.Cut(rest[i+1:i+end], "=")
		value, err := pathValue(m, field)
		if err != nil {
			return "", nil, fmt.Errorf("testenv: path template %q: %w", template, err)
		}
		if value == "" {
			return "", nil, fmt.Errorf("testenv: path template %q: %s is empty", template, field)
		}
		for j, seg := range strings.Split(value, "/") {
			if j > 0 {
				out.WriteByte('/')
			}
			out.WriteString(escapeSegment(seg))
		}
		vars = append(vars, field)
		rest = rest[i+end+1:]
	}
	if strings.Contains(out.String(), "*") {
		return "", nil, fmt.Errorf("testenv: path template %q has a wildcard outside a variable", template)
	}
	return out.String(), vars, nil
}

// pathValue returns the scalar at a dotted field path, as the path writes
// it.
func pathValue(m protoreflect.Message, path string) (string, error) {
	names := strings.Split(path, ".")
	for i, name := range names {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		if fd == nil || fd.IsList() || fd.IsMap() {
			return "", fmt.Errorf("%s names no singular field of %s", path, m.Descriptor().FullName())
		}
		if i < len(names)-1 {
			if fd.Message() == nil {
				return "", fmt.Errorf("%s: %s is not a message", path, name)
			}
			m = m.Get(fd).Message()
			continue
		}
		return scalarString(fd, m.Get(fd))
	}
	return "", fmt.Errorf("an empty field path")
}

// escapeSegment percent-escapes every byte of a path segment but the
// unreserved characters of RFC 3986.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// scalarString writes a scalar value as a path or query parameter.
func scalarString(fd protoreflect.FieldDescriptor, v protoreflect.Value) (string, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return v.String(), nil
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool()), nil
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return strconv.Itoa(int(v.Enum())), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10), nil
	case protoreflect.FloatKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32), nil
	case protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), nil
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes()), nil
	}
	return "", fmt.Errorf("%s is a %v, which a URL cannot carry", fd.FullName(), fd.Kind())
}

// addQuery adds m's set fields, less the body field and the path's, to q.
// prefix is the query name of m's fields, protoPrefix their proto path.
func addQuery(q url.Values, m protoreflect.Message, prefix, protoPrefix, body string, inPath map[string]bool) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		protoPath := protoPrefix + string(fd.Name())
		if inPath[protoPath] || (protoPrefix == "" && string(fd.Name()) == body) {
			return true
		}
		name := prefix + fd.JSONName()
		switch {
		case fd.IsMap():
			err = fmt.Errorf("testenv: %s is a map, which the query cannot carry", fd.FullName())
		case fd.Message() != nil && !queryScalarMessage(fd.Message()):
			if fd.IsList() {
				err = fmt.Errorf("testenv: %s is a list of messages, which the query cannot carry", fd.FullName())
				break
			}
			err = addQuery(q, v.Message(), name+".", protoPath+".", body, inPath)
		case fd.IsList():
			for i := 0; i < v.List().Len() && err == nil; i++ {
				var s string
				if s, err = queryString(fd, v.List().Get(i)); err == nil {
					q.Add(name, s)
				}
			}
		default:
			var s string
			if s, err = queryString(fd, v); err == nil {
				q.Add(name, s)
			}
		}
		return err == nil
	})
	return err
}

// queryScalarMessage reports whether grpc-gateway reads a message of this
// type from one query parameter.
func queryScalarMessage(md protoreflect.MessageDescriptor) bool {
	switch md.FullName() {
	case "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
		"google.protobuf.DoubleValue", "google.protobuf.FloatValue", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue":
		return true
	}
	return false
}

// queryString writes one value as grpc-gateway reads it from a query.
func queryString(fd protoreflect.FieldDescriptor, v protoreflect.Value) (string, error) {
	if fd.Message() == nil {
		return scalarString(fd, v)
	}
	msg := v.Message()
	switch msg.Descriptor().FullName() {
	case "google.protobuf.FieldMask":
		// Paths as they are: grpc-gateway does not convert them.
		paths := msg.Get(msg.Descriptor().Fields().ByName("paths")).List()
		var out []string
		for i := 0; i < paths.Len(); i++ {
			out = append(out, paths.Get(i).String())
		}
		return strings.Join(out, ","), nil
	case "google.protobuf.Timestamp", "google.protobuf.Duration":
		b, err := protojson.Marshal(msg.Interface())
		if err != nil {
			return "", fmt.Errorf("testenv: %s: %w", fd.FullName(), err)
		}
		return strconv.Unquote(string(b))
	default: // a wrapper
		inner := msg.Descriptor().Fields().ByName("value")
		return scalarString(inner, msg.Get(inner))
	}
}

// marshalBody writes m as JSON, less the fields in the path (protoPrefix
// is m's path in the request), with any string that is not UTF-8 written
// as its bytes.
func marshalBody(m protoreflect.Message, protoPrefix string, inPath map[string]bool) ([]byte, error) {
	clone := proto.Clone(m.Interface()).ProtoReflect()
	for p := range inPath {
		if rest, ok := strings.CutPrefix(p, protoPrefix); ok {
			clearPath(clone, rest)
		}
	}
	raw := map[string]string{}
	replaceInvalid(clone, raw)
	b, err := protojson.Marshal(clone.Interface())
	if err != nil {
		return nil, fmt.Errorf("testenv: marshal the body: %w", err)
	}
	for placeholder, value := range raw {
		quoted := []byte(`"` + placeholder + `"`)
		if bytes.Count(b, quoted) != 1 {
			return nil, fmt.Errorf("testenv: the placeholder for an invalid string was not written once")
		}
		b = bytes.Replace(b, quoted, rawJSONString(value), 1)
	}
	return b, nil
}

// clearPath clears the field at a dotted proto path, if it is set.
func clearPath(m protoreflect.Message, path string) {
	name, rest, nested := strings.Cut(path, ".")
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	switch {
	case fd == nil || !m.Has(fd):
	case !nested:
		m.Clear(fd)
	case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
		clearPath(m.Mutable(fd).Message(), rest)
	}
}

// placeholderPrefix starts the stand-ins for invalid strings while the body
// is marshalled; nothing a test sends is likely to hold it.
const placeholderPrefix = "testenv-invalid-utf8-7c1d9f3b-"

// replaceInvalid replaces every string in m that is not valid UTF-8 (map
// keys too) with a placeholder, and records what each stands for.
func replaceInvalid(m protoreflect.Message, raw map[string]string) {
	placeholder := func(s string) string {
		p := placeholderPrefix + strconv.Itoa(len(raw))
		raw[p] = s
		return p
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			list := v.List()
			for i := 0; i < list.Len(); i++ {
				switch {
				case fd.Message() != nil:
					replaceInvalid(list.Get(i).Message(), raw)
				case fd.Kind() == protoreflect.StringKind && !utf8.ValidString(list.Get(i).String()):
					list.Set(i, protoreflect.ValueOfString(placeholder(list.Get(i).String())))
				}
			}
		case fd.IsMap():
			mp := v.Map()
			type entry struct {
				k protoreflect.MapKey
				v protoreflect.Value
			}
			var renamed []entry
			mp.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				switch {
				case fd.MapValue().Message() != nil:
					replaceInvalid(mv.Message(), raw)
				case fd.MapValue().Kind() == protoreflect.StringKind && !utf8.ValidString(mv.String()):
					mp.Set(k, protoreflect.ValueOfString(placeholder(mv.String())))
				}
				if fd.MapKey().Kind() == protoreflect.StringKind && !utf8.ValidString(k.String()) {
					renamed = append(renamed, entry{k, mp.Get(k)})
				}
				return true
			})
			for _, e := range renamed {
				mp.Clear(e.k)
				mp.Set(protoreflect.ValueOfString(placeholder(e.k.String())).MapKey(), e.v)
			}
		case fd.Message() != nil:
			replaceInvalid(v.Message(), raw)
		case fd.Kind() == protoreflect.StringKind && !utf8.ValidString(v.String()):
			m.Set(fd, protoreflect.ValueOfString(placeholder(v.String())))
		}
		return true
	})
}

// rawJSONString writes s as a JSON string with its bytes as they are,
// escaping only what JSON requires: quotes, backslashes and control
// characters.
func rawJSONString(s string) []byte {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c < 0x20:
			out = fmt.Appendf(out, `\u%04x`, c)
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
