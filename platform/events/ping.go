package events

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Ready is a readiness check: the connection is up and the stream answers.
func Ready(nc *nats.Conn, js jetstream.JetStream, ns Namespace) func(context.Context) error {
	return func(ctx context.Context) error {
		if !nc.IsConnected() {
			return errors.New("NATS is not connected")
		}
		_, err := js.Stream(ctx, ns.Stream())
		return err
	}
}
