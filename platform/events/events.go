// Package events is the dispute-step event stream: its JetStream stream,
// subjects, the encoding of events and durable, idempotent consumers.
package events

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	// TypeHeader carries the full proto name of the payload.
	TypeHeader = "Disputes-Event-Type"
	// DuplicateWindow is how long JetStream remembers Nats-Msg-Id values, so
	// an event the relay publishes again after a crash is stored once.
	DuplicateWindow = 10 * time.Minute
)

// Connect opens a NATS connection named after the service, retrying in the
// background when the server is not up yet, and returns its JetStream API.
func Connect(url, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

// Namespace separates deployments (or test runs) that share one NATS server.
// The empty namespace, used in production, gives the stream DISPUTES and
// subjects `disputes.<group>.<aggregate>.<event>`; namespace "x" gives the
// stream X_DISPUTES and subjects `x.disputes.…`.
type Namespace string

// Stream is the name of the one JetStream stream for dispute steps.
func (n Namespace) Stream() string {
	if n == "" {
		return "DISPUTES"
	}
	return strings.ToUpper(string(n)) + "_DISPUTES"
}

func (n Namespace) root() string {
	if n == "" {
		return "disputes"
	}
	return string(n) + ".disputes"
}

// Subject is `disputes.<group>.<aggregate>.<event>` for a group resource name
// such as "groups/riverside".
func (n Namespace) Subject(group, aggregate, event string) string {
	return strings.Join([]string{n.root(), strings.TrimPrefix(group, "groups/"), aggregate, event}, ".")
}

// Kind is the kind of event a subject carries, `<aggregate>.<event>` such
// as concern.registered (of disputes.<group>.<aggregate>.<event>): what
// metrics' labels and spans' names say of an event, leaving the group out
// so that neither grows with the groups.
func Kind(subject string) string {
	i := strings.LastIndexByte(subject, '.')
	if i <= 0 {
		return "unknown"
	}
	j := strings.LastIndexByte(subject[:i], '.')
	return subject[j+1:]
}

// Filter matches one kind of event in every group.
func (n Namespace) Filter(aggregate, event string) string {
	return strings.Join([]string{n.root(), "*", aggregate, event}, ".")
}

// EnsureStream creates the stream, or brings its configuration up to date,
// kept by replicas servers (at least 1). Every service calls it at start, so
// none depends on another to have done it.
func EnsureStream(ctx context.Context, js jetstream.JetStream, ns Namespace, replicas int) error {
	cfg := jetstream.StreamConfig{
		Name:        ns.Stream(),
		Description: "Dispute steps of every group: ids and non-identifying facts only.",
		Subjects:    []string{ns.root() + ".>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      90 * 24 * time.Hour,
		Duplicates:  DuplicateWindow,
		Replicas:    max(replicas, 1),
	}
	// NATS may come up after the service: keep trying until told to stop.
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := js.CreateOrUpdateStream(actx, cfg)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ensure stream %s: %w", ns.Stream(), err)
		case <-time.After(wait):
		}
	}
}

// Event is an encoded event ready for the outbox.
type Event struct {
	ID      string
	Subject string
	Type    string
	Payload []byte
}

// NewMetadata returns metadata with a fresh event id.
func NewMetadata(group, producer string, now time.Time) *eventsv1.EventMetadata {
	return &eventsv1.EventMetadata{
		EventId:   uuid.NewString(),
		OccurTime: timestamppb.New(now),
		Group:     group,
		Producer:  producer,
	}
}

// Encode turns an event message into an Event for the outbox. meta must be
// the message's own metadata; its group names the subject.
func (n Namespace) Encode(meta *eventsv1.EventMetadata, aggregate, event string, msg proto.Message) (Event, error) {
	payload, err := proto.Marshal(msg)
	if err != nil {
		return Event{}, fmt.Errorf("encode %s: %w", msg.ProtoReflect().Descriptor().FullName(), err)
	}
	return Event{
		ID:      meta.GetEventId(),
		Subject: n.Subject(meta.GetGroup(), aggregate, event),
		Type:    string(msg.ProtoReflect().Descriptor().FullName()),
		Payload: payload,
	}, nil
}

// Message is an event as a consumer receives it.
type Message struct {
	ID       string
	Subject  string
	Type     string
	Payload  []byte
	Attempts uint64
}

// Decode reads the payload into msg after checking the type header.
func (m Message) Decode(msg proto.Message) error {
	if want := string(msg.ProtoReflect().Descriptor().FullName()); m.Type != want {
		return fmt.Errorf("event %s is a %s, not a %s", m.ID, m.Type, want)
	}
	return proto.Unmarshal(m.Payload, msg)
}
