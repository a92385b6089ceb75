package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/testenv"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestClientSessions: a client exchanges reference and access code for a
// session without credentials, other services check the session, and
// casework can give the client a new code, which ends the old sessions.
func TestClientSessions(t *testing.T) {
	t.Parallel()
	r := startIntake(t)
	public := intakev1.NewIntakeServiceClient(dial(t, r.addr, ""))
	casework := intakev1.NewIntakeServiceClient(dial(t, r.addr, "casework"))
	notification := intakev1.NewIntakeServiceClient(dial(t, r.addr, "notification"))
	ctx := context.Background()

	created, err := public.CreateConcern(ctx, validRequest())
	if err != nil {
		t.Fatal(err)
	}
	other, err := public.CreateConcern(ctx, validRequest())
	if err != nil {
		t.Fatal(err)
	}
	code, ref := created.GetAccessCode(), created.GetReference()

	// The refusal every wrong attempt must equal, status details included.
	_, err = public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: ref, AccessCode: other.GetAccessCode()})
	refusal := testenv.WantStatus(t, err, codes.Unauthenticated, "INVALID_ACCESS_CODE")

	var session *intakev1.ClientSession
	t.Run("CreateClientSession", func(t *testing.T) {
		tests := []struct {
			name            string
			reference, code string
			wantCode        codes.Code
			wantFields      []string
		}{
			{name: "as issued", reference: ref, code: code},
			{name: "lowercase without dashes", reference: strings.ToLower(strings.ReplaceAll(ref, "-", "")),
				code: strings.ToLower(strings.ReplaceAll(code, "-", ""))},
			{name: "spaces for dashes", reference: strings.ReplaceAll(ref, "-", " "), code: strings.ReplaceAll(code, "-", " ")},
			{name: "wrong code", reference: ref, code: other.GetAccessCode(), wantCode: codes.Unauthenticated},
			{name: "unknown reference", reference: "ZZZZ-ZZZZ", code: code, wantCode: codes.Unauthenticated},
			{name: "another concern's reference", reference: other.GetReference(), code: code, wantCode: codes.Unauthenticated},
			{name: "malformed code", reference: ref, code: "1234", wantCode: codes.Unauthenticated},
			{name: "missing code", reference: ref, wantCode: codes.InvalidArgument, wantFields: []string{"access_code"}},
			{name: "blank reference", reference: "   ", code: code, wantCode: codes.InvalidArgument, wantFields: []string{"reference"}},
			{name: "both missing", wantCode: codes.InvalidArgument, wantFields: []string{"reference", "access_code"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: tt.reference, AccessCode: tt.code})
				switch tt.wantCode {
				case codes.OK:
					if err != nil {
						t.Fatalf("CreateClientSession: %v", err)
					}
					if !strings.HasPrefix(got.GetToken(), auth.ClientSessionPrefix) || got.GetConcern() != created.GetName() {
						t.Errorf("session %v; want an ipncs_ token for %s", got, created.GetName())
					}
					if want := strings.Replace(created.GetName(), "/concerns/", "/cases/", 1); got.GetCase() != want || created.GetCase() != want {
						t.Errorf("session names case %q, the concern's answer %q; want %q", got.GetCase(), created.GetCase(), want)
					}
					if d := time.Until(got.GetExpireTime().AsTime()); d < 59*time.Minute || d > time.Hour {
						t.Errorf("session ends in %v; want CLIENT_SESSION_TTL, 1h", d)
					}
				case codes.Unauthenticated:
					st := testenv.WantStatus(t, err, codes.Unauthenticated, "INVALID_ACCESS_CODE")
					if !proto.Equal(st.Proto(), refusal.Proto()) {
						t.Errorf("refusal %v differs from the one for a wrong code %v", st.Proto(), refusal.Proto())
					}
				default:
					st := testenv.WantStatus(t, err, tt.wantCode, "INVALID_FIELDS", tt.wantFields...)
					if n := countViolations(st); n != len(tt.wantFields) {
						t.Errorf("%d field violations; want one for each of %v", n, tt.wantFields)
					}
				}
				if err != nil {
					for _, secret := range []string{code, strings.ReplaceAll(code, "-", ""), ref} {
						if strings.Contains(status.Convert(err).Message(), secret) {
							t.Errorf("error message %q repeats what the client typed", status.Convert(err).Message())
						}
					}
				}
			})
		}
		session, err = public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: ref, AccessCode: code})
		if err != nil {
			t.Fatal(err)
		}
	})
	if session == nil {
		t.FailNow()
	}
	secret := session.GetToken()[strings.LastIndexByte(session.GetToken(), '_')+1:]

	t.Run("only a hash of the session's secret is stored", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, r.dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		id := strings.TrimPrefix(strings.TrimSuffix(session.GetToken(), "_"+secret), auth.ClientSessionPrefix)
		var hash []byte
		var row string
		if err := conn.QueryRow(ctx, `SELECT secret_sha256, s::text FROM intake.client_sessions s WHERE id = $1`, id).Scan(&hash, &row); err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256([]byte(secret)); !bytes.Equal(hash, want[:]) {
			t.Error("secret_sha256 is not the SHA-256 of the token's secret")
		}
		if strings.Contains(row, secret) {
			t.Error("the session's secret is stored in the clear")
		}
	})

	t.Run("AuthenticateClient", func(t *testing.T) {
		asClient := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+session.GetToken())
		tests := []struct {
			name       string
			client     intakev1.IntakeServiceClient
			ctx        context.Context
			secret     string
			wantCode   codes.Code
			wantReason string
		}{
			{name: "casework", client: casework, ctx: ctx, secret: session.GetToken()},
			{name: "notification", client: notification, ctx: ctx, secret: session.GetToken()},
			{name: "without credentials", client: public, ctx: ctx, secret: session.GetToken(), wantCode: codes.Unauthenticated, wantReason: "UNAUTHENTICATED"},
			{name: "as the client", client: public, ctx: asClient, secret: session.GetToken(), wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
			{name: "unknown session", client: casework, ctx: ctx, secret: strings.TrimSuffix(session.GetToken(), secret) + strings.Repeat("a", len(secret)),
				wantCode: codes.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
			{name: "not a client session token", client: casework, ctx: ctx, secret: "service:casework:" + caseworkSecret, wantCode: codes.Unauthenticated, wantReason: "INVALID_CLIENT_SESSION"},
			{name: "empty", client: casework, ctx: ctx, wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := tt.client.AuthenticateClient(tt.ctx, &intakev1.AuthenticateClientRequest{Secret: tt.secret})
				if tt.wantCode != codes.OK {
					st := testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
					if strings.Contains(st.Message(), secret) {
						t.Errorf("error message %q repeats the token", st.Message())
					}
					return
				}
				if err != nil {
					t.Fatalf("AuthenticateClient: %v", err)
				}
				if got.GetConcern() != created.GetName() || got.GetGroup() != "groups/riverside" ||
					!got.GetExpireTime().AsTime().Equal(session.GetExpireTime().AsTime()) {
					t.Errorf("AuthenticateClient = %v; want concern %s, group groups/riverside, expiry %v", got, created.GetName(), session.GetExpireTime().AsTime())
				}
				if ttl := got.GetCacheTtl().AsDuration(); ttl <= 0 || ttl > 15*time.Second {
					t.Errorf("cache_ttl %v; want (0, 15s]", ttl)
				}
			})
		}
	})

	t.Run("platform's auth.Intake authenticates the client", func(t *testing.T) {
		in := &auth.Intake{Client: casework}
		p, err := in.Authenticate(ctx, session.GetToken())
		if want := (auth.Principal{Kind: auth.Client, Concern: created.GetName(), Group: "groups/riverside"}); err != nil || p != want {
			t.Fatalf("Authenticate = %+v, %v; want %+v", p, err, want)
		}
		_, err = in.Authenticate(ctx, auth.ClientSessionPrefix+"nope")
		if fe, ok := fault.As(err); !ok || fe.Kind != fault.Unauthenticated || fe.Reason != "UNAUTHENTICATED" {
			t.Errorf("Authenticate of an unknown session = %v; want the usual unauthenticated error", err)
		}
	})

	t.Run("ReissueAccessCode", func(t *testing.T) {
		refused := []struct {
			name       string
			client     intakev1.IntakeServiceClient
			concern    string
			wantCode   codes.Code
			wantReason string
		}{
			{name: "without credentials", client: public, concern: created.GetName(), wantCode: codes.Unauthenticated, wantReason: "UNAUTHENTICATED"},
			{name: "as notification", client: notification, concern: created.GetName(), wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
			{name: "as casework, unknown concern", client: casework, concern: "groups/riverside/concerns/2f1d7d0e-9a61-4b8e-8f4c-3c2a5d7b9e10",
				wantCode: codes.NotFound, wantReason: "CONCERN_NOT_FOUND"},
			{name: "as casework, not a concern name", client: casework, concern: "groups/riverside", wantCode: codes.InvalidArgument, wantReason: "INVALID_FIELDS"},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				_, err := tt.client.ReissueAccessCode(ctx, &intakev1.ReissueAccessCodeRequest{Name: tt.concern})
				testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
			})
		}
	})

	// Signing out: the client ends its own session, which intake then
	// refuses at once; its other sessions, and everyone else's, go on.
	t.Run("EndClientSession", func(t *testing.T) {
		signIn := func() (*intakev1.ClientSession, context.Context) {
			t.Helper()
			s, err := public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: other.GetReference(), AccessCode: other.GetAccessCode()})
			if err != nil {
				t.Fatal(err)
			}
			return s, metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.GetToken())
		}
		ending, asEnding := signIn()
		staying, asStaying := signIn()

		refused := []struct {
			name       string
			client     intakev1.IntakeServiceClient
			ctx        context.Context
			wantCode   codes.Code
			wantReason string
		}{
			{name: "without credentials", client: public, ctx: ctx, wantCode: codes.Unauthenticated, wantReason: "UNAUTHENTICATED"},
			{name: "as casework", client: casework, ctx: ctx, wantCode: codes.PermissionDenied, wantReason: "CALLER_NOT_ALLOWED"},
			{name: "with a token that is no session", client: public, wantCode: codes.Unauthenticated, wantReason: "UNAUTHENTICATED",
				ctx: metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+ending.GetToken()[:len(ending.GetToken())-8]+strings.Repeat("a", 8))},
		}
		for _, tt := range refused {
			_, err := tt.client.EndClientSession(tt.ctx, &intakev1.EndClientSessionRequest{})
			testenv.WantStatus(t, err, tt.wantCode, tt.wantReason)
		}
		if _, err := casework.AuthenticateClient(ctx, &intakev1.AuthenticateClientRequest{Secret: ending.GetToken()}); err != nil {
			t.Fatalf("the session ended after refused calls: %v", err)
		}

		if _, err := public.EndClientSession(asEnding, &intakev1.EndClientSessionRequest{}); err != nil {
			t.Fatalf("EndClientSession: %v", err)
		}
		_, err := casework.AuthenticateClient(ctx, &intakev1.AuthenticateClientRequest{Secret: ending.GetToken()})
		testenv.WantStatus(t, err, codes.Unauthenticated, "INVALID_CLIENT_SESSION")
		// The token opens nothing at intake either, ending itself again
		// included.
		_, err = public.EndClientSession(asEnding, &intakev1.EndClientSessionRequest{})
		testenv.WantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")

		for name, token := range map[string]string{"the client's other session": staying.GetToken(), "another client's session": session.GetToken()} {
			if _, err := casework.AuthenticateClient(ctx, &intakev1.AuthenticateClientRequest{Secret: token}); err != nil {
				t.Errorf("%s ended too: %v", name, err)
			}
		}
		if _, err := public.EndClientSession(asStaying, &intakev1.EndClientSessionRequest{}); err != nil {
			t.Errorf("ending the other session: %v", err)
		}
	})

	// After the refusals above, which must have changed nothing.
	t.Run("ReissueAccessCode by casework", func(t *testing.T) {
		if _, err := casework.AuthenticateClient(ctx, &intakev1.AuthenticateClientRequest{Secret: session.GetToken()}); err != nil {
			t.Fatalf("the session ended before the reissue: %v", err)
		}
		got, err := casework.ReissueAccessCode(ctx, &intakev1.ReissueAccessCodeRequest{Name: created.GetName()})
		if err != nil {
			t.Fatalf("ReissueAccessCode: %v", err)
		}
		if got.GetReference() != ref || got.GetAccessCode() == "" || got.GetAccessCode() == code {
			t.Fatalf("ReissueAccessCode = %v; want the same reference and a new code", got)
		}
		_, err = public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: ref, AccessCode: code})
		st := testenv.WantStatus(t, err, codes.Unauthenticated, "INVALID_ACCESS_CODE")
		if !proto.Equal(st.Proto(), refusal.Proto()) {
			t.Errorf("the old code's refusal %v differs from the usual one", st.Proto())
		}
		_, err = casework.AuthenticateClient(ctx, &intakev1.AuthenticateClientRequest{Secret: session.GetToken()})
		testenv.WantStatus(t, err, codes.Unauthenticated, "INVALID_CLIENT_SESSION")

		fresh, err := public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: ref, AccessCode: got.GetAccessCode()})
		if err != nil {
			t.Fatalf("CreateClientSession with the new code: %v", err)
		}
		if _, err := casework.AuthenticateClient(ctx, &intakev1.AuthenticateClientRequest{Secret: fresh.GetToken()}); err != nil {
			t.Errorf("AuthenticateClient of the new session: %v", err)
		}
	})
}

func countViolations(st *status.Status) int {
	n := 0
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			n += len(br.GetFieldViolations())
		}
	}
	return n
}
