package auth

import (
	"context"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// BearerFromMetadata returns the bearer secret of an incoming request, if any.
func BearerFromMetadata(ctx context.Context) (string, bool) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		scheme, secret, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "bearer") && secret != "" {
			return strings.TrimSpace(secret), true
		}
	}
	return "", false
}

// bearer presents a fixed bearer secret on every call.
type bearer struct {
	secret string
}

// PerRPCCredentials returns call credentials that present the given service's
// credential on every call.
func PerRPCCredentials(service, secret string) credentials.PerRPCCredentials {
	return bearer{secret: ServiceToken(service, secret)}
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.secret}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials. Plain
// connections are allowed until mutual TLS is configured.
func (bearer) RequireTransportSecurity() bool { return false }
