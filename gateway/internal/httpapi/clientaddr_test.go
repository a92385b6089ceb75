package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ipnmediation/disputes/platform/clientaddr"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/testenv"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// addressRecorder is an intake that keeps the client addresses it was told.
type addressRecorder struct {
	intakev1.UnimplementedIntakeServiceServer
	mu   sync.Mutex
	seen [][]string
}

func (a *addressRecorder) CreateClientSession(ctx context.Context, _ *intakev1.CreateClientSessionRequest) (*intakev1.ClientSession, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen = append(a.seen, md.Get(grpcserver.ClientAddressKey))
	return &intakev1.ClientSession{Token: "t"}, nil
}

func (a *addressRecorder) last() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) == 0 {
		return nil
	}
	return a.seen[len(a.seen)-1]
}

func TestClientAddressForwarded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		proxies string
		remote  string
		headers map[string]string
		want    string
	}{
		{name: "the peer", remote: "203.0.113.9:40000", want: "203.0.113.9"},
		{name: "the client's own value is overwritten", remote: "203.0.113.9:40000",
			headers: map[string]string{"Grpc-Metadata-X-Client-Address": "192.0.2.1", "X-Client-Address": "192.0.2.2"}, want: "203.0.113.9"},
		{name: "X-Forwarded-For from an untrusted peer is ignored", remote: "203.0.113.9:40000",
			headers: map[string]string{"X-Forwarded-For": "192.0.2.1"}, want: "203.0.113.9"},
		{name: "X-Forwarded-For from a trusted proxy is read", proxies: "10.0.0.0/8", remote: "10.0.0.2:40000",
			headers: map[string]string{"X-Forwarded-For": "192.0.2.1, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "a trusted proxy does not let the client choose either", proxies: "10.0.0.0/8", remote: "10.0.0.2:40000",
			headers: map[string]string{"X-Forwarded-For": "203.0.113.9", "Grpc-Metadata-X-Client-Address": "192.0.2.1"}, want: "203.0.113.9"},
		{name: "IPv6 peer", remote: "[2001:db8::7]:40000", want: "2001:db8::7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &addressRecorder{}
			addr := testenv.ServeGRPC(t, func(s *grpc.Server) { intakev1.RegisterIntakeServiceServer(s, fake) })
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			proxies, err := clientaddr.ParsePrefixes(tt.proxies)
			if err != nil {
				t.Fatal(err)
			}
			h, err := New(context.Background(), Options{
				Backends: []Backend{{Name: "intake", Conn: conn, Register: intakev1.RegisterIntakeServiceHandler,
					Services: []string{intakev1.IntakeService_ServiceDesc.ServiceName}}},
				TrustedProxies: proxies,
			})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/clientSessions", strings.NewReader(`{"reference":"K7QM-3XRD","accessCode":"x"}`))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := fake.last(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("intake was told %q, want exactly [%s]", got, tt.want)
			}
		})
	}
}
