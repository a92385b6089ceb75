package app

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
)

// TestTextLengthsCountCharacters: a text's limit is the contract's
// max_length, in characters, applied once by the platform. A note or a
// message of 20,000 four-byte characters (80,000 bytes) is accepted and kept
// whole; one character more is refused, naming the field.
func TestTextLengthsCountCharacters(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "LONG"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "nominate_spt", "accept_spt", "appoint")
	longest := strings.Repeat("😀", 20000)

	note, err := w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: longest}})
	if err != nil {
		t.Fatalf("a note of 20,000 four-byte characters: %v", err)
	}
	if note.GetText() != longest {
		t.Errorf("the note kept %d characters", len([]rune(note.GetText())))
	}
	_, err = w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: longest + "😀"}})
	testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "note.text")

	msg, err := w.clients[asClient].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: longest}})
	if err != nil {
		t.Fatalf("a message of 20,000 four-byte characters: %v", err)
	}
	if msg.GetText() != longest {
		t.Errorf("the message kept %d characters", len([]rune(msg.GetText())))
	}
	_, err = w.clients[asClient].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: longest + "a"}})
	testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "message.text")
}
