package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func serve(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return New(u, 2*time.Second)
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	var got *http.Request
	var gotBody string
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		if strings.HasSuffix(r.URL.Path, ":takeStep") {
			w.Write([]byte(`{"case": {"name": "groups/riverside/cases/c1", "phase": "PHASE_CLOSED"}, "timelineEntry": null, "created": ""}`))
			return
		}
		// A field this website does not know yet is skipped.
		w.Write([]byte(`{"reference": "K7QM-3XRD", "accessCode": "AAAA", "case": "groups/riverside/cases/c1", "newField": {"x": 1}}`))
	})
	ctx := WithClientAddress(context.Background(), netip.MustParseAddr("203.0.113.9"))
	concern, err := c.CreateConcern(ctx, "riverside", &intakev1.Concern{Practitioner: "groups/riverside/members/cal-reyes", ClientName: "Sam"}, "req-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if concern.GetReference() != "K7QM-3XRD" || concern.GetCase() != "groups/riverside/cases/c1" {
		t.Errorf("answer %v", concern)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/v1/groups/riverside/concerns" || got.URL.Query().Get("requestId") != "req-1" || got.URL.Query().Has("website") {
		t.Errorf("request %s %s", got.Method, got.URL)
	}
	if got.Header.Get("Content-Type") != "application/json" || got.Header.Get("Authorization") != "" || got.Header.Get("X-Forwarded-For") != "203.0.113.9" {
		t.Errorf("headers %v", got.Header)
	}
	if !sameJSON(gotBody, `{"practitioner":"groups/riverside/members/cal-reyes","clientName":"Sam"}`) {
		t.Errorf("body %s", gotBody)
	}

	if _, err := c.TakeStep(context.Background(), "ipncs_x", &caseworkv1.TakeStepRequest{Name: "groups/riverside/cases/c1", Step: "withdraw", Etag: "e1"}); err != nil {
		t.Fatal(err)
	}
	if got.URL.Path != "/v1/groups/riverside/cases/c1:takeStep" || got.Header.Get("Authorization") != "Bearer ipncs_x" || got.Header.Get("X-Forwarded-For") != "" {
		t.Errorf("request %s %v", got.URL, got.Header)
	}
	if !sameJSON(gotBody, `{"step":"withdraw","etag":"e1"}`) {
		t.Errorf("body %s", gotBody)
	}
}

// TestProtobufAnswers: the website asks for protobuf answers and reads them,
// and an error in protobuf with all its details, as it reads JSON ones.
func TestProtobufAnswers(t *testing.T) {
	t.Parallel()
	var accept string
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		accept = r.Header.Get("Accept")
		w.Header().Set("Content-Type", "application/x-protobuf")
		if strings.HasSuffix(r.URL.Path, "/messages") {
			st, err := grpcstatus.New(codes.InvalidArgument, "the request has invalid fields: text").WithDetails(
				&errdetails.ErrorInfo{Reason: "INVALID_FIELDS", Metadata: map[string]string{"k": "v"}},
				&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "text", Description: "must not be empty"}}},
				&errdetails.RetryInfo{RetryDelay: durationpb.New(3 * time.Second)},
				&errdetails.Help{})
			if err != nil {
				t.Error(err)
			}
			b, _ := proto.Marshal(st.Proto())
			w.WriteHeader(http.StatusBadRequest)
			w.Write(b)
			return
		}
		// A field this website does not know yet (number 9999) is skipped.
		b, _ := proto.Marshal(&caseworkv1.ListMeetingsResponse{Meetings: []*caseworkv1.Meeting{{Name: "groups/riverside/cases/c1/meetings/m1", State: caseworkv1.Meeting_STATE_CONFIRMED}}})
		w.Write(protowire.AppendString(protowire.AppendTag(b, 9999, protowire.BytesType), "new"))
	})
	meetings, err := c.ListMeetings(context.Background(), "ipncs_t", "groups/riverside/cases/c1")
	if err != nil || len(meetings) != 1 || meetings[0].GetState() != caseworkv1.Meeting_STATE_CONFIRMED {
		t.Errorf("ListMeetings = %v, %v", meetings, err)
	}
	if accept != "application/x-protobuf" {
		t.Errorf("Accept: %q", accept)
	}
	_, err = c.CreateMessage(context.Background(), "ipncs_t", "groups/riverside/cases/c1", "")
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("CreateMessage refused: %v", err)
	}
	if e.Status != http.StatusBadRequest || e.Reason != "INVALID_FIELDS" || e.Metadata["k"] != "v" || e.RetryAfter != 3*time.Second ||
		!reflect.DeepEqual(e.Fields, []FieldViolation{{"text", "must not be empty"}}) || e.Message != "the request has invalid fields: text" {
		t.Errorf("the protobuf error read as %+v", e)
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantReason string
		wantFields []FieldViolation
		wantRetry  time.Duration
		wantUnavl  bool
	}{
		{
			name: "field violations", status: 400,
			body: `{"code": 3, "message": "the request has invalid fields: clientName, clientContact.email", "details": [
				{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "INVALID_FIELDS", "domain": "disputes.ipn.org.uk", "metadata": {}},
				{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [
					{"field": "clientName", "description": "must not be empty", "reason": "", "localizedMessage": null},
					{"field": "clientContact.email", "description": "is not an e-mail address", "reason": "", "localizedMessage": null}]}]}`,
			wantReason: "INVALID_FIELDS",
			wantFields: []FieldViolation{{"clientName", "must not be empty"}, {"clientContact.email", "is not an e-mail address"}},
		},
		{
			name: "case opening", status: 404, header: map[string]string{"Retry-After": "1"},
			body: `{"code": 5, "message": "the case is being opened", "details": [
				{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CASE_OPENING", "domain": "disputes.ipn.org.uk", "metadata": {}}]}`,
			wantReason: "CASE_OPENING", wantRetry: time.Second,
		},
		{
			name: "a detail of a type unknown here is skipped", status: 429,
			body: `{"code": 8, "message": "too many", "details": [
				{"@type": "type.googleapis.com/google.rpc.Help", "links": []},
				{"@type": "type.googleapis.com/example.Unknown", "x": 1},
				{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "TOO_MANY_ATTEMPTS", "domain": "d", "metadata": {"retryTime": "2026-03-02T10:15:00Z"}, "newField": 1},
				{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "600s"}]}`,
			wantReason: "TOO_MANY_ATTEMPTS", wantRetry: 10 * time.Minute,
		},
		{
			name: "unavailable", status: 503, header: map[string]string{"Retry-After": "2"},
			body:       `{"code": 14, "message": "the service is not available", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_UNAVAILABLE"}]}`,
			wantReason: "SERVICE_UNAVAILABLE", wantRetry: 2 * time.Second, wantUnavl: true,
		},
		{name: "not JSON at all (a proxy's page)", status: 502, body: `<html>Bad gateway</html>`},
		{name: "gateway timeout", status: 504, body: `{}`, wantUnavl: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := serve(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			_, err := c.GetCase(context.Background(), "t", "groups/riverside/cases/c1")
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("error %v is not *Error", err)
			}
			if e.Status != tc.status || e.Reason != tc.wantReason || e.RetryAfter != tc.wantRetry || e.Unavailable() != tc.wantUnavl {
				t.Errorf("got status %d reason %q retry %s unavailable %v", e.Status, e.Reason, e.RetryAfter, e.Unavailable())
			}
			if len(e.Fields) != len(tc.wantFields) {
				t.Fatalf("fields %v, want %v", e.Fields, tc.wantFields)
			}
			for i := range e.Fields {
				if e.Fields[i] != tc.wantFields[i] {
					t.Errorf("field %d = %v, want %v", i, e.Fields[i], tc.wantFields[i])
				}
			}
		})
	}
}

func TestNoAnswer(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	u, _ := url.Parse(slow.URL)
	c := New(u, 100*time.Millisecond)
	start := time.Now()
	_, err := c.GetGroup(context.Background(), "riverside")
	if e, ok := AsError(err); !ok || !e.Unavailable() || e.Status != 0 {
		t.Errorf("a slow API: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the call took %s, bounded by 100ms", d)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	u, _ = url.Parse(closed.URL)
	closed.Close()
	if _, err := New(u, time.Second).GetGroup(context.Background(), "riverside"); err == nil {
		t.Error("a closed port answered")
	} else if e, ok := AsError(err); !ok || !e.Unavailable() {
		t.Errorf("a closed port: %v", err)
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"riverside": true, "c-1": true, "0a": true,
		"": false, "Riverside": false, "-a": false, "a/b": false, "..": false, "a%2Fb": false, "a b": false,
		"a123456789012345678901234567890123456789012345678901234567890123": false,
	} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%q) = %v", id, !want)
		}
	}
}

// TestCasePagesCalls: the calls of the case's pages go to the paths the
// contract names, with the client's token, and read their answers; the
// calendar comes back as the API sent it.
func TestCasePagesCalls(t *testing.T) {
	t.Parallel()
	var got []string
	var bodies []string
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Accept"))
		bodies = append(bodies, string(b))
		switch {
		case strings.HasSuffix(r.URL.Path, "/calendar"):
			w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
			w.Write([]byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"))
		case strings.HasSuffix(r.URL.Path, "/meetings"):
			w.Write([]byte(`{"meetings": [{"name": "groups/riverside/cases/c1/meetings/m1", "state": "STATE_CONFIRMED", "confirmedSlot": 0}]}`))
		case strings.HasSuffix(r.URL.Path, "/documents"):
			w.Write([]byte(`{"documents": [{"name": "groups/riverside/cases/c1/documents/d1", "version": 2}]}`))
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/messages"):
			w.Write([]byte(`{"messages": [{"text": "Hello", "senderRole": "ROLE_CLIENT"}]}`))
		default:
			w.Write([]byte(`{}`))
		}
	})
	ctx := context.Background()
	const token, name = "ipncs_t", "groups/riverside/cases/c1"
	if err := c.EndClientSession(ctx, token); err != nil {
		t.Fatal(err)
	}
	meetings, err := c.ListMeetings(ctx, token, name)
	if err != nil || len(meetings) != 1 || meetings[0].GetState() != caseworkv1.Meeting_STATE_CONFIRMED {
		t.Errorf("ListMeetings = %v, %v", meetings, err)
	}
	cal, err := c.GetMeetingCalendar(ctx, token, name+"/meetings/m1")
	if err != nil || !strings.HasPrefix(cal.ContentType, "text/calendar") || !strings.HasPrefix(string(cal.Body), "BEGIN:VCALENDAR") {
		t.Errorf("GetMeetingCalendar = %+v, %v", cal, err)
	}
	docs, err := c.ListDocuments(ctx, token, name, caseworkv1.Document_KIND_WRITTEN_STATEMENT)
	if err != nil || len(docs) != 1 || docs[0].GetVersion() != 2 {
		t.Errorf("ListDocuments = %v, %v", docs, err)
	}
	msgs, err := c.ListMessages(ctx, token, name)
	if err != nil || len(msgs) != 1 || msgs[0].GetText() != "Hello" {
		t.Errorf("ListMessages = %v, %v", msgs, err)
	}
	if _, err := c.CreateMessage(ctx, token, name, "Thank you"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /v1/clientSessions:end? Bearer ipncs_t application/x-protobuf",
		"GET /v1/groups/riverside/cases/c1/meetings? Bearer ipncs_t application/x-protobuf",
		"GET /v1/groups/riverside/cases/c1/meetings/m1/calendar? Bearer ipncs_t text/calendar, application/json",
		"GET /v1/groups/riverside/cases/c1/documents?kind=KIND_WRITTEN_STATEMENT Bearer ipncs_t application/x-protobuf",
		"GET /v1/groups/riverside/cases/c1/messages? Bearer ipncs_t application/x-protobuf",
		"POST /v1/groups/riverside/cases/c1/messages? Bearer ipncs_t application/x-protobuf",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !sameJSON(bodies[0], `{}`) || !sameJSON(bodies[5], `{"text": "Thank you"}`) {
		t.Errorf("bodies %q", bodies)
	}
}
