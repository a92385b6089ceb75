package app

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
)

// named is a listed resource.
type named interface {
	proto.Message
	GetName() string
}

// listedKind is a kind of resource a case lists, with its Get.
type listedKind struct {
	name string
	// reason is the NOT_FOUND reason of its Get.
	reason string
	// unknown is a name of the kind's form that names nothing.
	unknown func(w *walk) string
	list    func(ctx context.Context, c caseworkv1.CaseworkServiceClient, w *walk) ([]named, error)
	get     func(ctx context.Context, c caseworkv1.CaseworkServiceClient, name string) (named, error)
}

// caseLists are the kinds of resource under a case that had a List and no
// Get until the Gets below came.
var caseLists = []listedKind{
	{
		name: "timeline entries", reason: "TIMELINE_ENTRY_NOT_FOUND",
		unknown: func(w *walk) string { return w.name + "/timelineEntries/9999" },
		list: func(ctx context.Context, c caseworkv1.CaseworkServiceClient, w *walk) ([]named, error) {
			var out []named
			req := &caseworkv1.ListTimelineEntriesRequest{Parent: w.name, PageSize: 4}
			for {
				resp, err := c.ListTimelineEntries(ctx, req)
				if err != nil {
					return nil, err
				}
				for _, e := range resp.GetTimelineEntries() {
					out = append(out, e)
				}
				if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
					return out, nil
				}
			}
		},
		get: func(ctx context.Context, c caseworkv1.CaseworkServiceClient, name string) (named, error) {
			return c.GetTimelineEntry(ctx, &caseworkv1.GetTimelineEntryRequest{Name: name})
		},
	},
	{
		name: "messages", reason: "MESSAGE_NOT_FOUND",
		unknown: func(w *walk) string { return w.name + "/messages/" + uuid.NewString() },
		list: func(ctx context.Context, c caseworkv1.CaseworkServiceClient, w *walk) ([]named, error) {
			resp, err := c.ListMessages(ctx, &caseworkv1.ListMessagesRequest{Parent: w.name})
			var out []named
			for _, m := range resp.GetMessages() {
				out = append(out, m)
			}
			return out, err
		},
		get: func(ctx context.Context, c caseworkv1.CaseworkServiceClient, name string) (named, error) {
			return c.GetMessage(ctx, &caseworkv1.GetMessageRequest{Name: name})
		},
	},
	{
		name: "notes", reason: "NOTE_NOT_FOUND",
		unknown: func(w *walk) string { return w.name + "/notes/" + uuid.NewString() },
		list: func(ctx context.Context, c caseworkv1.CaseworkServiceClient, w *walk) ([]named, error) {
			resp, err := c.ListNotes(ctx, &caseworkv1.ListNotesRequest{Parent: w.name})
			var out []named
			for _, n := range resp.GetNotes() {
				out = append(out, n)
			}
			return out, err
		},
		get: func(ctx context.Context, c caseworkv1.CaseworkServiceClient, name string) (named, error) {
			return c.GetNote(ctx, &caseworkv1.GetNoteRequest{Name: name})
		},
	},
	{
		name: "access log entries", reason: "ACCESS_LOG_ENTRY_NOT_FOUND",
		unknown: func(w *walk) string { return w.name + "/accessLogEntries/9999" },
		list: func(ctx context.Context, c caseworkv1.CaseworkServiceClient, w *walk) ([]named, error) {
			var out []named
			req := &caseworkv1.ListAccessLogEntriesRequest{Parent: w.name, PageSize: 4}
			for {
				resp, err := c.ListAccessLogEntries(ctx, req)
				if err != nil {
					return nil, err
				}
				for _, e := range resp.GetAccessLogEntries() {
					out = append(out, e)
				}
				if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
					return out, nil
				}
			}
		},
		get: func(ctx context.Context, c caseworkv1.CaseworkServiceClient, name string) (named, error) {
			return c.GetAccessLogEntry(ctx, &caseworkv1.GetAccessLogEntryRequest{Name: name})
		},
	},
}

// TestGetReadsBackWhatListsShow: for a timeline, messages, notes and the
// access log, every party of a case reads each name its list gives back
// through the Get, exactly as listed; every other name (one another party
// lists, or one that names nothing) is NOT_FOUND with the kind's own
// reason, as the List would have refused it, or refused at the door or as
// an unknown case, as the List is.
func TestGetReadsBackWhatListsShow(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "GETS"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "nominate_spt", "accept_spt", "appoint", "inform", "offer_client", "accept_client", "write", "approve", "convey")
	for who, text := range map[string]string{asClient: "A message.", asSPC: "A reply."} {
		if _, err := w.clients[who].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: text}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: "A private note."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients[asTherapist].GetRegisteredConcern(ctx, &caseworkv1.GetRegisteredConcernRequest{Name: w.name + "/registeredConcern"}); err != nil {
		t.Fatal(err)
	}
	parties := []string{asClient, asTherapist, asSPT, asSPC, asLP, asOther, asAppointer, asLinkGroup, asHillside, asOperator}

	// Kinds run in turn: reading messages and notes adds to the access log.
	for _, k := range caseLists {
		t.Run(k.name, func(t *testing.T) {
			listed := map[string]map[string]named{}
			listErr := map[string]error{}
			unknown := k.unknown(w)
			every := map[string]bool{unknown: true}
			for _, who := range parties {
				items, err := k.list(ctx, w.clients[who], w)
				listErr[who], listed[who] = err, map[string]named{}
				for _, it := range items {
					listed[who][it.GetName()], every[it.GetName()] = it, true
				}
			}
			if len(every) < 2 {
				t.Fatalf("nobody lists any %s", k.name)
			}
			hidden := false // whether a name that exists was hidden from someone
			for _, who := range parties {
				for name := range every {
					got, err := k.get(ctx, w.clients[who], name)
					if item, ok := listed[who][name]; ok {
						if err != nil {
							t.Errorf("%s reading %s, which they list: %v", who, name, err)
						} else if !proto.Equal(got, item) {
							t.Errorf("%s reads %s as %v; their list shows %v", who, name, got, item)
						}
						continue
					}
					switch le := listErr[who]; {
					case status.Code(le) == codes.NotFound || reasonOf(le) == "CALLER_NOT_ALLOWED" || status.Code(le) == codes.Unauthenticated:
						// Refused at the door, or a case they may not
						// know of: the Get says the same.
						if status.Code(err) != status.Code(le) || reasonOf(err) != reasonOf(le) {
							t.Errorf("%s reading %s: %v; the list answers %v", who, name, err, le)
						}
					default:
						wantCode(t, who+" reading "+name, err, codes.NotFound, k.reason, "")
						hidden = hidden || name != unknown
					}
				}
			}
			if !hidden {
				t.Errorf("no party was denied an existing one of the %s: the test shows no rule", k.name)
			}
		})
	}

	t.Run("names of another form", func(t *testing.T) {
		for _, name := range []string{w.name + "/timelineEntries/0", w.name + "/timelineEntries/01", w.name + "/timelineEntries/x"} {
			_, err := w.clients[asSPC].GetTimelineEntry(ctx, &caseworkv1.GetTimelineEntryRequest{Name: name})
			wantCode(t, name, err, codes.InvalidArgument, "INVALID_FIELDS", "")
		}
		_, err := w.clients[asSPC].GetMessage(ctx, &caseworkv1.GetMessageRequest{Name: w.name + "/messages/not-a-uuid"})
		wantCode(t, "a message id that is no UUID", err, codes.InvalidArgument, "INVALID_FIELDS", "")
		_, err = w.clients[asSPC].GetNote(ctx, &caseworkv1.GetNoteRequest{Name: "groups/riverside/cases/" + uuid.NewString() + "/notes/" + uuid.NewString()})
		wantCode(t, "a note of an unknown case", err, codes.NotFound, "CASE_NOT_FOUND", "")
	})
}
