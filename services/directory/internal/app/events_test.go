package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/events"
	"github.com/ipnmediation/disputes/platform/testenv"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
)

// streamEvent is one event as stored on the stream, raw.
type streamEvent struct {
	Subject string
	Type    string
	Data    []byte
}

func (ev streamEvent) decode(t *testing.T, msg proto.Message) {
	t.Helper()
	if err := (events.Message{Subject: ev.Subject, Type: ev.Type, Payload: ev.Data}).Decode(msg); err != nil {
		t.Fatal(err)
	}
}

// allEvents waits until the test's namespace holds at least atLeast events
// and returns all of them in order, read with an ordered consumer.
func (e *env) allEvents(t *testing.T, atLeast int) []streamEvent {
	t.Helper()
	nc, err := nats.Connect(e.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var total uint64
	testenv.Eventually(t, 20*time.Second, "the outbox to reach the stream", func() bool {
		stream, err := js.Stream(ctx, e.ns.Stream())
		if err != nil {
			return false
		}
		info, err := stream.Info(ctx)
		if err != nil {
			return false
		}
		total = info.State.Msgs
		return total >= uint64(atLeast)
	})
	cons, err := js.OrderedConsumer(ctx, e.ns.Stream(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out []streamEvent
	for uint64(len(out)) < total {
		msg, err := cons.Next(jetstream.FetchMaxWait(10 * time.Second))
		if err != nil {
			t.Fatalf("read event %d of %d: %v", len(out)+1, total, err)
		}
		out = append(out, streamEvent{Subject: msg.Subject(), Type: msg.Headers().Get(events.TypeHeader), Data: msg.Data()})
	}
	return out
}

// events returns the events of one kind, waiting until there are want of
// them.
func (e *env) events(t *testing.T, aggregate, event string, want int) []streamEvent {
	t.Helper()
	var matching []streamEvent
	testenv.Eventually(t, 20*time.Second, "the expected events", func() bool {
		matching = matching[:0]
		for _, ev := range e.allEvents(t, want) {
			if subjectMatches(e.ns, ev.Subject, aggregate, event) {
				matching = append(matching, ev)
			}
		}
		return len(matching) >= want
	})
	if len(matching) != want {
		t.Fatalf("%d %s.%s events; want %d", len(matching), aggregate, event, want)
	}
	return matching
}

// subjectMatches reports whether subject is `<root>.<group>.<aggregate>.<event>`
// in the namespace, for any group.
func subjectMatches(ns events.Namespace, subject, aggregate, event string) bool {
	suffix := "." + aggregate + "." + event
	prefix := strings.TrimSuffix(ns.Filter(aggregate, event), "*"+suffix)
	group, ok := strings.CutPrefix(subject, prefix)
	if !ok {
		return false
	}
	group, ok = strings.CutSuffix(group, suffix)
	return ok && group != "" && !strings.Contains(group, ".")
}
