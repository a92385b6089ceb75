package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/google/uuid"
	"github.com/ipnmediation/disputes/platform/auth"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
)

// Credentials the fakes and the service are configured with.
const (
	caseworkSecret     = "casework-secret"
	notificationSecret = "notification-secret"
	operatorToken      = "operator-token"
	riversideToken     = "riverside-member-token"
	hillsideToken      = "hillside-member-token"
	// hillsideAdminToken is an admin of hillside, who administers nothing
	// of riverside.
	hillsideAdminToken = "hillside-admin-token"
)

// checkCaller insists on casework's own service credential, so the tests
// also prove that casework dials intake and the directory with it.
func checkCaller(ctx context.Context) error {
	if secret, _ := auth.BearerFromMetadata(ctx); secret != auth.ServiceToken("casework", caseworkSecret) {
		return status.Error(codes.Unauthenticated, "not casework")
	}
	return nil
}

// fakeIntake stands in for the intake service: it hands over the concerns a
// test puts into it.
type fakeIntake struct {
	intakev1.UnimplementedIntakeServiceServer
	mu       sync.Mutex
	concerns map[string]*intakev1.Concern
	// sessions maps client session tokens to concerns.
	sessions map[string]string
	reissued int
}

// session makes a client session for concern and returns its token.
func (f *fakeIntake) session(concern string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sessions == nil {
		f.sessions = map[string]string{}
	}
	token := auth.ClientSessionPrefix + uuid.NewString()
	f.sessions[token] = concern
	return token
}

func (f *fakeIntake) AuthenticateClient(ctx context.Context, req *intakev1.AuthenticateClientRequest) (*intakev1.AuthenticateClientResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	concern, ok := f.sessions[req.GetSecret()]
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "unknown session")
	}
	return &intakev1.AuthenticateClientResponse{Concern: concern, Group: concern[:strings.Index(concern, "/concerns/")],
		ExpireTime: timestamppb.New(time.Now().Add(time.Hour)), CacheTtl: durationpb.New(time.Second)}, nil
}

// ReissueAccessCode ends the concern's sessions and returns a new code.
func (f *fakeIntake) ReissueAccessCode(ctx context.Context, req *intakev1.ReissueAccessCodeRequest) (*intakev1.ReissueAccessCodeResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.concerns[req.GetName()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such concern")
	}
	for token, concern := range f.sessions {
		if concern == req.GetName() {
			delete(f.sessions, token)
		}
	}
	f.reissued++
	return &intakev1.ReissueAccessCodeResponse{Reference: c.GetReference(), AccessCode: fmt.Sprintf("NEWC-%04d", f.reissued)}, nil
}

func (f *fakeIntake) put(c *intakev1.Concern) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.concerns[c.GetName()] = proto.Clone(c).(*intakev1.Concern)
}

// forget drops a concern, as intake does once casework has purged its case.
func (f *fakeIntake) forget(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.concerns, name)
}

func (f *fakeIntake) GetConcern(ctx context.Context, req *intakev1.GetConcernRequest) (*intakev1.Concern, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.concerns[req.GetName()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such concern")
	}
	return proto.Clone(c).(*intakev1.Concern), nil
}

// fakeDirectory stands in for the directory service: riverside has no
// overall target of its own (the default applies), hillside gives itself 14
// days. It authenticates one member of each group and the operator.
type fakeDirectory struct {
	directoryv1.UnimplementedDirectoryServiceServer
}

// riversideStatement is the version of riverside's ethical statement in
// force.
const riversideStatement = "groups/riverside/statements/2"

var fakeTargets = map[string]*durationpb.Duration{
	"groups/riverside": nil,
	"groups/hillside":  durationpb.New(hillsideTarget),
	"groups/lakeside":  nil,
}

// fakeProcedures are the procedure versions groups have chosen; the others
// follow casework's default. Lakeside's is not built in: casework knows it
// only from a PROCEDURES_DIR (proceduresdir_test.go).
var fakeProcedures = map[string]string{
	"groups/lakeside": reorderedProcedure,
}

var fakeSecrets = map[string]*directoryv1.AuthenticateResponse{
	riversideToken:     {Member: "groups/riverside/members/bea-lindqvist", Group: "groups/riverside", GroupAdmin: true},
	hillsideToken:      {Member: "groups/hillside/members/kim-lee", Group: "groups/hillside"},
	hillsideAdminToken: {Member: "groups/hillside/members/lou-grant", Group: "groups/hillside", GroupAdmin: true},
	operatorToken:      {Operator: true},
	alexToken:          {Member: "groups/riverside/members/alex-moss", Group: "groups/riverside"},
	alexAdminToken:     {Member: "groups/riverside/members/alex-moss", Group: "groups/riverside", GroupAdmin: true},
	calToken:           {Member: "groups/riverside/members/cal-reyes", Group: "groups/riverside"},
	danaToken:          {Member: "groups/riverside/members/dana-holt", Group: "groups/riverside"},
	eliToken:           {Member: "groups/riverside/members/eli-nakamura", Group: "groups/riverside"},
	franToken:          {Member: "groups/riverside/members/fran-okafor", Group: "groups/riverside"},
	linkToken:          {LinkGroup: "groups/riverside/linkGroups/hillside", Group: "groups/riverside"},
}

// More riverside members, for the procedure: alex-moss is the therapist of
// every test concern.
const (
	alexToken = "alex-token"
	// alexAdminToken is alex-moss signing in as one of riverside's admins,
	// as a therapist who administers their own group would.
	alexAdminToken = "alex-admin-token"
	calToken       = "cal-token"
	danaToken      = "dana-token"
	eliToken       = "eli-token"
	franToken      = "fran-token"
	// linkToken is riverside's link group hillside's credential.
	linkToken = "link-token"
	// inactiveMember has left riverside and may hold no role.
	inactiveMember = "groups/riverside/members/gil-left"
)

// GetMember knows riverside's members; gil-left has left.
func (fakeDirectory) GetMember(ctx context.Context, req *directoryv1.GetMemberRequest) (*directoryv1.Member, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	state := directoryv1.Member_STATE_ACTIVE
	if req.GetName() == inactiveMember {
		state = directoryv1.Member_STATE_INACTIVE
	}
	for _, r := range fakeSecrets {
		if r.GetMember() == req.GetName() || req.GetName() == inactiveMember {
			return &directoryv1.Member{Name: req.GetName(), State: state}, nil
		}
	}
	return nil, status.Error(codes.NotFound, "no such member")
}

func (fakeDirectory) GetGroup(ctx context.Context, req *directoryv1.GetGroupRequest) (*directoryv1.Group, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	target, ok := fakeTargets[req.GetName()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	g := &directoryv1.Group{Name: req.GetName(), DisplayName: "A group"}
	if target != nil || fakeProcedures[req.GetName()] != "" {
		g.ProcedureSettings = &directoryv1.ProcedureSettings{OverallTarget: target, Procedure: fakeProcedures[req.GetName()]}
	}
	return g, nil
}

// GetStatement knows riverside's current statement, version 2; hillside has
// published none.
func (fakeDirectory) GetStatement(ctx context.Context, req *directoryv1.GetStatementRequest) (*directoryv1.Statement, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	if req.GetName() != "groups/riverside/statements/current" {
		return nil, status.Error(codes.NotFound, "no statement")
	}
	return &directoryv1.Statement{Name: riversideStatement, Version: 2, State: directoryv1.Statement_STATE_PUBLISHED}, nil
}

func (fakeDirectory) Authenticate(ctx context.Context, req *directoryv1.AuthenticateRequest) (*directoryv1.AuthenticateResponse, error) {
	if err := checkCaller(ctx); err != nil {
		return nil, err
	}
	resp, ok := fakeSecrets[req.GetSecret()]
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "unknown secret")
	}
	return resp, nil
}

// bearer presents a fixed bearer secret, as a member's client would.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return false }
