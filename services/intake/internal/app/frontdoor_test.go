package app

import (
	"context"
	"testing"

	"github.com/ipnmediation/disputes/platform/testenv"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"google.golang.org/grpc/codes"
)

// TestCreateConcernFrontDoor checks the request id and the honeypot through
// gRPC: the fields reach the domain and its answers reach the client.
func TestCreateConcernFrontDoor(t *testing.T) {
	t.Parallel()
	r := startIntake(t)
	public := intakev1.NewIntakeServiceClient(dial(t, r.addr, ""))
	ctx := context.Background()

	req := validRequest()
	req.RequestId = "7d3f6a52-1c9b-4f0e-9a7d-2b8c4e6f1a30"
	first, err := public.CreateConcern(ctx, req)
	if err != nil || first.GetAccessCode() == "" || first.GetAccessCodeShownBefore() {
		t.Fatalf("first CreateConcern = %v, %v", first, err)
	}
	again, err := public.CreateConcern(ctx, req)
	if err != nil || again.GetName() != first.GetName() || again.GetReference() != first.GetReference() ||
		again.GetAccessCode() != first.GetAccessCode() || !again.GetAccessCodeShownBefore() {
		t.Errorf("repeat = %v, %v; want %s with its code, marked as shown before", again, err, first.GetName())
	}
	// The code the repeat gave back opens the case.
	if _, err := public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: again.GetReference(), AccessCode: again.GetAccessCode()}); err != nil {
		t.Errorf("signing in with the repeat's code: %v", err)
	}

	other := validRequest()
	other.RequestId = req.RequestId
	other.Concern.Description = "Something else entirely."
	_, err = public.CreateConcern(ctx, other)
	testenv.WantStatus(t, err, codes.AlreadyExists, "REQUEST_ID_REUSED")

	bad := validRequest()
	bad.RequestId = "not-a-uuid"
	_, err = public.CreateConcern(ctx, bad)
	testenv.WantStatus(t, err, codes.InvalidArgument, "INVALID_FIELDS", "request_id")

	bot := validRequest()
	bot.Website = "http://spam.example"
	decoy, err := public.CreateConcern(ctx, bot)
	if err != nil || decoy.GetReference() == "" || decoy.GetAccessCode() == "" {
		t.Fatalf("honeypot CreateConcern = %v, %v; want an answer like a registration", decoy, err)
	}
	_, err = public.CreateClientSession(ctx, &intakev1.CreateClientSessionRequest{Reference: decoy.GetReference(), AccessCode: decoy.GetAccessCode()})
	testenv.WantStatus(t, err, codes.Unauthenticated, "INVALID_ACCESS_CODE")
}
