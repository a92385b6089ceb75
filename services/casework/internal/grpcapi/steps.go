package grpcapi

import (
	"context"
	"strings"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/ipnmediation/disputes/services/casework/internal/icalendar"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TakeStep implements caseworkv1.CaseworkServiceServer.
func (s *Server) TakeStep(ctx context.Context, req *caseworkv1.TakeStepRequest) (*caseworkv1.TakeStepResponse, error) {
	r := casefile.StepRequest{Step: req.GetStep(), Etag: req.GetEtag(), Outcome: req.GetOutcome(), Member: req.GetMember()}
	if a := req.GetAppointment(); a != nil {
		r.Appointment = &casefile.Appointment{SPC: a.GetSpc(), LP: a.GetLp()}
	}
	if p := req.GetMeetingProposal(); p != nil {
		r.Proposal = &casefile.Proposal{Location: p.GetLocation()}
		for _, slot := range p.GetSlots() {
			r.Proposal.Slots = append(r.Proposal.Slots, casefile.Slot{Start: slot.GetStartTime().AsTime(), End: slot.GetEndTime().AsTime()})
		}
	}
	if m := req.GetMeetingAnswer(); m != nil {
		r.MeetingAnswer = &casefile.MeetingAnswer{Meeting: m.GetMeeting(), Notes: m.GetNotes()}
		for _, i := range m.GetSlots() {
			r.MeetingAnswer.Slots = append(r.MeetingAnswer.Slots, int(i))
		}
	}
	if w := req.GetWrittenStatement(); w != nil {
		r.Statement = &casefile.Statement{Concern: w.GetConcern(), DesiredOutcome: w.GetDesiredOutcome(), Summary: w.GetSummary()}
	}
	if a := req.GetStatementAnswer(); a != nil {
		r.StatementAnswer = &casefile.StatementAnswer{Document: a.GetDocument(), Comment: a.GetComment(), Constraints: constraintsFromProto(a.GetConstraints())}
	}
	if t := req.GetText(); t != nil {
		r.Text = &casefile.TextInput{Text: t.GetText(), LinkGroup: t.GetLinkGroup()}
	}
	res, err := s.Cases.TakeStep(ctx, req.GetName(), r)
	if err != nil {
		return nil, err
	}
	return &caseworkv1.TakeStepResponse{Case: caseToProto(res.View), TimelineEntry: entryToProto(res.View.Case, res.Entry), Created: res.Created}, nil
}

var sharing = map[caseworkv1.Constraints_Sharing]casefile.Sharing{
	caseworkv1.Constraints_SHARING_UNSPECIFIED:  casefile.ShareFull,
	caseworkv1.Constraints_SHARING_FULL:         casefile.ShareFull,
	caseworkv1.Constraints_SHARING_SUMMARY_ONLY: casefile.ShareSummaryOnly,
}

func constraintsFromProto(c *caseworkv1.Constraints) casefile.Constraints {
	return casefile.Constraints{Sharing: sharing[c.GetSharing()], Withheld: c.GetWithheldDetails(), Other: c.GetOther()}
}

func constraintsToProto(c *casefile.Constraints) *caseworkv1.Constraints {
	if c == nil {
		return nil
	}
	out := &caseworkv1.Constraints{Sharing: caseworkv1.Constraints_SHARING_FULL, WithheldDetails: c.Withheld, Other: c.Other}
	if c.Sharing == casefile.ShareSummaryOnly {
		out.Sharing = caseworkv1.Constraints_SHARING_SUMMARY_ONLY
	}
	return out
}

// GetProcedure implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetProcedure(_ context.Context, req *caseworkv1.GetProcedureRequest) (*procedurev1.Procedure, error) {
	return s.Cases.Procedure(req.GetName())
}

// ListProcedures implements caseworkv1.CaseworkServiceServer.
func (s *Server) ListProcedures(context.Context, *caseworkv1.ListProceduresRequest) (*caseworkv1.ListProceduresResponse, error) {
	resp := &caseworkv1.ListProceduresResponse{DefaultProcedure: s.Cases.Procedures.Default().Name()}
	for _, d := range s.Cases.Procedures.All() {
		resp.Procedures = append(resp.Procedures, d.Proto())
	}
	return resp, nil
}

// ListTimelineEntries implements caseworkv1.CaseworkServiceServer.
func (s *Server) ListTimelineEntries(ctx context.Context, req *caseworkv1.ListTimelineEntriesRequest) (*caseworkv1.ListTimelineEntriesResponse, error) {
	after, err := decodeSeqToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	entries, next, err := s.Cases.Timeline(ctx, req.GetParent(), after, int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	resp := &caseworkv1.ListTimelineEntriesResponse{NextPageToken: encodeSeqToken(next)}
	for _, e := range entries {
		resp.TimelineEntries = append(resp.TimelineEntries, entryToProto(casefile.Case{}, e))
	}
	// Entries carry their case's name; the parent is that case.
	for _, e := range resp.TimelineEntries {
		e.Name = req.GetParent() + e.Name
	}
	return resp, nil
}

// GetTimelineEntry implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetTimelineEntry(ctx context.Context, req *caseworkv1.GetTimelineEntryRequest) (*caseworkv1.TimelineEntry, error) {
	e, c, err := s.Cases.TimelineEntry(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return entryToProto(c, e), nil
}

// entryToProto translates e; its name is relative ("/timelineEntries/n")
// when c is the zero case.
func entryToProto(c casefile.Case, e casefile.TimelineEntry) *caseworkv1.TimelineEntry {
	prefix := ""
	if c.ID != "" {
		prefix = c.Name()
	}
	return &caseworkv1.TimelineEntry{
		Name:       prefix + "/timelineEntries/" + itoa(e.Seq),
		Step:       e.Step,
		Title:      e.Title,
		Actor:      e.Actor,
		ActorRole:  e.ActorRole,
		Outcome:    e.Outcome,
		Subject:    e.Subject,
		CreateTime: timestamppb.New(e.CreateTime),
	}
}

var documentKinds = map[caseworkv1.Document_Kind]casefile.DocumentKind{
	caseworkv1.Document_KIND_WRITTEN_STATEMENT:  casefile.WrittenStatementDoc,
	caseworkv1.Document_KIND_THERAPIST_RESPONSE: casefile.ResponseDoc,
	caseworkv1.Document_KIND_PROGRESS_REPORT:    casefile.ProgressReportDoc,
	caseworkv1.Document_KIND_LINK_GROUP_ISSUE:   casefile.LinkGroupIssueDoc,
	caseworkv1.Document_KIND_MEETING_OUTCOME:    casefile.MeetingOutcomeDoc,
	caseworkv1.Document_KIND_CLOSING_REASONS:    casefile.ClosingReasonsDoc,
	caseworkv1.Document_KIND_CLIENT_COMMENT:     casefile.ClientCommentDoc,
	caseworkv1.Document_KIND_UNSPECIFIED:        "",
}

// ListDocuments implements caseworkv1.CaseworkServiceServer.
func (s *Server) ListDocuments(ctx context.Context, req *caseworkv1.ListDocumentsRequest) (*caseworkv1.ListDocumentsResponse, error) {
	docs, c, err := s.Cases.Documents(ctx, req.GetParent(), documentKinds[req.GetKind()])
	if err != nil {
		return nil, err
	}
	resp := &caseworkv1.ListDocumentsResponse{}
	for _, d := range docs {
		resp.Documents = append(resp.Documents, documentToProto(c, d))
	}
	return resp, nil
}

// GetDocument implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetDocument(ctx context.Context, req *caseworkv1.GetDocumentRequest) (*caseworkv1.Document, error) {
	d, c, err := s.Cases.Document(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return documentToProto(c, d), nil
}

func documentToProto(c casefile.Case, d casefile.Document) *caseworkv1.Document {
	out := &caseworkv1.Document{
		Name:       casefile.DocumentName(c, d),
		Author:     d.Author,
		Version:    int32(d.Version),
		CreateTime: timestamppb.New(d.CreateTime),
		Text:       d.Text,
		Step:       d.Step,
		Subject:    d.Subject,
	}
	for k, v := range documentKinds {
		if v == d.Kind && v != "" {
			out.Kind = k
		}
	}
	if st := d.Statement; st != nil {
		out.WrittenStatement = &caseworkv1.WrittenStatement{
			Concern: st.Concern, DesiredOutcome: st.DesiredOutcome, Summary: st.Summary, AsConveyed: st.AsConveyed,
		}
		if !st.AsConveyed {
			out.WrittenStatement.Constraints = constraintsToProto(st.Constraints)
		}
	}
	return out
}

// ListMeetings implements caseworkv1.CaseworkServiceServer.
func (s *Server) ListMeetings(ctx context.Context, req *caseworkv1.ListMeetingsRequest) (*caseworkv1.ListMeetingsResponse, error) {
	meetings, c, err := s.Cases.Meetings(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	resp := &caseworkv1.ListMeetingsResponse{}
	for _, m := range meetings {
		resp.Meetings = append(resp.Meetings, meetingToProto(c, m))
	}
	return resp, nil
}

// GetMeeting implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetMeeting(ctx context.Context, req *caseworkv1.GetMeetingRequest) (*caseworkv1.Meeting, error) {
	m, c, err := s.Cases.Meeting(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return meetingToProto(c, m), nil
}

// GetMeetingCalendar implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetMeetingCalendar(ctx context.Context, req *caseworkv1.GetMeetingCalendarRequest) (*httpbody.HttpBody, error) {
	ev, err := s.Cases.Calendar(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	data, err := icalendar.Render(icalendar.Event{
		UID: ev.UID, Sequence: ev.Sequence, Start: ev.Start, End: ev.End, Summary: ev.Summary,
		Description: ev.Description, Stamp: ev.Stamp,
	})
	if err != nil {
		return nil, err
	}
	return &httpbody.HttpBody{ContentType: icalendar.ContentType, Data: data}, nil
}

var meetingStates = map[casefile.MeetingState]caseworkv1.Meeting_State{
	casefile.MeetingProposed:   caseworkv1.Meeting_STATE_PROPOSED,
	casefile.MeetingConfirmed:  caseworkv1.Meeting_STATE_CONFIRMED,
	casefile.MeetingDeclined:   caseworkv1.Meeting_STATE_DECLINED,
	casefile.MeetingSuperseded: caseworkv1.Meeting_STATE_SUPERSEDED,
	casefile.MeetingHeld:       caseworkv1.Meeting_STATE_HELD,
}

func meetingToProto(c casefile.Case, m casefile.Meeting) *caseworkv1.Meeting {
	out := &caseworkv1.Meeting{
		Name: m.Name(c), Kind: m.Kind, State: meetingStates[m.State], Location: m.Location, Proposer: m.Proposer,
		ConfirmedSlot: int32(m.Confirmed), CreateTime: timestamppb.New(m.CreateTime), Participants: m.Participants(),
	}
	for _, slot := range m.Slots {
		out.Slots = append(out.Slots, &caseworkv1.TimeSlot{StartTime: timestamppb.New(slot.Start), EndTime: timestamppb.New(slot.End)})
	}
	for _, r := range m.Responses {
		resp := &caseworkv1.MeetingResponse{Participant: r.Participant, Answer: r.Answer, CreateTime: timestamppb.New(r.Time)}
		for _, i := range r.Available {
			resp.AvailableSlots = append(resp.AvailableSlots, int32(i))
		}
		out.Responses = append(out.Responses, resp)
	}
	return out
}

// GetRegisteredConcern implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetRegisteredConcern(ctx context.Context, req *caseworkv1.GetRegisteredConcernRequest) (*caseworkv1.RegisteredConcern, error) {
	rc, err := s.Cases.RegisteredConcern(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	out := &caseworkv1.RegisteredConcern{Name: req.GetName(), Description: rc.Description, DesiredOutcome: rc.DesiredOutcome,
		RegisterTime: timestamppb.New(rc.RegisterTime)}
	if rc.ContactShown {
		out.ClientName, out.ClientEmail, out.ClientPhone = rc.ClientName, rc.ClientEmail, rc.ClientPhone
	}
	return out, nil
}

// CreateMessage implements caseworkv1.CaseworkServiceServer.
func (s *Server) CreateMessage(ctx context.Context, req *caseworkv1.CreateMessageRequest) (*caseworkv1.Message, error) {
	d, err := s.Cases.PostMessage(ctx, req.GetParent(), req.GetMessage().GetText())
	if err != nil {
		return nil, err
	}
	return messageToProto(req.GetParent(), d), nil
}

// ListMessages implements caseworkv1.CaseworkServiceServer.
func (s *Server) ListMessages(ctx context.Context, req *caseworkv1.ListMessagesRequest) (*caseworkv1.ListMessagesResponse, error) {
	docs, err := s.Cases.Messages(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	resp := &caseworkv1.ListMessagesResponse{}
	for _, d := range docs {
		resp.Messages = append(resp.Messages, messageToProto(req.GetParent(), d))
	}
	return resp, nil
}

// GetMessage implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetMessage(ctx context.Context, req *caseworkv1.GetMessageRequest) (*caseworkv1.Message, error) {
	d, err := s.Cases.Message(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	caseName, _, _ := strings.Cut(req.GetName(), "/messages/")
	return messageToProto(caseName, d), nil
}

func messageToProto(caseName string, d casefile.Document) *caseworkv1.Message {
	return &caseworkv1.Message{Name: caseName + "/messages/" + d.ID, SenderRole: d.AuthorRole, Sender: d.Author,
		Text: d.Text, CreateTime: timestamppb.New(d.CreateTime)}
}

// CreateNote implements caseworkv1.CaseworkServiceServer.
func (s *Server) CreateNote(ctx context.Context, req *caseworkv1.CreateNoteRequest) (*caseworkv1.Note, error) {
	d, err := s.Cases.AddNote(ctx, req.GetParent(), req.GetNote().GetText())
	if err != nil {
		return nil, err
	}
	return noteToProto(req.GetParent(), d), nil
}

// ListNotes implements caseworkv1.CaseworkServiceServer.
func (s *Server) ListNotes(ctx context.Context, req *caseworkv1.ListNotesRequest) (*caseworkv1.ListNotesResponse, error) {
	docs, err := s.Cases.Notes(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	resp := &caseworkv1.ListNotesResponse{}
	for _, d := range docs {
		resp.Notes = append(resp.Notes, noteToProto(req.GetParent(), d))
	}
	return resp, nil
}

// GetNote implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetNote(ctx context.Context, req *caseworkv1.GetNoteRequest) (*caseworkv1.Note, error) {
	d, err := s.Cases.Note(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	caseName, _, _ := strings.Cut(req.GetName(), "/notes/")
	return noteToProto(caseName, d), nil
}

func noteToProto(caseName string, d casefile.Document) *caseworkv1.Note {
	return &caseworkv1.Note{Name: caseName + "/notes/" + d.ID, Author: d.Author, Text: d.Text, CreateTime: timestamppb.New(d.CreateTime)}
}

// ReissueAccessCode implements caseworkv1.CaseworkServiceServer.
func (s *Server) ReissueAccessCode(ctx context.Context, req *caseworkv1.ReissueAccessCodeRequest) (*caseworkv1.ReissueAccessCodeResponse, error) {
	reference, code, err := s.Cases.ReissueAccessCode(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &caseworkv1.ReissueAccessCodeResponse{Reference: reference, AccessCode: code}, nil
}

// ListAccessLogEntries implements caseworkv1.CaseworkServiceServer.
func (s *Server) ListAccessLogEntries(ctx context.Context, req *caseworkv1.ListAccessLogEntriesRequest) (*caseworkv1.ListAccessLogEntriesResponse, error) {
	after, err := decodeSeqToken(req.GetPageToken())
	if err != nil {
		return nil, err
	}
	records, next, err := s.Cases.AccessLog(ctx, req.GetParent(), int64(after), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	resp := &caseworkv1.ListAccessLogEntriesResponse{NextPageToken: encodeSeqToken(int(next))}
	for _, r := range records {
		resp.AccessLogEntries = append(resp.AccessLogEntries, accessEntryToProto(req.GetParent(), r))
	}
	return resp, nil
}

// GetAccessLogEntry implements caseworkv1.CaseworkServiceServer.
func (s *Server) GetAccessLogEntry(ctx context.Context, req *caseworkv1.GetAccessLogEntryRequest) (*caseworkv1.AccessLogEntry, error) {
	r, err := s.Cases.AccessLogEntry(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	caseName, _, _ := strings.Cut(req.GetName(), "/accessLogEntries/")
	return accessEntryToProto(caseName, r), nil
}

func accessEntryToProto(caseName string, r casefile.AccessRecord) *caseworkv1.AccessLogEntry {
	return &caseworkv1.AccessLogEntry{
		Name:       caseName + "/accessLogEntries/" + itoa(int(r.Seq)),
		Reader:     r.Reader,
		ReaderRole: r.ReaderRole,
		Resource:   r.Resource,
		Kind:       string(r.Kind),
		ReadTime:   timestamppb.New(r.Time),
	}
}

// ExportClientData implements caseworkv1.CaseworkServiceServer.
func (s *Server) ExportClientData(ctx context.Context, req *caseworkv1.ExportClientDataRequest) (*caseworkv1.ClientDataExport, error) {
	e, err := s.Cases.ExportClientData(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	c := e.View.Case
	out := &caseworkv1.ClientDataExport{
		Case: caseToProto(e.View),
		RegisteredConcern: &caseworkv1.RegisteredConcern{
			Name: c.Name() + "/registeredConcern", Description: e.Concern.Description, DesiredOutcome: e.Concern.DesiredOutcome, ClientName: e.Concern.ClientName,
			ClientEmail: e.Concern.ClientEmail, ClientPhone: e.Concern.ClientPhone, RegisterTime: timestamppb.New(e.Concern.RegisterTime),
		},
		ExportTime: timestamppb.New(e.ExportedTime),
	}
	for _, d := range e.Documents {
		out.Documents = append(out.Documents, documentToProto(c, d))
	}
	for _, d := range e.Messages {
		out.Messages = append(out.Messages, messageToProto(c.Name(), d))
	}
	for _, d := range e.Notes {
		out.Notes = append(out.Notes, noteToProto(c.Name(), d))
	}
	for _, m := range e.Meetings {
		out.Meetings = append(out.Meetings, meetingToProto(c, m))
	}
	for _, t := range e.Timeline {
		out.TimelineEntries = append(out.TimelineEntries, entryToProto(c, t))
	}
	for _, r := range e.AccessLog {
		out.AccessLogEntries = append(out.AccessLogEntries, accessEntryToProto(c.Name(), r))
	}
	return out, nil
}

// FindClientCases implements caseworkv1.CaseworkServiceServer.
func (s *Server) FindClientCases(ctx context.Context, req *caseworkv1.FindClientCasesRequest) (*caseworkv1.FindClientCasesResponse, error) {
	names, err := s.Cases.FindClientCases(ctx, req.GetParent(), req.GetClientEmail(), req.GetClientPhone())
	if err != nil {
		return nil, err
	}
	return &caseworkv1.FindClientCasesResponse{Cases: names}, nil
}
