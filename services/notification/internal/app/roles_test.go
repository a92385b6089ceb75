package app

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ipnmediation/disputes/platform/testenv"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	eventsv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/events/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	procedurev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/procedure/v1"
)

// Canaries: confidential text the fake casework holds. None may appear in
// any message; the client's address only as the To of mail to the client.
const (
	canaryClientName = "Zephyrine Canarywood"
	canaryConcern    = "CANARY-CONCERN my sessions ended early"
	clientEmail      = "client-canary@client.example.net"
	testProcedure    = "procedures/test-v1"
)

var (
	// fullCase has every role held; earlyCase only its therapist and a
	// nominee.
	fullCase  = group + "/cases/" + uuid.NewString()
	earlyCase = group + "/cases/" + uuid.NewString()
)

// fakeCasework answers notification's questions about two cases of the
// group, as casework answers the notification service.
type fakeCasework struct {
	caseworkv1.UnimplementedCaseworkServiceServer
}

// withdrawal is the client's step that is always open and never awaited:
// reminders and overdue notices must not go to the client for it.
var withdrawal = &caseworkv1.NextStep{Step: "withdraw", Title: "The client withdraws the concern", Actors: []procedurev1.Role{procedurev1.Role_ROLE_CLIENT}, Optional: true}

func (fakeCasework) GetCase(ctx context.Context, req *caseworkv1.GetCaseRequest) (*caseworkv1.Case, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	switch req.GetName() {
	case fullCase:
		return &caseworkv1.Case{Name: fullCase, Reference: caseReference, Therapist: memberName("alex-moss"), Procedure: testProcedure,
			Spt: memberName("cal-nash"), Spc: memberName("eli-park"), Lp: memberName("fay-quinn"),
			Phase:     procedurev1.Phase_PHASE_WITH_THERAPIST,
			NextSteps: []*caseworkv1.NextStep{{Step: "relay_response", Title: "The SPC relays the response", Actors: []procedurev1.Role{procedurev1.Role_ROLE_SPC}}, withdrawal}}, nil
	case earlyCase:
		return &caseworkv1.Case{Name: earlyCase, Reference: caseReference, Therapist: memberName("alex-moss"), Procedure: testProcedure,
			SptNominee: memberName("dee-okoro"), Phase: procedurev1.Phase_PHASE_REGISTERED,
			NextSteps: []*caseworkv1.NextStep{withdrawal, {Step: "answer_spt_nomination", Title: "The nominee answers", Actors: []procedurev1.Role{procedurev1.Role_ROLE_NOMINEE}}}}, nil
	}
	return nil, status.Error(codes.NotFound, "no such case")
}

// GetRegisteredConcern gives more than casework would (the words and the
// name) so that a leak would show.
func (fakeCasework) GetRegisteredConcern(ctx context.Context, req *caseworkv1.GetRegisteredConcernRequest) (*caseworkv1.RegisteredConcern, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetName() != fullCase+"/registeredConcern" && req.GetName() != earlyCase+"/registeredConcern" {
		return nil, status.Error(codes.NotFound, "no such case")
	}
	return &caseworkv1.RegisteredConcern{Name: req.GetName(), Description: canaryConcern, ClientName: canaryClientName, ClientEmail: clientEmail}, nil
}

func (fakeCasework) GetProcedure(_ context.Context, req *caseworkv1.GetProcedureRequest) (*procedurev1.Procedure, error) {
	if req.GetName() != testProcedure {
		return nil, status.Error(codes.NotFound, "no such procedure")
	}
	return &procedurev1.Procedure{Name: testProcedure, Steps: []*procedurev1.Step{
		{Id: "propose_client_meeting", Action: procedurev1.Action_ACTION_PROPOSE_MEETING, MeetingKind: procedurev1.MeetingKind_MEETING_KIND_CLIENT},
		{Id: "propose_joint_meeting", Action: procedurev1.Action_ACTION_PROPOSE_MEETING, MeetingKind: procedurev1.MeetingKind_MEETING_KIND_JOINT},
		{Id: "confirm_group_meeting", Action: procedurev1.Action_ACTION_CONFIRM_MEETING, MeetingKind: procedurev1.MeetingKind_MEETING_KIND_FULL_GROUP},
	}}, nil
}

func messageEvent(caseName string, sender procedurev1.Role) *eventsv1.CaseMessagePosted {
	return &eventsv1.CaseMessagePosted{
		Metadata: &eventsv1.EventMetadata{EventId: uuid.NewString(), OccurTime: timestamppb.Now(), Group: group, Producer: "casework"},
		Case:     caseName, Message: caseName + "/messages/" + uuid.NewString(), SenderRole: sender.String(),
	}
}

func timerEvent(caseName string, offset string) *eventsv1.CaseTimerFired {
	return &eventsv1.CaseTimerFired{
		Metadata: &eventsv1.EventMetadata{EventId: uuid.NewString(), OccurTime: timestamppb.Now(), Group: group, Producer: "casework"},
		Case:     caseName, Target: "overall", Deadline: timestamppb.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), Offset: offset,
	}
}

// published is one event and where it goes.
type published struct {
	name    string
	subject string
	ev      proto.Message
	id      string
	// want are the addresses told; subject a part of each subject.
	want        []string
	wantSubject string
}

func (r running) publishAll(t *testing.T, evs []published) {
	t.Helper()
	for _, p := range evs {
		r.publishOn(t, r.ns.Subject(group, "case", p.subject), p.ev, p.id)
	}
}

// caseEvents is every case event notification acts on, with its
// recipients. Addresses: alex therapist, cal SPT, dee nominee (early case),
// eli SPC, fay LP, bea admin.
func caseEvents() []published {
	step := func(caseName, id string, a procedurev1.Action) published {
		ev := stepEvent(caseName, id, a)
		return published{name: a.String() + "/" + id, subject: id, ev: ev, id: ev.GetMetadata().GetEventId()}
	}
	with := func(p published, subject string, want ...string) published {
		slices.Sort(want)
		p.want, p.wantSubject = want, subject
		return p
	}
	everyone := []string{emailOf("alex-moss"), emailOf("cal-nash"), emailOf("eli-park"), emailOf("fay-quinn"), clientEmail}
	msg := func(sender procedurev1.Role) published {
		ev := messageEvent(fullCase, sender)
		return published{name: "message from " + sender.String(), subject: "message_posted", ev: ev, id: ev.GetMetadata().GetEventId()}
	}
	timer := func(caseName, kind, offset string) published {
		ev := timerEvent(caseName, offset)
		return published{name: kind + " " + caseName, subject: kind, ev: ev, id: ev.GetMetadata().GetEventId()}
	}
	return []published{
		with(step(earlyCase, "nominate_spt", procedurev1.Action_ACTION_NOMINATE_SPT), "You are asked to support", emailOf("dee-okoro")),
		with(step(fullCase, "answer_spt_nomination", procedurev1.Action_ACTION_ANSWER_NOMINATION), "Your support person has answered", emailOf("alex-moss")),
		with(step(fullCase, "appoint_spc_and_lp", procedurev1.Action_ACTION_APPOINT_SUPPORT), " person - ", emailOf("eli-park"), emailOf("fay-quinn")),
		// Nobody holds the SPC's or LP's role yet: nobody is told.
		with(step(earlyCase, "appoint_spc_and_lp", procedurev1.Action_ACTION_APPOINT_SUPPORT), ""),
		with(step(fullCase, "propose_client_meeting", procedurev1.Action_ACTION_PROPOSE_MEETING), "A meeting is proposed", emailOf("eli-park"), clientEmail),
		with(step(fullCase, "propose_joint_meeting", procedurev1.Action_ACTION_PROPOSE_MEETING), "A meeting is proposed",
			emailOf("eli-park"), clientEmail, emailOf("alex-moss"), emailOf("cal-nash")),
		with(step(fullCase, "confirm_group_meeting", procedurev1.Action_ACTION_CONFIRM_MEETING), "meeting is confirmed", activeEmails()...),
		with(step(fullCase, "write_statement", procedurev1.Action_ACTION_WRITE_STATEMENT), "A draft of your statement", clientEmail),
		with(step(fullCase, "answer_statement", procedurev1.Action_ACTION_ANSWER_STATEMENT), "answered the draft statement", emailOf("eli-park")),
		with(step(fullCase, "convey_statement", procedurev1.Action_ACTION_CONVEY_STATEMENT), "statement ", emailOf("alex-moss"), emailOf("cal-nash")),
		with(step(fullCase, "record_response", procedurev1.Action_ACTION_RECORD_RESPONSE), "The therapist has responded", emailOf("eli-park")),
		with(step(fullCase, "relay_response", procedurev1.Action_ACTION_RELAY_RESPONSE), "A response to your concern", clientEmail),
		with(step(fullCase, "decide", procedurev1.Action_ACTION_DECIDE), "The client has decided", emailOf("eli-park"), emailOf("fay-quinn")),
		with(step(fullCase, "close", procedurev1.Action_ACTION_CLOSE), "closed", everyone...),
		with(step(fullCase, "withdraw", procedurev1.Action_ACTION_WITHDRAW), "withdrawn", everyone...),
		with(msg(procedurev1.Role_ROLE_CLIENT), "A message from the client", emailOf("eli-park")),
		with(msg(procedurev1.Role_ROLE_SPC), "A message from your support person", clientEmail),
		with(timer(fullCase, "reminder", "168h0m0s"), "Reminder:", emailOf("eli-park")),
		with(timer(fullCase, "overdue", ""), "Overdue:", emailOf("eli-park"), emailOf("bea-lund")),
		with(timer(earlyCase, "reminder", "72h0m0s"), "Reminder:", emailOf("dee-okoro")),
	}
}

// byEvent groups what mailpit holds by the event whose delivery it is.
func (r running) byEvent(t *testing.T, m *testenv.Mailpit) map[string][]testenv.Message {
	t.Helper()
	out := map[string][]testenv.Message{}
	for _, msg := range received(t, m) {
		id := strings.TrimSuffix(strings.Trim(msg.MessageID, "<>"), "@disputes.ipn")
		var eventID string
		if err := r.db.QueryRow(context.Background(), `SELECT event_id::text FROM notification.deliveries WHERE id = $1`, id).Scan(&eventID); err != nil {
			t.Fatalf("delivery of %s: %v", msg.MessageID, err)
		}
		out[eventID] = append(out[eventID], msg)
	}
	return out
}

func expectedCount(evs []published) int {
	n := 0
	for _, p := range evs {
		n += len(p.want)
	}
	return n
}

func TestCaseEventsTellRoleHolders(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	r := startNotification(t, options{smtpAddr: mailpit.SMTPAddr})
	evs := caseEvents()
	r.publishAll(t, evs)
	total := expectedCount(evs)
	testenv.Eventually(t, 2*time.Minute, "every message arrives", func() bool {
		return r.stateCounts(t)["sent"] >= total && len(received(t, mailpit)) >= total
	})
	got := r.byEvent(t, mailpit)
	for _, p := range evs {
		t.Run(p.name, func(t *testing.T) {
			var to []string
			for _, m := range got[p.id] {
				for _, a := range m.To {
					to = append(to, a.Address)
				}
				if !strings.Contains(m.Subject, p.wantSubject) {
					t.Errorf("subject %q; want it to contain %q", m.Subject, p.wantSubject)
				}
			}
			slices.Sort(to)
			if !slices.Equal(to, p.want) {
				t.Errorf("told %v; want %v", to, p.want)
			}
		})
	}
	if n := len(received(t, mailpit)); n != total {
		t.Errorf("%d messages; want %d", n, total)
	}
	// No confidential text anywhere; the client's address only as the
	// recipient of mail to the client.
	ctx := context.Background()
	for _, m := range received(t, mailpit) {
		raw, err := mailpit.Raw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		toClient := len(m.To) == 1 && m.To[0].Address == clientEmail
		canaries := []string{canaryClientName, canaryConcern, "Canary", caseReference, "+44"}
		if m.To[0].Address != emailOf("alex-moss") {
			// The therapist's name only ever in mail to the therapist.
			canaries = append(canaries, "Alex Moss")
		}
		for _, canary := range canaries {
			if strings.Contains(raw, canary) {
				t.Errorf("message %q carries %q", m.Subject, canary)
			}
		}
		if strings.Count(raw, clientEmail) > 0 && !toClient {
			t.Errorf("message %q to %v carries the client's address", m.Subject, m.To)
		}
		if toClient {
			body, err := mailpit.Body(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(body.Text+body.HTML, clientEmail) || strings.Contains(body.Text, group+"/cases/") {
				t.Errorf("the body of %q to the client carries its address or the case's name", m.Subject)
			}
		}
	}
}

// TestReminderSentOnceToTheLateRoleHolder: each reminder is one message to
// the holder of the late role, whether casework publishes it again or
// notification restarts.
func TestReminderSentOnceToTheLateRoleHolder(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	o := options{smtpAddr: mailpit.SMTPAddr, dbURL: testenv.Database(t), ns: testenv.Namespace(t)}
	reminder := timerEvent(earlyCase, "72h0m0s")
	overdue := timerEvent(fullCase, "")
	publish := func(r running) {
		r.publishOn(t, r.ns.Subject(group, "case", "reminder"), reminder, reminder.GetMetadata().GetEventId())
		r.publishOn(t, r.ns.Subject(group, "case", "reminder"), reminder, uuid.NewString())
		r.publishOn(t, r.ns.Subject(group, "case", "overdue"), overdue, overdue.GetMetadata().GetEventId())
		r.publishOn(t, r.ns.Subject(group, "case", "overdue"), overdue, uuid.NewString())
	}
	want := []string{emailOf("bea-lund"), emailOf("dee-okoro"), emailOf("eli-park")}
	check := func(t *testing.T) {
		var to []string
		for _, m := range received(t, mailpit) {
			to = append(to, m.To[0].Address)
		}
		slices.Sort(to)
		if !slices.Equal(to, want) {
			t.Errorf("told %v; want %v", to, want)
		}
	}
	t.Run("first run", func(t *testing.T) {
		r := startNotification(t, o)
		publish(r)
		testenv.Eventually(t, time.Minute, "three reminders", func() bool {
			return r.stateCounts(t)["sent"] >= 3 && len(received(t, mailpit)) >= 3
		})
		check(t)
	})
	t.Run("after a restart", func(t *testing.T) {
		r := startNotification(t, o)
		publish(r)
		marker := stepEvent(earlyCase, "nominate_spt", procedurev1.Action_ACTION_NOMINATE_SPT)
		r.publishStep(t, marker, marker.GetMetadata().GetEventId())
		// The consumer takes events in order: once the marker's message is
		// out, the republished reminders were handled.
		testenv.Eventually(t, time.Minute, "the marker's message", func() bool { return len(received(t, mailpit)) >= 4 })
		want = append(want, emailOf("dee-okoro"))
		slices.Sort(want)
		check(t)
		if counts := r.stateCounts(t); counts["sent"] != 4 {
			t.Errorf("deliveries %v; want 4 sent", counts)
		}
	})
}

func TestTemplateOverrides(t *testing.T) {
	t.Parallel()
	mailpit := testenv.StartMailpit(t)
	r := startNotification(t, options{smtpAddr: mailpit.SMTPAddr})
	ctx := context.Background()
	admin := r.client(t, adminToken)
	name := group + "/templates/reminder"

	list, err := admin.ListTemplates(ctx, &notificationv1.ListTemplatesRequest{Parent: group})
	if err != nil || len(list.GetTemplates()) < 20 {
		t.Fatalf("ListTemplates: %d, %v", len(list.GetTemplates()), err)
	}
	// Every name the list gives reads back, through the platform's check
	// of resource names as every call goes: case_closed is case-closed.
	for _, listed := range list.GetTemplates() {
		read, err := admin.GetTemplate(ctx, &notificationv1.GetTemplateRequest{Name: listed.GetName()})
		if err != nil || !proto.Equal(read, listed) {
			t.Errorf("GetTemplate(%s): %v, %v; want it as listed", listed.GetName(), read, err)
		}
		if _, err := admin.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{Name: listed.GetName()}); err != nil {
			t.Errorf("PreviewTemplate(%s): %v", listed.GetName(), err)
		}
	}
	if !slices.ContainsFunc(list.GetTemplates(), func(t *notificationv1.Template) bool { return t.GetName() == group+"/templates/case-closed" }) {
		t.Errorf("no template named %s/templates/case-closed among %d", group, len(list.GetTemplates()))
	}
	refusals := []struct {
		name   string
		client notificationv1.NotificationServiceClient
		tmpl   *notificationv1.Template
		code   codes.Code
		field  string
	}{
		{"does not parse", admin, &notificationv1.Template{Name: name, Subject: "Late {{.GroupName"}, codes.InvalidArgument, "template.subject"},
		{"unknown field", admin, &notificationv1.Template{Name: name, TextBody: "Hello {{.ClientName}}"}, codes.InvalidArgument, "template.text_body"},
		{"bad html", admin, &notificationv1.Template{Name: name, HtmlBody: "<p>{{.Nope}}</p>"}, codes.InvalidArgument, "template.html_body"},
		{"html for a plain-text message", admin, &notificationv1.Template{Name: group + "/templates/progress-reported", HtmlBody: "<p>x</p>"}, codes.InvalidArgument, "template.html_body"},
		{"the key's underscores in the name", admin, &notificationv1.Template{Name: group + "/templates/case_closed", Subject: "x"}, codes.InvalidArgument, "template.name"},
		{"an unknown part in the mask", admin, &notificationv1.Template{Name: name, Subject: "x", TextBody: "y"}, codes.InvalidArgument, "update_mask"},
		{"unknown template", admin, &notificationv1.Template{Name: group + "/templates/nope", Subject: "x"}, codes.NotFound, ""},
		{"a member who is not an admin", r.client(t, memberToken), &notificationv1.Template{Name: name, Subject: "x"}, codes.PermissionDenied, ""},
		{"another group's admin", r.client(t, otherGroupToken), &notificationv1.Template{Name: name, Subject: "x"}, codes.NotFound, ""},
		{"the operator", r.client(t, operatorToken), &notificationv1.Template{Name: name, Subject: "x"}, codes.PermissionDenied, ""},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			req := &notificationv1.UpdateTemplateRequest{Template: tt.tmpl}
			if tt.field == "update_mask" {
				req.UpdateMask = &fieldmaskpb.FieldMask{Paths: []string{"subject", "footer"}}
			}
			_, err := tt.client.UpdateTemplate(ctx, req)
			if status.Code(err) != tt.code {
				t.Fatalf("code %v (%v); want %v", status.Code(err), err, tt.code)
			}
			if tt.field != "" && !strings.Contains(status.Convert(err).Message(), tt.field) {
				t.Errorf("error %v does not name %s", err, tt.field)
			}
		})
	}

	const subject = "Riverside: {{.GroupName}} needs you by {{.Deadline}}"
	got, err := admin.UpdateTemplate(ctx, &notificationv1.UpdateTemplateRequest{Template: &notificationv1.Template{Name: name, Subject: subject}})
	if err != nil || !got.GetOverridden() || got.GetSubject() != subject || got.GetTextBody() == "" {
		t.Fatalf("UpdateTemplate: %v, %v", got, err)
	}
	if read, err := admin.GetTemplate(ctx, &notificationv1.GetTemplateRequest{Name: name}); err != nil || !proto.Equal(read, got) {
		t.Errorf("GetTemplate: %v, %v; want %v", read, err, got)
	}
	preview, err := admin.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{Name: name})
	if err != nil || preview.GetSubject() != "Riverside: Sample Group needs you by Monday 2 March 2026" || !strings.Contains(preview.GetTextBody(), "Sample Member") {
		t.Errorf("preview: %v, %v", preview, err)
	}
	draft, err := admin.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{Name: name, Draft: &notificationv1.Template{TextBody: "Hi {{.RecipientName}}"}})
	if err != nil || draft.GetTextBody() != "Hi Sample Member" {
		t.Errorf("draft preview: %v, %v", draft, err)
	}
	if _, err := admin.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{Name: name, Draft: &notificationv1.Template{TextBody: "{{"}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("broken draft preview: %v", err)
	}
	// A body's limit is the contract's max_length, 20,000 characters,
	// however many bytes each takes; one more is refused, naming the field.
	longest := strings.Repeat("😀", 20000)
	if long, err := admin.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{Name: name, Draft: &notificationv1.Template{TextBody: longest}}); err != nil || long.GetTextBody() != longest {
		t.Errorf("draft of 20,000 four-byte characters: %d characters, %v", len([]rune(long.GetTextBody())), err)
	}
	_, err = admin.PreviewTemplate(ctx, &notificationv1.PreviewTemplateRequest{Name: name, Draft: &notificationv1.Template{TextBody: longest + "😀"}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "draft.text_body") {
		t.Errorf("draft of 20,001 characters: %v", err)
	}

	// The group's wording is what is sent.
	ev := timerEvent(fullCase, "168h0m0s")
	r.publishOn(t, r.ns.Subject(group, "case", "reminder"), ev, ev.GetMetadata().GetEventId())
	testenv.Eventually(t, time.Minute, "the reminder", func() bool { return len(received(t, mailpit)) >= 1 })
	if m := received(t, mailpit)[0]; m.Subject != "Riverside: "+groupDisplayName+" needs you by Monday 2 March 2026" {
		t.Errorf("sent subject %q", m.Subject)
	}

	// A part the mask names changes (by its JSON name here); the group's
	// subject stays. Without a mask, a template that sets nothing changes
	// nothing.
	body, err := admin.UpdateTemplate(ctx, &notificationv1.UpdateTemplateRequest{
		Template:   &notificationv1.Template{Name: name, Subject: "ignored", TextBody: "Hello {{.RecipientName}}"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"textBody"}}})
	if err != nil || body.GetSubject() != subject || body.GetTextBody() != "Hello {{.RecipientName}}" || !body.GetOverridden() {
		t.Errorf("the text body alone: %v, %v", body, err)
	}
	if same, err := admin.UpdateTemplate(ctx, &notificationv1.UpdateTemplateRequest{Template: &notificationv1.Template{Name: name}}); err != nil || !proto.Equal(same, body) {
		t.Errorf("an update that sets nothing: %v, %v; want %v", same, err, body)
	}

	// All parts set empty (* names them all): the standard wording again.
	reset, err := admin.UpdateTemplate(ctx, &notificationv1.UpdateTemplateRequest{Template: &notificationv1.Template{Name: name},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"*"}}})
	if err != nil || reset.GetOverridden() || !strings.HasPrefix(reset.GetSubject(), "Reminder:") {
		t.Errorf("reset: %v, %v", reset, err)
	}
}
