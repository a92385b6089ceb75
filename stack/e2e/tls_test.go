package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/ipnmediation/disputes/stack/launch"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestLongPathOverRESTWithMutualTLS runs the whole system with mutual TLS
// between the gateway and the services and among the services, checks that
// a caller without a certificate is refused, and walks the long path: the
// concern over REST, the case casework opens from intake's event, every
// step, and the e-mails notification sends.
func TestLongPathOverRESTWithMutualTLS(t *testing.T) {
	s := startSystemWith(t, systemOptions{MutualTLS: true})

	// Refused at the handshake, before the bearer credentials are looked
	// at: a service credential is of no use without a certificate.
	for _, name := range launch.Services {
		t.Run(name+" refuses a plaintext caller", func(t *testing.T) {
			conn, err := grpc.NewClient(s.Addr(name), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: name})
			if code := status.Code(err); code != codes.Unavailable {
				t.Errorf("health check in plaintext: %v, want the connection refused (UNAVAILABLE)", err)
			}
		})
	}

	walkLongPath(t, s, newMarker())

	// Notification reached the directory over mutual TLS for the members'
	// addresses: every member was told of the concern.
	testenv.Eventually(t, 60*time.Second, "an e-mail to every member", func() bool {
		inbox := s.inbox(t, nil)
		for _, m := range demo.Members {
			if len(inbox[m.Email]) == 0 {
				return false
			}
		}
		return true
	})
}
