package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipnmediation/disputes/platform/fault"
	"github.com/ipnmediation/disputes/platform/testenv"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestToStatusRetryInfo(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name  string
		delay time.Duration
		want  time.Duration // 0: no RetryInfo
	}{
		{name: "with a delay", delay: 90 * time.Second, want: 90 * time.Second},
		{name: "without", delay: 0},
		{name: "a negative delay is left out", delay: -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := &fault.Error{Kind: fault.ResourceExhausted, Reason: "TOO_MANY_ATTEMPTS", Message: "try later", RetryDelay: tt.delay}
			st, _ := status.FromError(ToStatus(context.Background(), log, "/m", err))
			if st.Code() != codes.ResourceExhausted {
				t.Fatalf("code = %v", st.Code())
			}
			var got time.Duration
			var info bool
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.RetryInfo:
					got = d.GetRetryDelay().AsDuration()
				case *errdetails.ErrorInfo:
					info = d.GetReason() == "TOO_MANY_ATTEMPTS"
				}
			}
			if got != tt.want || !info {
				t.Errorf("retry delay %v (ErrorInfo kept: %v), want %v", got, info, tt.want)
			}
		})
	}
}

// pgErrors returns, by name, the errors pgx really gives when PostgreSQL is
// down, restarting or cut off, and when a statement is wrong.
func pgErrors(t *testing.T, ctx context.Context) (unavailable, bugs map[string]error) {
	t.Helper()
	url := testenv.Database(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	raise := func(sqlstate string) error {
		_, err := conn.Exec(ctx, fmt.Sprintf(`DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '%s'; END $$`, sqlstate))
		return err
	}
	unavailable = map[string]error{}
	bugs = map[string]error{}

	_, unavailable["PostgreSQL refuses the connection"] = pgx.Connect(ctx, "postgres://nobody@"+closedAddr(t)+"/nothing?sslmode=disable")
	unavailable["57P01 admin_shutdown"] = raise("57P01")
	unavailable["57P02 crash_shutdown"] = raise("57P02")
	unavailable["57P03 the database system is starting up"] = raise("57P03")
	unavailable["08006 connection_failure"] = raise("08006")
	unavailable["53300 too_many_connections"] = raise("53300")

	// A server that accepts the connection and never answers, as a stopped
	// one does: the connect timeout ends the attempt.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	_, unavailable["PostgreSQL does not answer the connection"] = pgx.Connect(ctx, "postgres://nobody@"+silent.Addr().String()+"/nothing?sslmode=disable&connect_timeout=1")

	victim, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend($1)`, victim.PgConn().PID()); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the backend to end", func() bool {
		var n int
		_ = conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, victim.PgConn().PID()).Scan(&n)
		return n == 0
	})
	_, unavailable["backend terminated under the connection"] = victim.Exec(ctx, `SELECT 1`)
	_, unavailable["the connection pgx closed then"] = victim.Exec(ctx, `SELECT 1`)

	// A connection cut under a query, cleanly and with a reset: pgx hands
	// back the bare read error.
	for _, reset := range []bool{false, true} {
		name := "connection cut under a query"
		if reset {
			name = "connection reset under a query"
		}
		unavailable[name] = cutUnderQuery(t, ctx, url, reset)
	}

	bugs["23505 unique_violation"] = raise("23505")
	bugs["42P01 undefined_table"] = raise("42P01")
	bugs["55000 object_not_in_prerequisite_state, outside a connection attempt"] = raise("55000")
	_, bugs["syntax error"] = conn.Exec(ctx, `SELEKT 1`)
	bugs["no rows"] = conn.QueryRow(ctx, `SELECT 1 WHERE false`).Scan(new(int))

	// Last: it ends every connection to the database, conn's too.
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	restore := testenv.RefuseConnections(t, ctx, url)
	_, unavailable["the database refuses connections, through a pool"] = pool.Exec(ctx, `SELECT 1`)
	_, unavailable["the database refuses connections, again"] = pool.Exec(ctx, `SELECT 1`)
	restore()
	return unavailable, bugs
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// cutUnderQuery runs a query through a TCP relay to PostgreSQL and closes
// the relay's side of the connection (with a reset when reset) while the
// query runs; it returns the query's error.
func cutUnderQuery(t *testing.T, ctx context.Context, url string, reset bool) error {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	upstream := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		down, err := lis.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", upstream)
		if err != nil {
			down.Close()
			return
		}
		go func() { _, _ = io.Copy(up, down); up.Close() }()
		go func() { _, _ = io.Copy(down, up) }()
		accepted <- down
	}()
	host, port, _ := net.SplitHostPort(lis.Addr().String())
	p, _ := strconv.Atoi(port)
	cfg.Host, cfg.Port = host, uint16(p)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	down := <-accepted
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	queried := make(chan error, 1)
	go func() {
		// Extended protocol, as the stores' queries with arguments use.
		queried <- conn.QueryRow(ctx, `SELECT pg_sleep(5), $1::int`, 1).Scan(new(any), new(any))
	}()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	testenv.Eventually(t, 10*time.Second, "the query to run", func() bool {
		var sleeping bool
		_ = admin.QueryRow(ctx, `SELECT wait_event = 'PgSleep' FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&sleeping)
		return sleeping
	})
	if reset {
		_ = down.(*net.TCPConn).SetLinger(0)
	}
	down.Close()
	_, _ = admin.Exec(ctx, `SELECT pg_cancel_backend($1)`, pid)
	err = <-queried
	if err == nil {
		t.Fatal("the cut query succeeded")
	}
	return err
}

// natsErrors returns, by name, the errors nats.go really gives when NATS
// cannot be reached or does not answer.
func natsErrors(t *testing.T, ctx context.Context) map[string]error {
	t.Helper()
	out := map[string]error{}
	_, out["NATS refuses the connection"] = nats.Connect("nats://" + closedAddr(t))
	nc, err := nats.Connect(testenv.NATS(t))
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	_, out["no stream answers a publish"] = js.Publish(ctx, "nostream."+strconv.FormatInt(time.Now().UnixNano(), 36), []byte("x"))
	nc.Close()
	out["publish on a closed connection"] = nc.Publish("anything", []byte("x"))
	return out
}

// grpcErrors returns, by name, what gRPC's client gives when another service
// cannot be reached or answers UNAVAILABLE (the second with a RetryInfo of
// 30 s), and statuses that must pass through.
func grpcErrors(t *testing.T, ctx context.Context) (unreachable, unavailable, notFound, slow error) {
	t.Helper()
	dead, err := Dial(closedAddr(t), "intake", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	_, unreachable = directoryv1.NewDirectoryServiceClient(dead).GetGroup(ctx, &directoryv1.GetGroupRequest{Name: "groups/g"})

	busy, _ := status.New(codes.Unavailable, "busy at 10.0.0.7").WithDetails(
		&errdetails.ErrorInfo{Reason: "BUSY", Domain: ErrorDomain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(30 * time.Second)})
	missing := ToStatus(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), "/m", fault.NotFoundf("GROUP_NOT_FOUND", "no such group"))
	addr := testenv.ServeGRPC(t, func(s *grpc.Server) {
		directoryv1.RegisterDirectoryServiceServer(s, answering{errs: map[string]error{
			"groups/busy":    busy.Err(),
			"groups/missing": missing,
		}})
	})
	conn, err := Dial(addr, "intake", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := directoryv1.NewDirectoryServiceClient(conn)
	_, unavailable = client.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: "groups/busy"})
	_, notFound = client.GetGroup(ctx, &directoryv1.GetGroupRequest{Name: "groups/missing"})
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, slow = client.GetGroup(short, &directoryv1.GetGroupRequest{Name: "groups/slow"})
	return unreachable, unavailable, notFound, slow
}

// answering is a directory that answers GetGroup with the status given for
// the name, and hangs until the call ends for any other name.
type answering struct {
	directoryv1.UnimplementedDirectoryServiceServer
	errs map[string]error
}

func (a answering) GetGroup(ctx context.Context, req *directoryv1.GetGroupRequest) (*directoryv1.Group, error) {
	if err, ok := a.errs[req.GetName()]; ok {
		return nil, err
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestToStatusDependencies: an unavailable dependency, in whatever form its
// client library reports it and however deeply wrapped, is UNAVAILABLE with
// DEPENDENCY_UNAVAILABLE and a RetryInfo, never INTERNAL and never with the
// underlying message; a deadline is DEADLINE_EXCEEDED; a bug stays INTERNAL.
func TestToStatusDependencies(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	type want struct {
		code    codes.Code
		reason  string
		delay   time.Duration // the RetryInfo wanted; 0 for none
		message string        // "" for the standard one of the code
	}
	unavailable := want{code: codes.Unavailable, reason: ReasonDependencyUnavailable, delay: DependencyRetryDelay}
	internal := want{code: codes.Internal, reason: "INTERNAL", message: "internal error"}
	deadline := want{code: codes.DeadlineExceeded, reason: ReasonDeadlineExceeded}
	type errorCase struct {
		err  error
		ctx  context.Context // the request's
		want want
	}
	tests := map[string]errorCase{}
	add := func(name string, err error, ctx context.Context, w want) { tests[name] = errorCase{err, ctx, w} }
	pgDown, pgBugs := pgErrors(t, ctx)
	for name, err := range pgDown {
		add("PostgreSQL: "+name, err, ctx, unavailable)
	}
	for name, err := range pgBugs {
		add("PostgreSQL: "+name, err, ctx, internal)
	}
	for name, err := range natsErrors(t, ctx) {
		add("NATS: "+name, err, ctx, unavailable)
	}
	unreachable, busy, notFound, slow := grpcErrors(t, ctx)
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	expired, cancelExpired := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancelExpired()
	add("a service gRPC cannot reach", unreachable, ctx, unavailable)
	add("a service answering UNAVAILABLE: its longer RetryInfo kept", busy, ctx,
		want{code: codes.Unavailable, reason: ReasonDependencyUnavailable, delay: 30 * time.Second})
	add("a service that does not answer in time", slow, ctx, deadline)
	add("a deadline of the service's own", fmt.Errorf("lock: %w", context.DeadlineExceeded), ctx, deadline)
	add("another service's NOT_FOUND passes through without the wrapping", notFound, ctx,
		want{code: codes.NotFound, reason: "GROUP_NOT_FOUND", message: "no such group"})
	add("the request's deadline passed while connecting", pgDown["PostgreSQL refuses the connection"], expired, deadline)
	add("the request was canceled while connecting", pgDown["PostgreSQL refuses the connection"], done,
		want{code: codes.Canceled, message: "the request was canceled"})
	add("an INTERNAL fault whose cause is a dependency", &fault.Error{Kind: fault.Internal, Reason: "INTERNAL", Message: "internal error", Cause: unreachable}, ctx, unavailable)
	add("a fault of another kind keeps its reason", &fault.Error{Kind: fault.Unavailable, Reason: "DIRECTORY_UNAVAILABLE", Message: "the directory cannot be reached", Cause: unreachable}, ctx,
		want{code: codes.Unavailable, reason: "DIRECTORY_UNAVAILABLE", message: "the directory cannot be reached"})
	add("a plain error", errors.New("nil map at 10.0.0.7"), ctx, internal)

	for name, tt := range tests {
		for _, form := range []struct {
			name string
			err  error
		}{
			{"as given", tt.err},
			{"wrapped twice", fmt.Errorf("handler: %w", fmt.Errorf("store: get group: %w", tt.err))},
			{"joined with a rollback's error", errors.Join(fmt.Errorf("get group: %w", tt.err), errors.New("rollback: conn closed"))},
		} {
			t.Run(name+"/"+form.name, func(t *testing.T) {
				if form.err == nil {
					t.Fatal("no error to classify")
				}
				st := testenv.WantStatus(t, ToStatus(tt.ctx, log, "/m", form.err), tt.want.code, tt.want.reason)
				var delay time.Duration
				for _, d := range st.Details() {
					if info, ok := d.(*errdetails.RetryInfo); ok {
						delay = info.GetRetryDelay().AsDuration()
					}
				}
				if delay != tt.want.delay {
					t.Errorf("RetryInfo %v, want %v", delay, tt.want.delay)
				}
				if tt.want.message != "" && st.Message() != tt.want.message {
					t.Errorf("message %q, want %q", st.Message(), tt.want.message)
				}
				switch {
				case tt.want.reason == ReasonDependencyUnavailable && !DependencyUnavailable(form.err):
					t.Error("DependencyUnavailable = false")
				case tt.want.code == codes.Internal && DependencyUnavailable(form.err):
					t.Error("DependencyUnavailable = true for a bug")
				}
				for _, internals := range []string{"127.0.0.1", "10.0.0.7", "SQLSTATE", "nats:", "store:", "EOF", "reset", "refused"} {
					if strings.Contains(st.Message(), internals) {
						t.Errorf("message %q shows %q", st.Message(), internals)
					}
				}
			})
		}
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	refused, err := status.New(codes.FailedPrecondition, "handed over").WithDetails(&errdetails.ErrorInfo{Reason: "CONCERN_HANDED_OVER", Domain: ErrorDomain})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"a status with a reason", refused.Err(), "CONCERN_HANDED_OVER"},
		{"wrapped", fmt.Errorf("intake GetConcern: %w", refused.Err()), "CONCERN_HANDED_OVER"},
		{"a status without details", status.Error(codes.NotFound, "no"), ""},
		{"not a status", errors.New("plain"), ""},
		{"nil", nil, ""},
	} {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("%s: Reason = %q; want %q", tt.name, got, tt.want)
		}
	}
}
