package httpapi

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// route is one REST binding of an RPC: its google.api.http rule or one of
// the rule's additional_bindings, as the services' linked descriptors
// declare it. The gateway finds the route of a request itself, as the
// grpc-gateway mux will, to know what its body may hold before the mux reads
// it.
type route struct {
	// method is the HTTP method, "POST".
	method string
	// template is the path template as the contract writes it,
	// "/v1/{parent=groups/*}/concerns".
	template string
	segments []segment
	verb     string
	// rpc is the method the route calls.
	rpc protoreflect.MethodDescriptor
	// body is the rule's body: "" (none), "*" (the whole request less the
	// path's fields) or the name of the request field the body fills.
	body string
	// bodyField is that field when body names one.
	bodyField protoreflect.FieldDescriptor
	// pathFields are the request's top-level fields that a path variable
	// fills ("group" for {group.name=groups/*}).
	pathFields map[protoreflect.Name]bool
	// pathVars are the field paths the path variables fill, as the
	// template writes them ("group.name" for {group.name=groups/*}).
	pathVars map[string]bool
	// maxBody is the largest body a valid request can have on this route,
	// in bytes (see bodyBound).
	maxBody int64
}

func (r *route) String() string { return r.method + " " + r.template }

// segmentKind is what one segment of a path template matches.
type segmentKind int

const (
	literalSegment  segmentKind = iota // the literal itself
	wildcardSegment                    // "*": any one segment
	deepWildcard                       // "**": the rest of the path, less the segments after it
)

type segment struct {
	kind    segmentKind
	literal string
}

// parseTemplate parses a google.api.http path template:
//
//	Template = "/" Segments [ ":" Verb ]
//	Segments = Segment { "/" Segment }
//	Segment  = "*" | "**" | LITERAL | Variable
//	Variable = "{" FieldPath [ "=" Segments ] "}"
//
// It returns the segments with the variables flattened into what they match,
// the variables' field paths and the verb.
func parseTemplate(template string) (segs []segment, vars []string, verb string, err error) {
	p := templateParser{s: template}
	if !strings.HasPrefix(template, "/") {
		return nil, nil, "", fmt.Errorf("path template %q does not start with /", template)
	}
	p.i = 1
	if segs, vars, err = p.segments(false); err != nil {
		return nil, nil, "", fmt.Errorf("path template %q: %w", template, err)
	}
	if p.i < len(p.s) {
		if p.s[p.i] != ':' || p.i+1 == len(p.s) {
			return nil, nil, "", fmt.Errorf("path template %q: unexpected %q at %d", template, p.s[p.i], p.i)
		}
		verb = p.s[p.i+1:]
	}
	return segs, vars, verb, nil
}

type templateParser struct {
	s string
	i int
}

func (p *templateParser) segments(inVariable bool) ([]segment, []string, error) {
	var segs []segment
	var vars []string
	for {
		switch {
		case strings.HasPrefix(p.s[p.i:], "**"):
			segs, p.i = append(segs, segment{kind: deepWildcard}), p.i+2
		case strings.HasPrefix(p.s[p.i:], "*"):
			segs, p.i = append(segs, segment{kind: wildcardSegment}), p.i+1
		case strings.HasPrefix(p.s[p.i:], "{"):
			if inVariable {
				return nil, nil, fmt.Errorf("a variable inside a variable at %d", p.i)
			}
			end := strings.IndexAny(p.s[p.i:], "=}")
			if end < 0 {
				return nil, nil, fmt.Errorf("unterminated variable at %d", p.i)
			}
			field := p.s[p.i+1 : p.i+end]
			if field == "" {
				return nil, nil, fmt.Errorf("a variable without a field at %d", p.i)
			}
			p.i += end
			inner := []segment{{kind: wildcardSegment}}
			if p.s[p.i] == '=' {
				p.i++
				var err error
				if inner, _, err = p.segments(true); err != nil {
					return nil, nil, err
				}
			}
			if p.i >= len(p.s) || p.s[p.i] != '}' {
				return nil, nil, fmt.Errorf("unterminated variable %q", field)
			}
			p.i++
			segs, vars = append(segs, inner...), append(vars, field)
		default:
			end := strings.IndexAny(p.s[p.i:], "/{}:*=")
			if end < 0 {
				end = len(p.s) - p.i
			}
			if end == 0 {
				return nil, nil, fmt.Errorf("an empty segment at %d", p.i)
			}
			segs = append(segs, segment{kind: literalSegment, literal: p.s[p.i : p.i+end]})
			p.i += end
		}
		if p.i < len(p.s) && p.s[p.i] == '/' {
			p.i++
			continue
		}
		return segs, vars, nil
	}
}

// matches reports whether the route takes a request for the path's
// components, as grpc-gateway's mux decides it (in its default, legacy
// unescaping mode: components are the already unescaped URL path split at
// each slash).
func (r *route) matches(components []string) bool {
	if r.verb != "" {
		last := components[len(components)-1]
		idx := len(last) - len(r.verb) - 1
		if !strings.HasSuffix(last, ":"+r.verb) || idx <= 0 {
			return false
		}
		components = append(slices.Clone(components[:len(components)-1]), last[:idx])
	}
	pos := 0
	for i, s := range r.segments {
		switch s.kind {
		case literalSegment:
			if pos >= len(components) || components[pos] != s.literal {
				return false
			}
			pos++
		case wildcardSegment:
			if pos >= len(components) {
				return false
			}
			pos++
		case deepWildcard:
			tail := len(r.segments) - i - 1
			if len(components) < pos+tail {
				return false
			}
			pos = len(components) - tail
		}
	}
	return pos == len(components)
}

// routeTable holds every REST route of the services behind the gateway, in
// the order the mux tries them: the mux puts each route it is given before
// those it already has, so the last registered is tried first.
type routeTable struct {
	routes []*route
}

// newRouteTable reads the routes of the named gRPC services from the linked
// descriptors, in the order their Register…Handler functions give them to
// the mux (the services in order, each service's methods in the order of its
// proto file, each rule before its additional bindings), and computes each
// route's largest valid body.
func newRouteTable(services []string) (*routeTable, error) {
	var registered []*route
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("service %s is not linked into the gateway: %w", name, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("%s is not a service", name)
		}
		for i := 0; i < sd.Methods().Len(); i++ {
			md := sd.Methods().Get(i)
			rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
			if rule == nil {
				continue
			}
			for _, binding := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
				r, err := newRoute(md, binding)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", md.FullName(), err)
				}
				registered = append(registered, r)
			}
		}
	}
	slices.Reverse(registered)
	return &routeTable{routes: registered}, nil
}

func newRoute(md protoreflect.MethodDescriptor, rule *annotations.HttpRule) (*route, error) {
	r := &route{rpc: md, body: rule.GetBody(), pathFields: map[protoreflect.Name]bool{}, pathVars: map[string]bool{}}
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		r.method, r.template = "GET", p.Get
	case *annotations.HttpRule_Put:
		r.method, r.template = "PUT", p.Put
	case *annotations.HttpRule_Post:
		r.method, r.template = "POST", p.Post
	case *annotations.HttpRule_Delete:
		r.method, r.template = "DELETE", p.Delete
	case *annotations.HttpRule_Patch:
		r.method, r.template = "PATCH", p.Patch
	case *annotations.HttpRule_Custom:
		r.method, r.template = p.Custom.GetKind(), p.Custom.GetPath()
	default:
		return nil, fmt.Errorf("an HTTP rule without a pattern")
	}
	segs, vars, verb, err := parseTemplate(r.template)
	if err != nil {
		return nil, err
	}
	r.segments, r.verb = segs, verb
	for _, v := range vars {
		r.pathVars[v] = true
		top, _, _ := strings.Cut(v, ".")
		r.pathFields[protoreflect.Name(top)] = true
	}
	if r.body != "" && r.body != "*" {
		if r.bodyField = md.Input().Fields().ByName(protoreflect.Name(r.body)); r.bodyField == nil {
			return nil, fmt.Errorf("%s: the body names %q, which %s does not have", r, r.body, md.Input().FullName())
		}
	}
	if r.maxBody, err = bodyBound(r); err != nil {
		return nil, fmt.Errorf("%s: %w", r, err)
	}
	return r, nil
}

// match returns the route the mux will give a request, or nil when none
// takes it (the mux then answers 404 or 405).
func (t *routeTable) match(method, path string) *route {
	if !strings.HasPrefix(path, "/") {
		return nil
	}
	components := strings.Split(path[1:], "/")
	for _, r := range t.routes {
		if r.method == method && r.matches(components) {
			return r
		}
	}
	return nil
}

// largest returns the route with the largest body bound, nil when there
// are none.
func (t *routeTable) largest() *route {
	var out *route
	for _, r := range t.routes {
		if out == nil || r.maxBody > out.maxBody {
			out = r
		}
	}
	return out
}
