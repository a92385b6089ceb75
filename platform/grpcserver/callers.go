package grpcserver

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	annotationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/annotations/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// infrastructure lists the methods every server answers for anyone: health
// checks, which load balancers and orchestrators make without credentials.
var infrastructure = map[string]bool{
	"/grpc.health.v1.Health/Check": true,
	"/grpc.health.v1.Health/List":  true,
	"/grpc.health.v1.Health/Watch": true,
}

// reflectionMethods lists the server reflection methods, which answer any
// authenticated caller and nobody else: the list of a service's methods is
// no secret from those who may call it, and none of anyone else's business.
var reflectionMethods = map[string]bool{
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      true,
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": true,
}

var declarations sync.Map // full method name -> *annotationsv1.Callers (nil: none)

// DeclaredCallers returns the callers a method declares in the contract with
// (ipn.disputes.annotations.v1.callers); ok is false when it declares none,
// or when the method is not linked into this binary.
func DeclaredCallers(fullMethod string) (*annotationsv1.Callers, bool) {
	if c, ok := declarations.Load(fullMethod); ok {
		return c.(*annotationsv1.Callers), c.(*annotationsv1.Callers) != nil
	}
	c := lookupCallers(fullMethod)
	declarations.Store(fullMethod, c)
	return c, c != nil
}

func lookupCallers(fullMethod string) *annotationsv1.Callers {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil || md.Options() == nil || !proto.HasExtension(md.Options(), annotationsv1.E_Callers) {
		return nil
	}
	c, _ := proto.GetExtension(md.Options(), annotationsv1.E_Callers).(*annotationsv1.Callers)
	return c
}

// Admits reports whether a declaration lets p in. A member is let in by
// `member`, or by `admin` when they administer their group; every other kind
// by its own flag, and a service by its name.
func Admits(c *annotationsv1.Callers, p auth.Principal) bool {
	switch p.Kind {
	case auth.Anonymous:
		return c.GetAnonymous()
	case auth.Client:
		return c.GetClient()
	case auth.Member:
		return c.GetMember() || (c.GetAdmin() && p.GroupAdmin)
	case auth.LinkGroup:
		return c.GetLinkGroup()
	case auth.Operator:
		return c.GetOperator()
	case auth.Service:
		return slices.Contains(c.GetServices(), p.Service)
	case auth.Peer:
		return c.GetFederationPeer()
	}
	return false
}

// admit decides whether p may call fullMethod, before any handler runs.
func admit(fullMethod string, p auth.Principal) error {
	if infrastructure[fullMethod] {
		return nil
	}
	if reflectionMethods[fullMethod] {
		if p.Kind == auth.Anonymous {
			return auth.ErrUnauthenticated()
		}
		return nil
	}
	c, ok := DeclaredCallers(fullMethod)
	if !ok {
		// Contract checks refuse such a method before it ships, and the
		// server refuses to start with one; this is the last line.
		return &fault.Error{Kind: fault.Internal, Reason: "INTERNAL", Message: "internal error", Cause: fmt.Errorf("%s declares no callers", fullMethod)}
	}
	if Admits(c, p) {
		return nil
	}
	if p.Kind == auth.Anonymous {
		return auth.ErrUnauthenticated()
	}
	kind := callerKind(p)
	article := "a"
	if strings.ContainsAny(kind[:1], "aeiou") {
		article = "an"
	}
	return fault.New(fault.PermissionDenied, "CALLER_NOT_ALLOWED", fmt.Sprintf("this request is not open to %s %s", article, kind))
}

// callerKind names the caller's kind as the refusal says it.
func callerKind(p auth.Principal) string {
	if p.Kind == auth.Member && p.GroupAdmin {
		return "group admin"
	}
	return p.Kind.String()
}

// undeclared lists the methods of services registered on a server that
// declare no callers: a server with any refuses to start.
func undeclared(services map[string][]string) []string {
	var out []string
	for service, methods := range services {
		for _, m := range methods {
			full := "/" + service + "/" + m
			if infrastructure[full] || reflectionMethods[full] {
				continue
			}
			if _, ok := DeclaredCallers(full); !ok {
				out = append(out, full)
			}
		}
	}
	slices.Sort(out)
	return out
}
