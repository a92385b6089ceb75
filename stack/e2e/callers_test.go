package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/stack/launch"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	// Every service's contract, so that the methods each process lists
	// can be found and called.
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	_ "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/operations/v1"
)

// caller is one kind of caller of the matrix, with a real credential of
// that kind and the principal the services make of it.
type caller struct {
	name      string
	token     string
	principal auth.Principal
	// again makes another credential like token, for a call that ends the
	// one it is made with; nil when none does.
	again func(t *testing.T) string
}

// TestCallerMatrix calls every method of every service, found by asking
// each running process over reflection, as every kind of caller with a
// real credential of that kind, and compares each answer with the method's
// callers declaration in the contract: a caller it admits is not refused
// at the door (whatever the handler then makes of the empty request), and
// any other is refused before any handler runs: with UNAUTHENTICATED when
// it brought no credentials, or one of a kind the process does not know,
// and with PERMISSION_DENIED (CALLER_NOT_ALLOWED) otherwise. A method that declares nothing keeps its process from
// starting, so it fails here too.
func TestCallerMatrix(t *testing.T) {
	peerSecret := launch.RandomSecret()
	s := startSystemWith(t, systemOptions{Settings: map[string][]string{
		"notification": {"FEDERATION_PEERS=matrix=" + peerSecret},
	}})
	callers := s.everyKindOfCaller(t, peerSecret)

	methods := map[string]bool{}
	for _, process := range launch.Services {
		conn := s.dial(t, process)
		served := s.servicesOf(t, conn, callers)
		if !slices.ContainsFunc(served, func(sd protoreflect.ServiceDescriptor) bool {
			return sd.FullName() == "ipn.disputes.operations.v1.ParkedEventService"
		}) {
			t.Errorf("%s does not serve ParkedEventService", process)
		}
		for _, sd := range served {
			for i := 0; i < sd.Methods().Len(); i++ {
				md := sd.Methods().Get(i)
				full := fmt.Sprintf("/%s/%s", sd.FullName(), md.Name())
				declared, ok := grpcserver.DeclaredCallers(full)
				if !ok {
					t.Errorf("%s declares no callers", full)
					continue
				}
				methods[full] = true
				for _, c := range callers {
					token := c.token
					if c.again != nil && full == "/ipn.disputes.intake.v1.IntakeService/EndClientSession" {
						// Signing out ends the session it is called with:
						// a session of its own, so that the client's calls
						// after it still authenticate.
						token = c.again(t)
					}
					code, reason := invoke(t, conn, full, md, token)
					refusedAtTheDoor := code == codes.Unauthenticated || (code == codes.PermissionDenied && reason == "CALLER_NOT_ALLOWED")
					switch admitted := grpcserver.Admits(declared, c.principal); {
					case code == codes.Internal || code == codes.Unknown || code == codes.Unavailable:
						t.Errorf("%s as %s: %v %s, a fault rather than an answer", full, c.name, code, reason)
					case admitted && refusedAtTheDoor:
						t.Errorf("%s as %s: refused (%v %s), but the contract admits %s", full, c.name, code, reason, c.name)
					case !admitted && c.principal.Kind == auth.Anonymous && code != codes.Unauthenticated:
						t.Errorf("%s without credentials: %v %s, want UNAUTHENTICATED", full, code, reason)
					case !admitted && !refusedAtTheDoor:
						// A credential of a kind the process does not know at
						// all (a client session, to the directory) is
						// UNAUTHENTICATED; one it knows, CALLER_NOT_ALLOWED.
						t.Errorf("%s as %s: %v %s, want UNAUTHENTICATED or PERMISSION_DENIED CALLER_NOT_ALLOWED", full, c.name, code, reason)
					}
				}
			}
		}
	}
	// Every RPC of every service, and nothing else: the processes serve
	// exactly the contract's services (the operations service, which
	// every process serves, counts once).
	if want := countRPCs(); len(methods) != want {
		t.Errorf("the processes serve %d declared methods; the contract has %d", len(methods), want)
	}
}

// everyKindOfCaller makes a real credential of every kind: the group's
// members (an admin and not), a client with a session, a link group's
// token, the operator, each service and a federation peer.
func (s *system) everyKindOfCaller(t *testing.T, peerSecret string) []caller {
	t.Helper()
	concern := s.raiseConcern(t, newMarker())
	signIn := func(t *testing.T) string {
		t.Helper()
		var session struct {
			Token string `json:"token"`
		}
		if code := s.call(t, http.MethodPost, "/v1/clientSessions", "", map[string]string{
			"reference": concern.Reference, "accessCode": concern.AccessCode,
		}, &session); code != http.StatusOK {
			t.Fatalf("client session: HTTP %d", code)
		}
		return session.Token
	}
	var link struct {
		Secret string `json:"secret"`
	}
	if code := s.call(t, http.MethodPost, "/v1/groups/"+demo.GroupID+"/linkGroups/hillside/accessTokens", s.Token(spcID),
		map[string]string{"displayName": "Hillside's system"}, &link); code != http.StatusOK {
		t.Fatalf("link group token: HTTP %d", code)
	}
	group := "groups/" + demo.GroupID
	callers := []caller{
		{"anonymous", "", auth.Principal{}, nil},
		{"client", signIn(t), auth.Principal{Kind: auth.Client, Group: group}, signIn},
		{"member", s.Token(otherID), auth.Principal{Kind: auth.Member, Group: group, Member: member(otherID)}, nil},
		{"admin", s.Token(spcID), auth.Principal{Kind: auth.Member, Group: group, Member: member(spcID), GroupAdmin: true}, nil},
		{"link group", link.Secret, auth.Principal{Kind: auth.LinkGroup, Group: group}, nil},
		{"operator", s.OperatorToken, auth.Principal{Kind: auth.Operator}, nil},
		{"federation peer", "federation:" + peerSecret, auth.Principal{Kind: auth.Peer, Peer: "matrix"}, nil},
	}
	for _, name := range launch.Services {
		callers = append(callers, caller{"service " + name, auth.ServiceToken(name, s.Secrets[name]), auth.Principal{Kind: auth.Service, Service: name}, nil})
	}
	for _, c := range callers[1:] {
		if c.token == "" {
			t.Fatalf("no credential for %s", c.name)
		}
	}
	return callers
}

// servicesOf asks a process over reflection which of the contract's
// services it serves; reflection answers authenticated callers alone.
func (s *system) servicesOf(t *testing.T, conn *grpc.ClientConn, callers []caller) []protoreflect.ServiceDescriptor {
	t.Helper()
	list := func(token string) ([]string, codes.Code) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if token != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
		}
		stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err == nil {
			err = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		}
		var resp *reflectionpb.ServerReflectionResponse
		// A stream the server has already ended says io.EOF on Send; its
		// status comes with Recv.
		if err == nil || errors.Is(err, io.EOF) {
			resp, err = stream.Recv()
		}
		var names []string
		for _, svc := range resp.GetListServicesResponse().GetService() {
			names = append(names, svc.GetName())
		}
		return names, status.Code(err)
	}
	if _, code := list(""); code != codes.Unauthenticated {
		t.Errorf("reflection without credentials: %v, want UNAUTHENTICATED", code)
	}
	names, code := list(callers[len(callers)-1].token)
	if code != codes.OK {
		t.Fatalf("reflection as a service: %v", code)
	}
	var out []protoreflect.ServiceDescriptor
	for _, name := range names {
		if !strings.HasPrefix(name, "ipn.disputes.") {
			continue
		}
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			t.Fatalf("a process serves %s, which this test does not link: %v", name, err)
		}
		out = append(out, d.(protoreflect.ServiceDescriptor))
	}
	if len(out) == 0 {
		t.Fatalf("a process serves none of the contract's services: %v", names)
	}
	return out
}

// invoke calls a method with an empty request, as token, and returns the
// answer's code and ErrorInfo reason.
func invoke(t *testing.T, conn *grpc.ClientConn, full string, md protoreflect.MethodDescriptor, token string) (codes.Code, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	err := conn.Invoke(ctx, full, dynamicpb.NewMessage(md.Input()), dynamicpb.NewMessage(md.Output()))
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.GetReason()
		}
	}
	return st.Code(), ""
}

// countRPCs counts the contract's RPCs.
func countRPCs() int {
	n := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(string(fd.Package()), "ipn.disputes.") && !slices.Contains([]string{"ipn.disputes.annotations.v1"}, string(fd.Package())) {
			for i := 0; i < fd.Services().Len(); i++ {
				n += fd.Services().Get(i).Methods().Len()
			}
		}
		return true
	})
	return n
}
