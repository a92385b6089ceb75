package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/contact"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/testenv"
	annotationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/annotations/v1"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	federationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	operationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The services behind the gateway, by the backend that serves them. Every
// backend serves the operations service too, for itself.
var contractBackends = map[string][]protoreflect.ServiceDescriptor{
	"directory":    {directoryv1.File_ipn_disputes_directory_v1_directory_proto.Services().Get(0), operationsService},
	"intake":       {intakev1.File_ipn_disputes_intake_v1_intake_proto.Services().Get(0), operationsService},
	"casework":     {caseworkv1.File_ipn_disputes_casework_v1_casework_proto.Services().Get(0), operationsService},
	"notification": {notificationv1.File_ipn_disputes_notification_v1_notification_proto.Services().Get(0), federationv1.File_ipn_disputes_federation_v1_federation_proto.Services().Get(0), operationsService},
}

// operationsService is ParkedEventService, which every service serves.
var operationsService = operationsv1.File_ipn_disputes_operations_v1_operations_proto.Services().Get(0)

// callers are the principals the stand-ins' Authenticator knows: the
// bearer secret "caller-<i>" is callers[i].
var callers = []auth.Principal{
	{Kind: auth.Member, Member: "groups/g/members/m", Group: "groups/g"},
	{Kind: auth.Member, Member: "groups/g/members/a", Group: "groups/g", GroupAdmin: true},
	{Kind: auth.Client, Concern: "groups/g/concerns/c", Group: "groups/g"},
	{Kind: auth.LinkGroup, LinkGroup: "groups/g/linkGroups/l", Group: "groups/g"},
	{Kind: auth.Operator},
	{Kind: auth.Peer, Peer: "peer"},
	{Kind: auth.Service, Service: "directory"},
	{Kind: auth.Service, Service: "intake"},
	{Kind: auth.Service, Service: "casework"},
	{Kind: auth.Service, Service: "notification"},
}

type callerTable struct{}

func (callerTable) Authenticate(_ context.Context, secret string) (auth.Principal, error) {
	if i, err := strconv.Atoi(strings.TrimPrefix(secret, "caller-")); err == nil && strings.HasPrefix(secret, "caller-") && i < len(callers) {
		return callers[i], nil
	}
	return auth.Principal{}, auth.ErrUnauthenticated()
}

// authorization is the header that makes a caller the method's callers
// declaration admits; empty for a method open to anonymous callers.
func authorization(t testing.TB, md protoreflect.MethodDescriptor) string {
	t.Helper()
	full := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	c, ok := grpcserver.DeclaredCallers(full)
	if !ok {
		t.Fatalf("%s declares no callers", full)
	}
	if c.GetAnonymous() {
		return ""
	}
	for i, p := range callers {
		if grpcserver.Admits(c, p) {
			return "Bearer caller-" + strconv.Itoa(i)
		}
	}
	t.Fatalf("no test caller is admitted to %s", full)
	return ""
}

// emptyService answers every method of sd with an empty response of its
// type, once the platform's interceptors have let the request through.
func emptyService(t testing.TB, sd protoreflect.ServiceDescriptor) *grpc.ServiceDesc {
	t.Helper()
	desc := &grpc.ServiceDesc{ServiceName: string(sd.FullName()), HandlerType: (*any)(nil), Metadata: sd.ParentFile().Path()}
	for i := 0; i < sd.Methods().Len(); i++ {
		md := sd.Methods().Get(i)
		if md.IsStreamingClient() || md.IsStreamingServer() {
			t.Fatalf("%s streams; the stand-in answers unary methods only", md.FullName())
		}
		in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		if err != nil {
			t.Fatal(err)
		}
		out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
		if err != nil {
			t.Fatal(err)
		}
		full := "/" + string(sd.FullName()) + "/" + string(md.Name())
		desc.Methods = append(desc.Methods, grpc.MethodDesc{
			MethodName: string(md.Name()),
			Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
				req := in.New().Interface()
				if err := dec(req); err != nil {
					return nil, err
				}
				answer := func(context.Context, any) (any, error) { return out.New().Interface(), nil }
				return interceptor(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, answer)
			},
		})
	}
	return desc
}

// startContractSystem runs the gateway in front of stand-ins of the four
// services that are the platform's own gRPC server (grpcserver.New, with
// its callers gate, text rule and annotation checks) answering every call
// that passes them with an empty response. It returns the gateway's URL.
func startContractSystem(t testing.TB) string {
	t.Helper()
	addrs := map[string]string{}
	for name, services := range contractBackends {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := grpcserver.New(grpcserver.Options{Name: name, Logger: slog.New(slog.DiscardHandler), Authenticator: callerTable{}})
		for _, sd := range services {
			srv.Registrar().RegisterService(emptyService(t, sd), struct{}{})
		}
		addrs[name] = lis.Addr().String()
		testenv.RunService(t, name, addrs[name], func(ctx context.Context) error { return srv.ServeListener(ctx, lis) })
	}
	cfg := defaults(t)
	cfg.DirectoryAddr, cfg.IntakeAddr, cfg.CaseworkAddr, cfg.NotificationAddr = addrs["directory"], addrs["intake"], addrs["casework"], addrs["notification"]
	url, _, _ := startGateway(t, cfg)
	return url
}

// restMethods lists every method of the services behind the gateway that
// has a REST route, each once.
func restMethods() []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	seen := map[protoreflect.FullName]bool{}
	for _, backend := range []string{"directory", "intake", "casework", "notification"} {
		for _, sd := range contractBackends[backend] {
			for i := 0; i < sd.Methods().Len(); i++ {
				if md := sd.Methods().Get(i); testenv.HTTPRules(md) != nil && !seen[md.FullName()] {
					seen[md.FullName()] = true
					out = append(out, md)
				}
			}
		}
	}
	return out
}

// step is one field on the way from a request to a string in it; index is
// the item of a list (always the first).
type step struct {
	fd    protoreflect.FieldDescriptor
	index int
}

// textField is a string field a caller sends, somewhere in a request.
type textField struct {
	steps []step
	// name is its path as field violations give it:
	// statement_answer.constraints.withheld_details[0].
	name string
	// protoPath is name without indexes, as path templates write it.
	protoPath string
	// jsonName is its path as field violations over REST give it: in JSON
	// names, inside the body when the body is one field of the request
	// (withheldDetails[0] for TakeStep's statement_answer…), whole for a
	// field in the URL path, a query parameter's JSON name.
	jsonName string
	// where it travels: "path", "query" or "body".
	where string
	// pathSegments are the segments its path variable matches, for a path
	// field: "groups", "*".
	pathSegments []string
}

func (f textField) leaf() protoreflect.FieldDescriptor { return f.steps[len(f.steps)-1].fd }

var pathVariable = regexp.MustCompile(`\{([^}=]+)(?:=([^}]*))?\}`)

// textFields lists every string field of md's request that a caller sends
// (all but the output-only ones), however deeply nested, with where the
// route carries it.
func textFields(md protoreflect.MethodDescriptor, rule *annotations.HttpRule) []textField {
	template := map[string][]string{}
	for _, m := range pathVariable.FindAllStringSubmatch(ruleTemplate(rule), -1) {
		segs := m[2]
		if segs == "" {
			segs = "*"
		}
		template[m[1]] = strings.Split(segs, "/")
	}
	var out []textField
	var walk func(m protoreflect.MessageDescriptor, steps []step, name, protoPath, jsonName string, seen map[protoreflect.FullName]bool)
	walk = func(m protoreflect.MessageDescriptor, steps []step, name, protoPath, jsonName string, seen map[protoreflect.FullName]bool) {
		if seen[m.FullName()] || strings.HasPrefix(string(m.FullName()), "google.protobuf.") {
			return
		}
		seen[m.FullName()] = true
		defer delete(seen, m.FullName())
		for i := 0; i < m.Fields().Len(); i++ {
			fd := m.Fields().Get(i)
			if grpcserver.DeclaredField(fd).OutputOnly || fd.IsMap() {
				continue
			}
			s := append(append([]step(nil), steps...), step{fd: fd})
			n, p, j := name+string(fd.Name()), protoPath+string(fd.Name()), jsonName+fd.JSONName()
			if fd.IsList() {
				n += "[0]"
				j += "[0]"
			}
			switch fd.Kind() {
			case protoreflect.StringKind:
				f := textField{steps: s, name: n, protoPath: p, jsonName: j, pathSegments: template[p]}
				top := string(s[0].fd.Name())
				switch {
				case f.pathSegments != nil:
					f.where = "path"
				case rule.GetBody() == "*":
					f.where = "body"
				case rule.GetBody() == top:
					f.where = "body"
					_, f.jsonName, _ = strings.Cut(j, ".")
				default:
					f.where = "query"
				}
				out = append(out, f)
			case protoreflect.MessageKind:
				walk(fd.Message(), s, n+".", p+".", j+".", seen)
			}
		}
	}
	walk(md.Input(), nil, "", "", "", map[protoreflect.FullName]bool{})
	return out
}

func ruleTemplate(rule *annotations.HttpRule) string {
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return p.Get
	case *annotations.HttpRule_Put:
		return p.Put
	case *annotations.HttpRule_Post:
		return p.Post
	case *annotations.HttpRule_Delete:
		return p.Delete
	case *annotations.HttpRule_Patch:
		return p.Patch
	case *annotations.HttpRule_Custom:
		return p.Custom.GetPath()
	}
	return ""
}

// nameSegments are the segments of the resource names a field holds: those
// of its path variable, or of the resource its resource_reference names (a
// child_type's parent); nil for a field that holds no name.
func nameSegments(f textField) []string {
	if f.pathSegments != nil {
		return f.pathSegments
	}
	ref, _ := proto.GetExtension(f.leaf().Options(), annotations.E_ResourceReference).(*annotations.ResourceReference)
	if ref == nil {
		return nil
	}
	typ, child := ref.GetType(), ref.GetChildType() != ""
	if child {
		typ = ref.GetChildType()
	}
	pattern := resourcePattern(typ)
	if pattern == "" {
		return nil
	}
	segs := strings.Split(pattern, "/")
	if child {
		segs = segs[:len(segs)-2]
	}
	return segs
}

// resourcePattern is the first pattern of a resource type declared in the
// linked protos.
func resourcePattern(typ string) string {
	var out string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		var visit func(protoreflect.MessageDescriptors)
		visit = func(msgs protoreflect.MessageDescriptors) {
			for i := 0; i < msgs.Len() && out == ""; i++ {
				if rd, _ := proto.GetExtension(msgs.Get(i).Options(), annotations.E_Resource).(*annotations.ResourceDescriptor); rd.GetType() == typ && len(rd.GetPattern()) > 0 {
					out = rd.GetPattern()[0]
				}
				visit(msgs.Get(i).Messages())
			}
		}
		visit(fd.Messages())
		return out == ""
	})
	return out
}

// resourceName fills a name's variable segments with ids: the last one is
// last, the others "a".
func resourceName(segs []string, last string) string {
	out := make([]string, len(segs))
	vars := 0
	for i, s := range segs {
		if s == "*" || strings.HasPrefix(s, "{") {
			vars++
		}
		out[i] = s
	}
	seen := 0
	for i, s := range segs {
		if s == "*" || strings.HasPrefix(s, "{") {
			seen++
			out[i] = "a"
			if seen == vars {
				out[i] = last
			}
		}
	}
	return strings.Join(out, "/")
}

// namingService puts a service behind the gateway in the first id of a
// name under services/.
func namingService(name string) string {
	parts := strings.SplitN(name, "/", 3)
	parts[1] = "casework"
	return strings.Join(parts, "/")
}

// nameOfLength is a name of exactly n characters: ids of up to 63
// characters (the longest a resource id may be), the rest in the last id
// (and so no longer a valid id) when n is more than a valid name can take.
func nameOfLength(segs []string, n int) string {
	fixed, vars := 0, 0
	for _, s := range segs {
		if s == "*" || strings.HasPrefix(s, "{") {
			vars++
		} else {
			fixed += len(s)
		}
	}
	fixed += len(segs) - 1 // slashes
	ids := make([]int, vars)
	room := n - fixed
	for i := range ids {
		ids[i] = 1
		room--
	}
	for i := range ids {
		add := min(62, room)
		ids[i] += add
		room -= add
	}
	ids[len(ids)-1] += room
	out := make([]string, len(segs))
	v := 0
	for i, s := range segs {
		out[i] = s
		if s == "*" || strings.HasPrefix(s, "{") {
			out[i] = strings.Repeat("a", ids[v])
			v++
		}
	}
	return strings.Join(out, "/")
}

// namePattern matches the valid names of segs.
func namePattern(segs []string) *regexp.Regexp {
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = regexp.QuoteMeta(s)
		if s == "*" || strings.HasPrefix(s, "{") {
			parts[i] = grpcserver.IDPattern
		}
	}
	return regexp.MustCompile("^" + strings.Join(parts, "/") + "$")
}

// validNameLength is the length of the longest valid name of segs within
// max characters.
func validNameLength(segs []string, max int) int {
	n := len(segs) - 1
	for _, s := range segs {
		if s == "*" || strings.HasPrefix(s, "{") {
			n += 63
		} else {
			n += len(s)
		}
	}
	return min(n, max)
}

// emailOfLength is a valid e-mail address of n characters (n from 11 to
// 254): a local part of up to 64, then a domain of labels of up to 63.
func emailOfLength(n int) string {
	local := min(64, n-10)
	domain := "example"
	for rest := n - local - 1 - len(domain); rest > 0; {
		label := min(63, rest-1)
		domain = strings.Repeat("b", label) + "." + domain
		rest -= label + 1
	}
	return strings.Repeat("a", local) + "@" + domain
}

// phoneOfLength is a valid telephone number of n characters (13 to 40).
func phoneOfLength(n int) string {
	return strings.Repeat("1-", n/2) + strings.Repeat("1", n%2)
}

// values are what the bad-text test sends in one field.
type fieldValues struct {
	short   string // a short valid value
	longest string // the longest valid value
	oneMore string // one character more than max_length
	// bad returns short with s put inside it where the value's form
	// allows (inside an id of a name, so the path still routes).
	bad func(s string) string
}

func valuesFor(t *testing.T, f textField) fieldValues {
	t.Helper()
	max := int(grpcserver.DeclaredField(f.leaf()).MaxLength)
	if max == 0 {
		t.Fatalf("%s declares no max_length", f.leaf().FullName())
	}
	format := grpcserver.DeclaredField(f.leaf()).Text.GetFormat()
	switch segs := nameSegments(f); {
	case segs != nil:
		longest := nameOfLength(segs, validNameLength(segs, max))
		if !namePattern(segs).MatchString(longest) {
			t.Fatalf("%s: the longest name %q does not fit %v", f.name, longest, segs)
		}
		v := fieldValues{short: resourceName(segs, "a"), longest: longest, oneMore: nameOfLength(segs, max+1),
			bad: func(s string) string { return resourceName(segs, "a"+s+"b") }}
		if segs[0] == "services" {
			// The gateway routes services/{service}/… by the service's
			// name: a valid name names one behind it.
			v.short, v.longest = namingService(v.short), namingService(v.longest)
		}
		return v
	case format == annotationsv1.TextFormat_TEXT_FORMAT_EMAIL:
		longest := emailOfLength(min(max, contact.MaxEmailLength))
		if !contact.ValidEmail(longest) || !contact.ValidEmail("a@b.example") {
			t.Fatalf("%s: %q is not a valid e-mail address", f.name, longest)
		}
		return fieldValues{short: "a@b.example", longest: longest, oneMore: emailOfLength(max) + "a",
			bad: func(s string) string { return "a" + s + "@b.example" }}
	case format == annotationsv1.TextFormat_TEXT_FORMAT_PHONE:
		longest := phoneOfLength(min(max, 2*contact.MaxPhoneDigits))
		if !contact.ValidPhone(longest) || !contact.ValidPhone("01234 567890") {
			t.Fatalf("%s: %q is not a valid telephone number", f.name, longest)
		}
		return fieldValues{short: "01234 567890", longest: longest, oneMore: strings.Repeat("1", max+1),
			bad: func(s string) string { return "01234" + s + "567890" }}
	default:
		return fieldValues{short: "x", longest: strings.Repeat("😀", max), oneMore: strings.Repeat("😀", max) + "a",
			bad: func(s string) string { return "x" + s + "y" }}
	}
}

// set puts value into the string field at f, creating what leads to it.
func set(m protoreflect.Message, f textField, value string) {
	for i, s := range f.steps {
		last := i == len(f.steps)-1
		if s.fd.IsList() {
			list := m.Mutable(s.fd).List()
			for list.Len() <= s.index {
				list.Append(list.NewElement())
			}
			if last {
				list.Set(s.index, protoreflect.ValueOfString(value))
				return
			}
			m = list.Get(s.index).Message()
			continue
		}
		if last {
			m.Set(s.fd, protoreflect.ValueOfString(value))
			return
		}
		m = m.Mutable(s.fd).Message()
	}
}

// fillRequired sets every REQUIRED field of m and of the messages set in
// it that is not set yet, with a short valid value.
func fillRequired(t *testing.T, m protoreflect.Message, rule *annotations.HttpRule) {
	t.Helper()
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if grpcserver.DeclaredField(fd).Required && !m.Has(fd) {
			switch {
			case fd.IsList() || fd.IsMap():
				t.Fatalf("%s: a required list; fill it here", fd.FullName())
			case fd.Kind() == protoreflect.StringKind:
				m.Set(fd, protoreflect.ValueOfString(valuesFor(t, textField{steps: []step{{fd: fd}}}).short))
			case fd.Kind() == protoreflect.EnumKind:
				m.Set(fd, protoreflect.ValueOfEnum(fd.Enum().Values().Get(1).Number()))
			case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Timestamp":
				m.Set(fd, protoreflect.ValueOfMessage(timestamppb.New(registerTime).ProtoReflect()))
			case fd.Message() != nil:
				m.Mutable(fd)
			case fd.Kind() == protoreflect.BoolKind:
				m.Set(fd, protoreflect.ValueOfBool(true))
			default:
				t.Fatalf("%s: a required %v; fill it here", fd.FullName(), fd.Kind())
			}
		}
		if fd.Message() != nil && m.Has(fd) && !fd.IsMap() && !strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.") {
			if fd.IsList() {
				for j := 0; j < m.Get(fd).List().Len(); j++ {
					fillRequired(t, m.Get(fd).List().Get(j).Message(), rule)
				}
			} else {
				fillRequired(t, m.Mutable(fd).Message(), rule)
			}
		}
	}
}

// validRequest is md's request with its path variables and required fields
// filled with short valid values.
func validRequest(t *testing.T, md protoreflect.MethodDescriptor, rule *annotations.HttpRule) protoreflect.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		t.Fatal(err)
	}
	m := mt.New()
	for _, f := range textFields(md, rule) {
		if f.where == "path" {
			set(m, f, valuesFor(t, f).short)
		}
	}
	fillRequired(t, m, rule)
	return m
}

// restAnswer is what the gateway answered.
type restAnswer struct {
	status     int
	reason     string
	violations map[string]string
	body       string
}

func send(t *testing.T, baseURL string, md protoreflect.MethodDescriptor, rule *annotations.HttpRule, req proto.Message) restAnswer {
	t.Helper()
	call, err := testenv.RESTFor(rule, req)
	if err != nil {
		t.Fatal(err)
	}
	r, err := call.NewRequest(context.Background(), baseURL)
	if err != nil {
		t.Fatal(err)
	}
	if a := authorization(t, md); a != "" {
		r.Header.Set("Authorization", a)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", call.Method, call.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := restAnswer{status: resp.StatusCode, violations: map[string]string{}, body: string(b)}
	var e errorBody
	if resp.StatusCode >= 400 && json.Unmarshal(b, &e) == nil {
		if info := e.detail("google.rpc.ErrorInfo"); info != nil {
			out.reason = fmt.Sprint(info["reason"])
		}
		if br := e.detail("google.rpc.BadRequest"); br != nil {
			vs, _ := br["fieldViolations"].([]any)
			for _, v := range vs {
				v := v.(map[string]any)
				out.violations[fmt.Sprint(v["field"])] = fmt.Sprint(v["description"])
			}
		}
	}
	return out
}

// TestBadTextOverREST sends, for every string field of every RPC with a REST
// route (found from the descriptors, so a new field is covered without
// editing this test), NUL, another control character, a line break (allowed
// in a multi-line field only), invalid UTF-8 (in the body, the path segment
// or the query parameter, wherever the field travels), the longest valid
// value and one character more, through the gateway to stand-ins that run
// the platform's real gRPC server. Each bad value is 400 with a field
// violation naming the field as the client's JSON spells it, each valid one
// 2xx, and nothing 5xx.
func TestBadTextOverREST(t *testing.T) {
	t.Parallel()
	url := startContractSystem(t)
	methods := restMethods()
	if len(methods) < 40 {
		t.Fatalf("only %d methods with a REST route", len(methods))
	}
	fields := 0
	for _, md := range methods {
		rule := testenv.HTTPRules(md)[0]
		textOf := textFields(md, rule)
		fields += len(textOf)
		t.Run(string(md.Name()), func(t *testing.T) {
			t.Parallel()
			base := validRequest(t, md, rule)
			if a := send(t, url, md, rule, base.Interface()); a.status/100 != 2 {
				t.Fatalf("the valid request: %d %s", a.status, a.body)
			}
			for _, f := range textOf {
				v := valuesFor(t, f)
				multiline := grpcserver.DeclaredField(f.leaf()).Text.GetMultiline()
				cases := []struct {
					name, value string
					valid       bool
				}{
					{"NUL", v.bad("\x00"), false},
					{"an escape character", v.bad("\x1b"), false},
					{"a line break", v.bad("\n"), multiline},
					{"invalid UTF-8", v.bad("\xff\xfe"), false},
					{"the longest valid value", v.longest, true},
					{"one character more", v.oneMore, false},
				}
				for _, c := range cases {
					req := proto.Clone(base.Interface()).ProtoReflect()
					set(req, f, c.value)
					fillRequired(t, req, rule)
					a := send(t, url, md, rule, req.Interface())
					switch {
					case a.status >= 500:
						t.Errorf("%s in %s (%s): %d %s", c.name, f.name, f.where, a.status, a.body)
					case c.valid && a.status/100 != 2:
						t.Errorf("%s in %s (%s): %d, want 2xx: %s", c.name, f.name, f.where, a.status, a.body)
					case !c.valid && (a.status != http.StatusBadRequest || a.reason != "INVALID_FIELDS" || a.violations[f.jsonName] == ""):
						t.Errorf("%s in %s (%s): %d %s, want 400 INVALID_FIELDS naming %s", c.name, f.name, f.where, a.status, a.body, f.jsonName)
					}
				}
			}
		})
	}
	if fields < 100 {
		t.Errorf("only %d string fields", fields)
	}
	t.Logf("%d string fields of %d methods", fields, len(methods))
}

// FuzzConcernFormBody sends whatever body to CreateConcern through the
// gateway, in front of the platform's real gRPC server: no body gets a 5xx.
func FuzzConcernFormBody(f *testing.F) {
	for _, seed := range []string{
		`{"practitioner": "groups/g/members/m", "description": "Sessions ended early.", "clientName": "Sam", "clientContact": {"email": "sam@client.example.net"}}`,
		`{"practitioner": "groups/g/members/m", "description": "a\u0000b", "clientName": "S\ud83d\ude00m", "clientContact": {"phone": "01234 567890"}}`,
		`{"description": "\ud83d", "client_name": "x\u001by"}`,
		"{\"description\": \"\xff\xfe\", \"bogus\": {\"x\": [1, 2]}}",
		`{"requestId": "r", "concern": {}, "parent": "groups/g"}`,
		`{"name": "groups/g/concerns/c", "reference": "K7QM-3XRD", "createTime": "2026-03-02T09:30:00Z", "accessCodeShownBefore": true}`,
		`{"createTime": "not a time", "clientContact": null}`,
		`{"practitioner": 5, "clientContact": "x"}`,
		`[]`, `null`, `"x"`, ``, `{`, `{"a":1} {}`, "{\"description\": \"" + strings.Repeat("😀", 20001) + "\"}",
	} {
		f.Add(seed)
	}
	url := startContractSystem(f)
	f.Fuzz(func(t *testing.T, body string) {
		resp, err := http.Post(url+"/v1/groups/g/concerns", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 500 {
			t.Fatalf("%d for %q: %s", resp.StatusCode, body, b)
		}
	})
}
