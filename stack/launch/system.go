package launch

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/grpcserver/devcerts"
	"github.com/ipnmediation/disputes/platform/localpg"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Ports are where the services, the gateway and the website listen on
// 127.0.0.1. A zero Web port is a free one, found when the website starts.
type Ports struct {
	Directory, Intake, Casework, Notification, Gateway, Web int
}

// DefaultPorts are make run's ports; none collides with PostgreSQL on 5432
// or NATS on 4222.
var DefaultPorts = Ports{Directory: 7101, Intake: 7102, Casework: 7103, Notification: 7104, Gateway: 7180, Web: 7190}

// DefaultAdminPorts are make run's admin ports, where each process serves
// its metrics (ADMIN_ADDR): the public port plus 100.
var DefaultAdminPorts = Ports{Directory: 7201, Intake: 7202, Casework: 7203, Notification: 7204, Gateway: 7280, Web: 7290}

// System is the four services, the gateway and the website, run as separate
// processes.
type System struct {
	// BinDir holds the built binaries.
	BinDir string
	// DatabaseURL is the database every service uses, each in its own schema.
	DatabaseURL string
	// NATSURL is the NATS server with JetStream.
	NATSURL string
	// EventNamespace separates this system's stream from others on NATSURL.
	EventNamespace string
	// SMTPAddr is where notification sends mail.
	SMTPAddr string
	// SendRate is notification's pace, messages per second; 0 keeps its
	// default.
	SendRate int
	// OperatorToken is the operator's bearer secret.
	OperatorToken string
	// Secrets are the services' credentials; NewSecrets fills them.
	Secrets map[string]string
	// EncryptionKeys are the ENCRYPTION_KEYS of the services that encrypt
	// confidential text at rest, by service; NewSecrets fills the missing.
	EncryptionKeys map[string]string
	// AccessCodeKeys are intake's ACCESS_CODE_KEYS; NewSecrets fills them
	// when empty.
	AccessCodeKeys string
	// SessionKeys are the website's SESSION_KEYS; NewSecrets fills them
	// when empty.
	SessionKeys string
	Ports       Ports
	// AdminPorts are where each process serves its metrics; a zero port
	// turns that process's admin port off.
	AdminPorts Ports
	// LogLevel for every process.
	LogLevel string
	// Logs returns where a process's output goes.
	Logs func(name string) io.Writer
	// TLSDir switches on mutual TLS between the processes when set: the
	// first Start writes a throwaway CA and a certificate for every process
	// (and one for the launcher's own calls, one for disputesctl) into it,
	// and every process gets TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE.
	// Empty means plaintext.
	TLSDir string
	// Settings are more environment variables for a process, by its name,
	// set after (and so over) the launcher's own: FEDERATION_PEERS, say.
	Settings map[string][]string

	mu    sync.Mutex
	procs map[string]*Proc
	// tls holds each process's files once written, by name.
	tls map[string]config.TLS
}

// launcher names the certificate of the launcher's own gRPC calls: health
// checks, the demo data and tests.
const launcher = "launcher"

// operatorCLI names the certificate written for disputesctl, so that an
// operator can reach the services with the CLI while mutual TLS is on.
const operatorCLI = "disputesctl"

// certificates writes the throwaway CA and certificates on the first call
// and returns every process's files; nil when mutual TLS is off.
func (s *System) certificates() (map[string]config.TLS, error) {
	if s.TLSDir == "" {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tls != nil {
		return s.tls, nil
	}
	files, err := devcerts.Write(s.TLSDir, append(append([]string(nil), Services...), "gateway", launcher, operatorCLI)...)
	if err != nil {
		return nil, fmt.Errorf("certificates for mutual TLS: %w", err)
	}
	s.tls = files
	return files, nil
}

// CLICertificate returns disputesctl's files for mutual TLS, for the
// operator's TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE; false when mutual
// TLS is off or no process has started yet.
func (s *System) CLICertificate() (config.TLS, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files, ok := s.tls[operatorCLI]
	return files, ok
}

// Credentials are the transport credentials for calling the services
// directly over gRPC: mutual TLS with the launcher's certificate when TLSDir
// is set, plaintext otherwise.
func (s *System) Credentials() (credentials.TransportCredentials, error) {
	files, err := s.certificates()
	if err != nil {
		return nil, err
	}
	return grpcserver.ClientCredentials(files[launcher])
}

// NewSecrets gives every service a fresh random credential and the operator
// a fresh token, unless already set.
func (s *System) NewSecrets() {
	if s.Secrets == nil {
		s.Secrets = map[string]string{}
	}
	for _, name := range Services {
		if s.Secrets[name] == "" {
			s.Secrets[name] = RandomSecret()
		}
	}
	if s.OperatorToken == "" {
		s.OperatorToken = "operator_" + RandomSecret()
	}
	s.newEncryptionKeys()
}

// RandomSecret returns 256 random bits in hex.
func RandomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// FreePorts returns n distinct free ports on 127.0.0.1, for a system (and
// its infrastructure) that must not meet make run's or another test's.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		p, err := localpg.FreePort()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// Addr is where the named service, the gateway or the website listens.
func (s *System) Addr(name string) string {
	switch name {
	case "directory":
		return addr(s.Ports.Directory)
	case "intake":
		return addr(s.Ports.Intake)
	case "casework":
		return addr(s.Ports.Casework)
	case "notification":
		return addr(s.Ports.Notification)
	case "gateway":
		return addr(s.Ports.Gateway)
	case "web":
		s.mu.Lock()
		defer s.mu.Unlock()
		return addr(s.Ports.Web)
	}
	return ""
}

// AdminAddr is where the named process serves its metrics, "off" for
// nowhere (an empty setting would mean its default port, which two systems
// on one machine would share).
func (s *System) AdminAddr(name string) string {
	port := map[string]int{
		"directory": s.AdminPorts.Directory, "intake": s.AdminPorts.Intake, "casework": s.AdminPorts.Casework,
		"notification": s.AdminPorts.Notification, "gateway": s.AdminPorts.Gateway, "web": s.AdminPorts.Web,
	}[name]
	if port == 0 {
		return "off"
	}
	return addr(port)
}

// GatewayURL is the base URL of the REST API.
func (s *System) GatewayURL() string { return "http://" + s.Addr("gateway") }

// WebURL is the base URL of the website: its PUBLIC_URL, and
// notification's, so that every link in an e-mail opens one of its pages.
func (s *System) WebURL() string { return "http://" + s.Addr("web") }

// webPort finds the website a free port when none was given.
func (s *System) webPort() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Ports.Web != 0 {
		return nil
	}
	ports, err := FreePorts(1)
	if err != nil {
		return fmt.Errorf("a port for the website: %w", err)
	}
	s.Ports.Web = ports[0]
	return nil
}

// Env is the environment a process is started with.
func (s *System) Env(name string) []string {
	level := s.LogLevel
	if level == "" {
		level = "info"
	}
	env := []string{
		"LOG_LEVEL=" + level,
		// As the container images set it (deploy/docker/Dockerfile): the
		// collector runs a quarter as often, for 12-21 % less CPU under
		// load; the launcher's own GOGC, when set, wins.
		"GOGC=" + cmp.Or(os.Getenv("GOGC"), "400"),
		"DIRECTORY_ADDR=" + s.Addr("directory"),
		"INTAKE_ADDR=" + s.Addr("intake"),
		"CASEWORK_ADDR=" + s.Addr("casework"),
		"NOTIFICATION_ADDR=" + s.Addr("notification"),
		"ADMIN_ADDR=" + s.AdminAddr(name),
	}
	s.mu.Lock()
	files, ok := s.tls[name]
	s.mu.Unlock()
	if ok {
		env = append(env, "TLS_CERT_FILE="+files.CertFile, "TLS_KEY_FILE="+files.KeyFile, "TLS_CA_FILE="+files.CAFile)
	} else {
		// Plaintext means plaintext, even when the launcher's own shell has
		// these set (say, from a mutual-TLS run's demo.env).
		env = append(env, "TLS_CERT_FILE=", "TLS_KEY_FILE=", "TLS_CA_FILE=")
	}
	switch name {
	case "gateway":
		// The website calls the API from 127.0.0.1 on behalf of its
		// visitors and names each one in X-Forwarded-For, which the
		// gateway believes only from there: intake's per-address limits
		// then count visitors, not the website.
		env = append(env, "HTTP_ADDR="+s.Addr("gateway"), "TRUSTED_PROXIES=127.0.0.1/32")
		return append(env, s.Settings[name]...)
	case "web":
		// The website has no database, no stream and no service
		// credentials: only the API's address and its cookie keys.
		env = append(env, "HTTP_ADDR="+s.Addr("web"), "API_URL="+s.GatewayURL(), "PUBLIC_URL="+s.WebURL(), "SESSION_KEYS="+s.SessionKeys)
		return append(env, s.Settings[name]...)
	}
	var trusted []string
	for svc, secret := range s.Secrets {
		trusted = append(trusted, svc+"="+secret)
	}
	sort.Strings(trusted)
	env = append(env,
		"GRPC_ADDR="+s.Addr(name),
		"DATABASE_URL="+s.DatabaseURL,
		"DB_SCHEMA="+name,
		"NATS_URL="+s.NATSURL,
		"EVENT_NAMESPACE="+s.EventNamespace,
		"SERVICE_SECRET="+s.Secrets[name],
		"TRUSTED_SERVICES="+strings.Join(trusted, ","),
	)
	if keys := s.EncryptionKeys[name]; keys != "" {
		env = append(env, "ENCRYPTION_KEYS="+keys)
	}
	switch name {
	case "directory":
		// Sign-in links open the website's page that uses them.
		env = append(env, "OPERATOR_TOKEN="+s.OperatorToken, "PUBLIC_URL="+s.WebURL())
	case "intake":
		// Clients' sign-in links open the website's page that uses them.
		env = append(env, "ACCESS_CODE_KEYS="+s.AccessCodeKeys, "PUBLIC_URL="+s.WebURL())
	case "notification":
		// Every link in an e-mail opens a page of the website.
		env = append(env, "SMTP_ADDR="+s.SMTPAddr, "PUBLIC_URL="+s.WebURL())
		if s.SendRate > 0 {
			env = append(env, fmt.Sprintf("SEND_RATE=%d", s.SendRate))
		}
	}
	return append(env, s.Settings[name]...)
}

// Start starts the named process (a service, the gateway or the website).
func (s *System) Start(name string) (*Proc, error) {
	if _, err := s.certificates(); err != nil {
		return nil, err
	}
	// Notification's PUBLIC_URL names the website, so its port is fixed
	// before any process starts.
	if err := s.webPort(); err != nil {
		return nil, err
	}
	logs := io.Discard
	if s.Logs != nil {
		logs = s.Logs(name)
	}
	p, err := StartProc(name, filepath.Join(s.BinDir, name), nil, s.Env(name), logs)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.procs == nil {
		s.procs = map[string]*Proc{}
	}
	s.procs[name] = p
	s.mu.Unlock()
	return p, nil
}

// Proc returns the running process of that name.
func (s *System) Proc(name string) *Proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[name]
}

// Processes are every process of the system, in the order they start.
var Processes = append(append([]string(nil), Services...), "gateway", "web")

// StartAll starts the four services, the gateway and the website, and waits
// until every one is ready.
func (s *System) StartAll(ctx context.Context) error {
	for _, name := range Processes {
		if _, err := s.Start(name); err != nil {
			return err
		}
	}
	for _, name := range Processes {
		if err := s.WaitReady(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// WaitReady waits until the named process reports ready: SERVING on gRPC
// health for a service, 200 on /readyz for the gateway and on /healthz for
// the website (which has no gRPC, and is ready once it listens).
func (s *System) WaitReady(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	creds, err := s.Credentials()
	if err != nil {
		return err
	}
	check := func() bool { return s.grpcReady(ctx, name, creds) }
	switch name {
	case "gateway":
		check = func() bool { return s.httpReady(ctx, s.GatewayURL()+"/readyz") }
	case "web":
		check = func() bool { return s.httpReady(ctx, s.WebURL()+"/healthz") }
	}
	p := s.Proc(name)
	for {
		if check() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not become ready: %w", name, ctx.Err())
		case <-p.Done():
			return fmt.Errorf("%s exited before it was ready: %v", name, p.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *System) grpcReady(ctx context.Context, name string, creds credentials.TransportCredentials) bool {
	conn, err := grpc.NewClient(s.Addr(name), grpc.WithTransportCredentials(creds))
	if err != nil {
		return false
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{Service: name})
	return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
}

func (s *System) httpReady(ctx context.Context, url string) bool {
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// StopAll stops the website, the gateway and then the services,
// gracefully, in reverse order of start.
func (s *System) StopAll(timeout time.Duration) error {
	var errs []string
	order := reversed(Processes)
	for _, name := range order {
		if p := s.Proc(name); p != nil {
			if err := p.Stop(timeout); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("stopping: %s", strings.Join(errs, "; "))
	}
	return nil
}

func reversed(in []string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[len(in)-1-i] = v
	}
	return out
}
