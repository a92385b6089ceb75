package httpapi

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	federationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// allServices are the services behind the gateway, in the order app.Run
// registers them.
var allServices = []string{
	directoryv1.DirectoryService_ServiceDesc.ServiceName,
	intakev1.IntakeService_ServiceDesc.ServiceName,
	caseworkv1.CaseworkService_ServiceDesc.ServiceName,
	notificationv1.NotificationService_ServiceDesc.ServiceName,
	federationv1.FederationService_ServiceDesc.ServiceName,
}

var (
	tableOnce sync.Once
	table     *routeTable
	tableErr  error
)

// contractRoutes is the route table of every service, read once.
func contractRoutes(t testing.TB) *routeTable {
	t.Helper()
	tableOnce.Do(func() { table, tableErr = newRouteTable(allServices) })
	if tableErr != nil {
		t.Fatal(tableErr)
	}
	return table
}

// routeOf returns the route of an RPC's main binding.
func routeOf(t testing.TB, fullMethod, template string) *route {
	t.Helper()
	for _, r := range contractRoutes(t).routes {
		if string(r.rpc.FullName()) == fullMethod && r.template == template {
			return r
		}
	}
	t.Fatalf("no route %s %s", fullMethod, template)
	return nil
}

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		template string
		want     string // segments, * and ** as themselves, then |vars|verb
		wantErr  bool
	}{
		{template: "/v1/groups", want: "v1/groups||"},
		{template: "/v1/{name=groups/*}", want: "v1/groups/*|name|"},
		{template: "/v1/{name}", want: "v1/*|name|"},
		{template: "/v1/{name=groups/*/cases/*}:takeStep", want: "v1/groups/*/cases/*|name|takeStep"},
		{template: "/v1/{group.name=groups/*}", want: "v1/groups/*|group.name|"},
		{template: "/v1/{parent=groups/*}/cases:findClientCases", want: "v1/groups/*/cases|parent|findClientCases"},
		{template: "/v1/{name=files/**}", want: "v1/files/**|name|"},
		{template: "v1/groups", wantErr: true},
		{template: "/v1/{name=groups/{id}}", wantErr: true},
		{template: "/v1/{name=groups/*", wantErr: true},
		{template: "/v1//groups", wantErr: true},
		{template: "/v1/groups:", wantErr: true},
	}
	for _, tt := range tests {
		segs, vars, verb, err := parseTemplate(tt.template)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.template)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.template, err)
			continue
		}
		var parts []string
		for _, s := range segs {
			switch s.kind {
			case wildcardSegment:
				parts = append(parts, "*")
			case deepWildcard:
				parts = append(parts, "**")
			default:
				parts = append(parts, s.literal)
			}
		}
		if got := strings.Join(parts, "/") + "|" + strings.Join(vars, ",") + "|" + verb; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.template, got, tt.want)
		}
	}
}

// TestRoutesMatchAsTheMuxDoes sends requests to grpc-gateway's own mux, with
// every service's routes registered, and checks that the route table picks
// the route the mux calls, or none where the mux answers 404 or 405.
func TestRoutesMatchAsTheMuxDoes(t *testing.T) {
	t.Parallel()
	type called struct{ method, pattern string }
	calls := make(chan called, 1)
	capture := func(ctx context.Context, method string, _, _ any, _ *grpc.ClientConn, _ grpc.UnaryInvoker, _ ...grpc.CallOption) error {
		pattern, _ := runtime.HTTPPathPattern(ctx)
		calls <- called{method, pattern}
		return status.Error(codes.Unavailable, "not sent")
	}
	conn, err := grpc.NewClient("passthrough:///unused", grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithUnaryInterceptor(capture))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	mux := runtime.NewServeMux(runtime.WithDisablePathLengthFallback())
	ctx := context.Background()
	for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		directoryv1.RegisterDirectoryServiceHandler, intakev1.RegisterIntakeServiceHandler,
		caseworkv1.RegisterCaseworkServiceHandler, notificationv1.RegisterNotificationServiceHandler,
		federationv1.RegisterFederationServiceHandler,
	} {
		if err := register(ctx, mux, conn); err != nil {
			t.Fatal(err)
		}
	}
	routes := contractRoutes(t)

	type request struct{ method, path string }
	var requests []request
	// Every route, with each variable's segments filled in.
	for _, r := range routes.routes {
		var path strings.Builder
		for _, s := range r.segments {
			path.WriteString("/")
			switch s.kind {
			case wildcardSegment:
				path.WriteString("x1")
			case deepWildcard:
				path.WriteString("a/b")
			default:
				path.WriteString(s.literal)
			}
		}
		if r.verb != "" {
			path.WriteString(":" + r.verb)
		}
		requests = append(requests, request{r.method, path.String()})
	}
	// Where routes overlap, and where none takes the request.
	requests = append(requests,
		request{"GET", "/v1/groups/g/cases/c:exportClientData"},
		request{"GET", "/v1/groups/g/cases/c:takeStep"},
		request{"POST", "/v1/groups/g/cases/c:takeStep"},
		request{"POST", "/v1/groups/g/cases/:takeStep"},
		request{"POST", "/v1/groups/g/cases/c:nothing"},
		request{"GET", "/v1/groups/g/cases/c/"},
		request{"GET", "/v1/groups/g/members/m/digestSettings"},
		request{"GET", "/v1/groups/g/members/digestSettings"},
		request{"POST", "/v1/groups/g/members/m/accessTokens"},
		request{"POST", "/v1/groups/g/linkGroups/l/accessTokens/t:revoke"},
		request{"GET", "/v1/groups/\xff\xfe/concerns"},
		request{"POST", "/v1/groups/\xff\xfe/concerns"},
		request{"DELETE", "/v1/groups/g/cases/c"},
		request{"PUT", "/v1/groups/g"},
		request{"GET", "/v2/groups"},
		request{"GET", "/"},
	)
	matched := 0
	for _, req := range requests {
		var want called
		r := httptest.NewRequest(req.method, "/", nil)
		r.URL.Path = req.path
		mux.ServeHTTP(httptest.NewRecorder(), r)
		select {
		case want = <-calls:
		default:
		}
		got := called{}
		if rt := routes.match(req.method, req.path); rt != nil {
			got = called{"/" + string(rt.rpc.Parent().FullName()) + "/" + string(rt.rpc.Name()), rt.template}
		}
		if got != want {
			t.Errorf("%s %q: the table picks %v, the mux calls %v", req.method, req.path, got, want)
		}
		if want.method != "" {
			matched++
		}
	}
	if matched < len(routes.routes) {
		t.Errorf("the mux called %d methods for %d routes and more", matched, len(routes.routes))
	}
}

func TestRouteTableRefusesAnUnknownService(t *testing.T) {
	t.Parallel()
	if _, err := newRouteTable([]string{"ipn.disputes.nothing.v1.NothingService"}); err == nil {
		t.Error("no error for a service that is not linked")
	}
	if _, err := New(context.Background(), Options{Backends: []Backend{{Name: "intake",
		Register: func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error { return nil }}}}); err == nil {
		t.Error("New accepted a backend that names no services")
	}
}
