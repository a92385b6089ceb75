package app

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
)

// TestAccessLogRecordsEveryConfidentialRead reads a case's confidential
// material as each actor and finds exactly those reads in the access log,
// which only the SPC and the group's admins may see and nobody may change.
func TestAccessLogRecordsEveryConfidentialRead(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "ALOG"+strings.ToUpper(uuid.NewString()[:8]))
	// The link groups are informed, so that the link group sees the case
	// and is refused its confidential material, not the case itself.
	w.do(t, "nominate_spt", "accept_spt", "appoint", "inform", "offer_client", "accept_client", "write", "approve", "convey")
	note, err := w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: "A private note."}})
	if err != nil {
		t.Fatal(err)
	}
	message, err := w.clients[asClient].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: "A message."}})
	if err != nil {
		t.Fatal(err)
	}

	concern := &caseworkv1.GetRegisteredConcernRequest{Name: w.name + "/registeredConcern"}
	docs := &caseworkv1.ListDocumentsRequest{Parent: w.name, Kind: caseworkv1.Document_KIND_WRITTEN_STATEMENT}
	reads := []struct {
		who  string
		read func(c caseworkv1.CaseworkServiceClient) error
	}{
		{asClient, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.GetRegisteredConcern(ctx, concern)
			return err
		}},
		{asTherapist, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.GetRegisteredConcern(ctx, concern)
			return err
		}},
		{asTherapist, func(c caseworkv1.CaseworkServiceClient) error { _, err := c.ListDocuments(ctx, docs); return err }},
		{asSPC, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.ListNotes(ctx, &caseworkv1.ListNotesRequest{Parent: w.name})
			return err
		}},
		{asSPC, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.ListMessages(ctx, &caseworkv1.ListMessagesRequest{Parent: w.name})
			return err
		}},
		// One message or note read by its name is logged by that name.
		{asClient, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.GetMessage(ctx, &caseworkv1.GetMessageRequest{Name: message.GetName()})
			return err
		}},
		{asSPC, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.GetNote(ctx, &caseworkv1.GetNoteRequest{Name: note.GetName()})
			return err
		}},
		// Refused reads disclose nothing and are not logged.
		{asOther, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.ListNotes(ctx, &caseworkv1.ListNotesRequest{Parent: w.name})
			return err
		}},
		{asOther, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.GetNote(ctx, &caseworkv1.GetNoteRequest{Name: note.GetName()})
			return err
		}},
		{asTherapist, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.GetMessage(ctx, &caseworkv1.GetMessageRequest{Name: message.GetName()})
			return err
		}},
		{asLinkGroup, func(c caseworkv1.CaseworkServiceClient) error {
			_, err := c.GetRegisteredConcern(ctx, concern)
			return err
		}},
		// A read that finds nothing the caller may read discloses nothing.
		{asLP, func(c caseworkv1.CaseworkServiceClient) error { _, err := c.ListDocuments(ctx, docs); return err }},
	}
	for _, r := range reads {
		_ = r.read(w.clients[r.who])
	}
	want := []string{
		"client ROLE_CLIENT CONCERN /registeredConcern",
		"client ROLE_CLIENT CLIENT_CONTACT /registeredConcern",
		therapist + " ROLE_THERAPIST CONCERN /registeredConcern",
		therapist + " ROLE_THERAPIST DOCUMENT /documents/",
		spc + " ROLE_SPC NOTES /notes",
		spc + " ROLE_SPC MESSAGES /messages",
		"client ROLE_CLIENT MESSAGES " + strings.TrimPrefix(message.GetName(), w.name),
		spc + " ROLE_SPC NOTES " + strings.TrimPrefix(note.GetName(), w.name),
	}

	list := func(who string) ([]*caseworkv1.AccessLogEntry, error) {
		var all []*caseworkv1.AccessLogEntry
		req := &caseworkv1.ListAccessLogEntriesRequest{Parent: w.name, PageSize: 4}
		for {
			resp, err := w.clients[who].ListAccessLogEntries(ctx, req)
			if err != nil {
				return nil, err
			}
			all = append(all, resp.GetAccessLogEntries()...)
			if resp.GetNextPageToken() == "" {
				return all, nil
			}
			req.PageToken = resp.GetNextPageToken()
		}
	}
	entries, err := list(asSPC)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Fatalf("%d access log entries, want %d: %v", len(entries), len(want), entries)
	}
	for i, e := range entries {
		got := e.GetReader() + " " + e.GetReaderRole().String() + " " + e.GetKind() + " " + strings.TrimPrefix(e.GetResource(), w.name)
		if !strings.HasPrefix(got, want[i]) || e.GetReadTime() == nil {
			t.Errorf("entry %d = %q, want %q…", i+1, got, want[i])
		}
	}
	// The group's admin reads it too; nobody else.
	if got, err := list(asAppointer); err != nil || len(got) < len(want) {
		t.Errorf("the group's admin: %d entries, %v", len(got), err)
	}
	for who, code := range map[string]codes.Code{asClient: codes.PermissionDenied, asTherapist: codes.PermissionDenied, asLP: codes.PermissionDenied, asOther: codes.PermissionDenied, asLinkGroup: codes.PermissionDenied, asHillside: codes.NotFound} {
		_, err := list(who)
		wantCode(t, who+" reading the access log", err, code, "", "")
	}
	// Append-only: the database refuses to change or remove an entry.
	if _, err := e.db.Exec(ctx, `UPDATE access_log SET reader = 'someone else'`); err == nil {
		t.Error("an access log entry was changed")
	}
	if _, err := e.db.Exec(ctx, `DELETE FROM access_log`); err == nil {
		t.Error("access log entries were deleted")
	}
}

// TestExportClientData exports everything held about a case's client, as a
// group admin answering a subject access request, and nobody else may.
func TestExportClientData(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "EXPT"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "nominate_spt", "accept_spt", "appoint", "inform", "offer_client", "accept_client", "write", "approve", "convey", "respond")
	if _, err := w.clients[asSPC].CreateNote(ctx, &caseworkv1.CreateNoteRequest{Parent: w.name, Note: &caseworkv1.Note{Text: "A private note."}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.clients[asClient].CreateMessage(ctx, &caseworkv1.CreateMessageRequest{Parent: w.name, Message: &caseworkv1.Message{Text: "A message."}}); err != nil {
		t.Fatal(err)
	}
	req := &caseworkv1.ExportClientDataRequest{Name: w.name}
	// The contract declares ExportClientData for group admins only
	// (callers = {admin: true}): everyone else, another group's members
	// included, is refused before the handler runs.
	for _, who := range []string{asClient, asSPC, asTherapist, asOther, asLinkGroup, asHillside} {
		_, err := w.clients[who].ExportClientData(ctx, req)
		wantCode(t, who+" exporting", err, codes.PermissionDenied, "CALLER_NOT_ALLOWED", "")
	}
	// Another group's admin is let in by the declaration, and the handler
	// answers as if the case did not exist.
	_, err := e.client(t, hillsideAdminToken).ExportClientData(ctx, req)
	wantCode(t, "hillside admin exporting", err, codes.NotFound, "", "")
	x, err := w.clients[asAppointer].ExportClientData(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	rc := x.GetRegisteredConcern()
	if rc.GetDescription() != w.concern.GetDescription() || rc.GetDesiredOutcome() != w.concern.GetDesiredOutcome() ||
		rc.GetClientEmail() != w.concern.GetClientContact().GetEmail() || rc.GetClientName() != w.concern.GetClientName() {
		t.Errorf("registered concern in the export: %v", rc)
	}
	kinds := map[caseworkv1.Document_Kind]int{}
	for _, d := range x.GetDocuments() {
		kinds[d.GetKind()]++
		if d.GetKind() == caseworkv1.Document_KIND_WRITTEN_STATEMENT && (d.GetWrittenStatement().GetAsConveyed() || !strings.Contains(d.GetWrittenStatement().GetConcern(), w.marker())) {
			t.Errorf("the export's statement is not whole: %v", d.GetWrittenStatement())
		}
	}
	if kinds[caseworkv1.Document_KIND_WRITTEN_STATEMENT] != 1 || kinds[caseworkv1.Document_KIND_THERAPIST_RESPONSE] != 1 {
		t.Errorf("documents in the export: %v", kinds)
	}
	if len(x.GetMessages()) != 1 || len(x.GetNotes()) != 1 || len(x.GetMeetings()) != 1 || len(x.GetTimelineEntries()) < 10 || x.GetExportTime() == nil {
		t.Errorf("export: %d messages, %d notes, %d meetings, %d timeline entries", len(x.GetMessages()), len(x.GetNotes()), len(x.GetMeetings()), len(x.GetTimelineEntries()))
	}
	log := x.GetAccessLogEntries()
	if len(log) == 0 || log[len(log)-1].GetKind() != "EXPORT" || log[len(log)-1].GetReader() != "groups/riverside/members/bea-lindqvist" {
		t.Errorf("the export is not the access log's last entry: %v", log)
	}
}

// TestNotifierReadsRolesAndContactOnly: the notification service sees where
// a case stands and who holds its roles, and the client's contact details
// without the concern's words, logged; nothing else.
func TestNotifierReadsRolesAndContactOnly(t *testing.T) {
	t.Parallel()
	e := startCasework(t)
	ctx := context.Background()
	w := e.openWalk(t, "NTFY"+strings.ToUpper(uuid.NewString()[:8]))
	w.do(t, "nominate_spt", "accept_spt", "appoint", "offer_client", "accept_client", "write")
	notifier := caseworkv1.NewCaseworkServiceClient(dialService(t, e.addr))

	c, err := notifier.GetCase(ctx, &caseworkv1.GetCaseRequest{Name: w.name})
	if err != nil || c.GetSpc() != spc || c.GetLp() != lp || c.GetSpt() != spt || c.GetProgressSummary() {
		t.Fatalf("the notifier's case: %v %v", c, err)
	}
	list, err := notifier.ListCases(ctx, &caseworkv1.ListCasesRequest{Parent: "groups/riverside"})
	if err != nil || len(list.GetCases()) != 1 || list.GetCases()[0].GetSpc() != spc || len(list.GetCases()[0].GetNextSteps()) == 0 {
		t.Errorf("the notifier's list of cases: %v %v", list, err)
	}
	rc, err := notifier.GetRegisteredConcern(ctx, &caseworkv1.GetRegisteredConcernRequest{Name: w.name + "/registeredConcern"})
	if err != nil || rc.GetDescription() != "" || rc.GetDesiredOutcome() != "" || rc.GetClientEmail() != w.concern.GetClientContact().GetEmail() {
		t.Errorf("the notifier's concern: description %q, desired outcome %q, e-mail %q, %v", rc.GetDescription(), rc.GetDesiredOutcome(), rc.GetClientEmail(), err)
	}
	// Documents, messages, the timeline and steps are not declared for the
	// notification service (it never calls them): the platform refuses it
	// before any handler runs.
	_, err = notifier.ListDocuments(ctx, &caseworkv1.ListDocumentsRequest{Parent: w.name})
	wantCode(t, "the notifier's documents", err, codes.PermissionDenied, "CALLER_NOT_ALLOWED", "")
	_, err = notifier.ListMessages(ctx, &caseworkv1.ListMessagesRequest{Parent: w.name})
	wantCode(t, "the notifier's messages", err, codes.PermissionDenied, "CALLER_NOT_ALLOWED", "")
	_, err = notifier.ListTimelineEntries(ctx, &caseworkv1.ListTimelineEntriesRequest{Parent: w.name})
	wantCode(t, "the notifier's timeline", err, codes.PermissionDenied, "CALLER_NOT_ALLOWED", "")
	_, err = notifier.TakeStep(ctx, &caseworkv1.TakeStepRequest{Name: w.name, Step: "withdraw"})
	wantCode(t, "the notifier taking a step", err, codes.PermissionDenied, "CALLER_NOT_ALLOWED", "")

	log, err := w.clients[asSPC].ListAccessLogEntries(ctx, &caseworkv1.ListAccessLogEntriesRequest{Parent: w.name})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, entry := range log.GetAccessLogEntries() {
		if entry.GetReader() == "service:notification" && entry.GetKind() == "CLIENT_CONTACT" {
			found = true
		}
	}
	if !found {
		t.Errorf("the notifier's read of the contact details is not in the access log: %v", log.GetAccessLogEntries())
	}
}
