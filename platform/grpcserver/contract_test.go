package grpcserver_test

import (
	"strings"
	"testing"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	annotationsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/annotations/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// TestContractDeclaresEveryRPCAndField holds the contract to its own rules:
// every RPC of every service declares its callers, and every string field
// a caller can send declares its kind and its longest value, and every
// repeated field its most items. A new RPC or field without them fails here,
// before any server refuses to start.
func TestContractDeclaresEveryRPCAndField(t *testing.T) {
	t.Parallel()
	rpcs := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "ipn.disputes.") {
			return true
		}
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				md := sd.Methods().Get(j)
				rpcs++
				full := "/" + string(sd.FullName()) + "/" + string(md.Name())
				c, ok := grpcserver.DeclaredCallers(full)
				switch {
				case !ok:
					t.Errorf("%s declares no callers", full)
				case !c.GetAnonymous() && !c.GetClient() && !c.GetMember() && !c.GetAdmin() && !c.GetLinkGroup() && !c.GetOperator() && !c.GetFederationPeer() && len(c.GetServices()) == 0:
					t.Errorf("%s declares callers, but none of any kind", full)
				}
				checkDeclaredFields(t, md.Input(), string(md.Input().Name())+".", map[protoreflect.FullName]bool{})
			}
		}
		return true
	})
	if rpcs < 50 {
		t.Fatalf("only %d RPCs found: are the services' protos linked into this test?", rpcs)
	}
}

func checkDeclaredFields(t *testing.T, md protoreflect.MessageDescriptor, prefix string, seen map[protoreflect.FullName]bool) {
	t.Helper()
	if seen[md.FullName()] || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return
	}
	seen[md.FullName()] = true
	defer delete(seen, md.FullName())
	for i := 0; i < md.Fields().Len(); i++ {
		fd := md.Fields().Get(i)
		path := prefix + string(fd.Name())
		d := grpcserver.DeclaredField(fd)
		if d.OutputOnly {
			continue
		}
		if fd.IsList() && d.MaxItems == 0 {
			t.Errorf("%s: a repeated field a caller sends declares no max_items", path)
		}
		value := fd
		if fd.IsMap() {
			value = fd.MapValue()
		}
		switch value.Kind() {
		case protoreflect.StringKind:
			if d.MaxLength == 0 {
				t.Errorf("%s: a string a caller sends declares no max_length", path)
			}
			if d.Text.GetKind() == annotationsv1.TextKind_TEXT_KIND_UNSPECIFIED {
				t.Errorf("%s: a string a caller sends declares no text kind", path)
			}
		case protoreflect.MessageKind:
			checkDeclaredFields(t, value.Message(), path+".", seen)
		}
	}
}
