// Package peer delivers link group notices to other deployments of this
// system over gRPC (ipn.disputes.federation.v1.FederationService), with the
// secret shared with each.
package peer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ipnmediation/disputes/platform/grpcserver"
	federationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/federation/v1"
	"github.com/ipnmediation/disputes/services/notification/internal/dispatch"
	"github.com/ipnmediation/disputes/services/notification/internal/federation"
)

// Client implements dispatch.Federation. It keeps one connection per peer.
type Client struct {
	Peers federation.Peers
	// Plaintext connects without TLS: for peers on the same machine or
	// network only, since the bearer secret would cross in the clear.
	Plaintext bool

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

var _ dispatch.Federation = (*Client)(nil)

// Reaches implements dispatch.Federation.
func (c *Client) Reaches(endpoint string) bool {
	_, ok := c.Peers.ByEndpoint(endpoint)
	return ok
}

// kinds maps dispatch's notice kinds to the proto's.
var kinds = map[dispatch.NoticeKind]federationv1.Notice_Kind{
	dispatch.NoticeLinkGroupsInformed: federationv1.Notice_KIND_LINK_GROUPS_INFORMED,
	dispatch.NoticeProgressReported:   federationv1.Notice_KIND_PROGRESS_REPORTED,
}

// Deliver implements dispatch.Federation.
func (c *Client) Deliver(ctx context.Context, endpoint string, n dispatch.Notice) error {
	p, ok := c.Peers.ByEndpoint(endpoint)
	if !ok {
		return fmt.Errorf("no federation peer at %s: %w", endpoint, dispatch.ErrNoticeRefused)
	}
	conn, err := c.conn(p)
	if err != nil {
		return fmt.Errorf("peer %s: %w", p.Name, err)
	}
	_, err = federationv1.NewFederationServiceClient(conn).DeliverNotice(ctx, &federationv1.DeliverNoticeRequest{Notice: &federationv1.Notice{
		Id:        n.ID,
		FromGroup: &federationv1.FromGroup{DisplayName: n.GroupName, Name: n.Group},
		Kind:      kinds[n.Kind],
		Case:      n.Case,
		SentTime:  timestamppb.New(n.SentTime),
	}}, grpc.PerRPCCredentials(bearer(federation.Token(p.Secret))))
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	// The peer's status message is its own safe-for-any-caller text.
	failure := fmt.Errorf("peer %s: %s: %s", p.Name, st.Code(), st.Message())
	switch st.Code() {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.PermissionDenied,
		codes.Unauthenticated, codes.Unimplemented:
		return errors.Join(failure, dispatch.ErrNoticeRefused)
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
		// The peer is down, swamped or slow, or the way to it is cut:
		// sending again once it is back cures that.
		return dispatch.Unreachable(failure)
	}
	// Anything else (INTERNAL, UNKNOWN) counts toward MAX_ATTEMPTS.
	return failure
}

func (c *Client) conn(p federation.Peer) (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if conn, ok := c.conns[p.Endpoint]; ok {
		return conn, nil
	}
	creds := credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	if c.Plaintext {
		creds = insecure.NewCredentials()
	}
	// A peer that comes back is reached again within seconds, and no call
	// to it waits longer than the platform's call timeout.
	conn, err := grpc.NewClient(p.Endpoint, append(grpcserver.ClientOptions(), grpc.WithTransportCredentials(creds))...)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if c.conns == nil {
		c.conns = map[string]*grpc.ClientConn{}
	}
	c.conns[p.Endpoint] = conn
	return conn, nil
}

// Close closes every connection.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

// bearer presents a bearer secret on one call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false so that Plaintext works; without it
// the connection is TLS anyway.
func (bearer) RequireTransportSecurity() bool { return false }
