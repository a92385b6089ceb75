package launch

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/operator/demo"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	"github.com/ipnmediation/disputes/stack/tracesink"
	"google.golang.org/grpc"
)

// LocalOptions configure RunLocal.
type LocalOptions struct {
	// Root is the repository; DataDir holds everything the run keeps.
	Root, DataDir string
	// DatabaseURL, NATSURL and SMTPAddr name servers to use instead of
	// starting them.
	DatabaseURL, NATSURL, SMTPAddr string
	// OperatorToken is the operator's secret; read from or written to
	// DataDir/operator-token when empty.
	OperatorToken string
	LogLevel      string
	// MutualTLS runs the processes with mutual TLS between them, with
	// throwaway certificates under DataDir/tls.
	MutualTLS bool
	// Traces runs a trace collector in the launcher (TracesAddr) that every
	// process exports its spans to, and that writes them, a line of JSON
	// each, to DataDir/traces.jsonl.
	Traces bool
}

// TracesAddr is where make run's trace collector listens (-traces).
const TracesAddr = "127.0.0.1:7317"

// RunLocal runs the whole system until ctx is done, then stops it.
func RunLocal(ctx context.Context, o LocalOptions, out io.Writer) error {
	fmt.Fprintln(out, "Starting PostgreSQL, NATS and the mail catcher (or using the ones configured)...")
	infra, err := StartInfra(ctx, o.DataDir, o.DatabaseURL, o.NATSURL, o.SMTPAddr, DefaultInfraPorts)
	if err != nil {
		return err
	}
	defer infra.Stop()

	fmt.Fprintln(out, "Building the services, the website and disputesctl...")
	bin := filepath.Join(o.Root, ".bin")
	if err := Build(ctx, o.Root, bin, append(append([]string(nil), Processes...), "disputesctl")...); err != nil {
		return err
	}
	token, err := operatorToken(o)
	if err != nil {
		return err
	}
	sys := &System{
		BinDir:        bin,
		DatabaseURL:   infra.DatabaseURL,
		NATSURL:       infra.NATSURL,
		SMTPAddr:      infra.SMTPAddr,
		OperatorToken: token,
		Ports:         DefaultPorts,
		AdminPorts:    DefaultAdminPorts,
		LogLevel:      o.LogLevel,
		Logs: func(name string) io.Writer {
			return logFile(o.DataDir, name)
		},
	}
	if o.MutualTLS {
		sys.TLSDir = filepath.Join(o.DataDir, "tls")
	}
	// Kept under DataDir: the cases in the database outlive a run.
	if sys.EncryptionKeys, err = localEncryptionKeys(o.DataDir); err != nil {
		return err
	}
	if sys.AccessCodeKeys, err = localAccessCodeKeys(o.DataDir); err != nil {
		return err
	}
	if sys.SessionKeys, err = localSessionKeys(o.DataDir); err != nil {
		return err
	}
	sys.NewSecrets()
	traces := ""
	if o.Traces {
		if traces, err = startTraces(sys, o.DataDir); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "Starting the services, the gateway and the website...")
	if err := sys.StartAll(ctx); err != nil {
		_ = sys.StopAll(10 * time.Second)
		return fmt.Errorf("%w (logs are in %s)", err, filepath.Join(o.DataDir, "logs"))
	}
	defer func() {
		fmt.Fprintln(out, "\nStopping...")
		if err := sys.StopAll(15 * time.Second); err != nil {
			fmt.Fprintln(out, err)
		}
	}()

	creds, err := sys.LoadDemo(ctx)
	if err != nil {
		return err
	}
	envFile := filepath.Join(o.DataDir, "demo.env")
	if err := writeDemoEnv(envFile, sys, creds); err != nil {
		return err
	}
	printBanner(out, sys, infra, creds, envFile, filepath.Join(o.DataDir, "logs"), traces)

	exited := make(chan string, 8)
	for _, name := range Processes {
		p := sys.Proc(name)
		go func() { <-p.Done(); exited <- p.Name }()
	}
	select {
	case <-ctx.Done():
		return nil
	case name := <-exited:
		return fmt.Errorf("%s stopped unexpectedly; see %s", name, filepath.Join(o.DataDir, "logs", name+".log"))
	}
}

func operatorToken(o LocalOptions) (string, error) {
	if o.OperatorToken != "" {
		return o.OperatorToken, nil
	}
	path := filepath.Join(o.DataDir, "operator-token")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	token := "operator_" + RandomSecret()
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save operator token: %w", err)
	}
	return token, nil
}

// LoadDemo creates the demo group in the running system's directory when it
// is missing, over gRPC as the launcher's own calls go, and returns its
// members' fresh access tokens.
func (sys *System) LoadDemo(ctx context.Context) ([]demo.Credential, error) {
	creds, err := sys.Credentials()
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(sys.Addr("directory"), grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return demo.Load(ctx, directoryv1.NewDirectoryServiceClient(conn), sys.OperatorToken)
}

// envName turns "alex-morgan" into "ALEX_TOKEN".
func envName(memberID string) string {
	first, _, _ := strings.Cut(memberID, "-")
	return strings.ToUpper(first) + "_TOKEN"
}

func writeDemoEnv(path string, sys *System, creds []demo.Credential) error {
	var b strings.Builder
	b.WriteString("# Written by make run: the demo members' access tokens. Use: source .data/demo.env\n")
	fmt.Fprintf(&b, "export API=%s\n", sys.GatewayURL())
	fmt.Fprintf(&b, "export WEB=%s\n", sys.WebURL())
	fmt.Fprintf(&b, "export OPERATOR_TOKEN=%s\n", sys.OperatorToken)
	fmt.Fprintf(&b, "export DIRECTORY_ADDR=%s\n", sys.Addr("directory"))
	if files, ok := sys.CLICertificate(); ok {
		// disputesctl reads the services' own variable names.
		fmt.Fprintf(&b, "export TLS_CERT_FILE='%s'\nexport TLS_KEY_FILE='%s'\nexport TLS_CA_FILE='%s'\n", files.CertFile, files.KeyFile, files.CAFile)
	} else {
		// A shell that sourced a mutual-TLS run's file would otherwise
		// dial this plaintext run with TLS.
		b.WriteString("unset TLS_CERT_FILE TLS_KEY_FILE TLS_CA_FILE\n")
	}
	for _, c := range creds {
		fmt.Fprintf(&b, "export %s=%s\n", envName(c.Member.ID), c.Token)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// relative shortens a path under the working directory, as a person would
// type it.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

func printBanner(out io.Writer, sys *System, infra *Infra, creds []demo.Credential, envFile, logs, traces string) {
	fmt.Fprintf(out, `
The IPN disputes system is running.

  The website: %s/%s/   (the demo group's page)

`, sys.WebURL(), demo.GroupID)
	fmt.Fprintf(out, `  REST API          %[1]s/v1/groups
  OpenAPI document  %[1]s/openapi.json
  API reference     %[1]s/reference
`, sys.GatewayURL())
	if infra.MailViewerURL != "" {
		fmt.Fprintf(out, "  Mail viewer       %s\n", infra.MailViewerURL)
	} else {
		fmt.Fprintf(out, "  Outgoing mail     SMTP %s\n", infra.SMTPAddr)
	}
	fmt.Fprintf(out, "  gRPC              directory %s, intake %s, casework %s, notification %s\n",
		sys.Addr("directory"), sys.Addr("intake"), sys.Addr("casework"), sys.Addr("notification"))
	fmt.Fprintf(out, "  Metrics           http://%s/metrics (directory; intake :%d, casework :%d, notification :%d, gateway :%d, website :%d)\n",
		sys.AdminAddr("directory"), sys.AdminPorts.Intake, sys.AdminPorts.Casework, sys.AdminPorts.Notification, sys.AdminPorts.Gateway, sys.AdminPorts.Web)
	fmt.Fprintf(out, "  Operator CLI      %s --token $OPERATOR_TOKEN groups list   (after: source %s)\n",
		relative(filepath.Join(sys.BinDir, "disputesctl")), relative(envFile))
	fmt.Fprintf(out, "  Logs              %s\n", logs)
	if traces != "" {
		fmt.Fprintf(out, "  Traces            %s, a span per line (collector on %s); a log line's trace_id finds its trace: grep <trace_id> %s\n", relative(traces), TracesAddr, relative(traces))
	} else {
		fmt.Fprintf(out, "  Traces            off; make run TRACES=1 collects them into .data/traces.jsonl, or set OTEL_EXPORTER_OTLP_ENDPOINT to your collector\n")
	}
	if files, ok := sys.CLICertificate(); ok {
		fmt.Fprintf(out, "  Mutual TLS        on between the processes; throwaway CA and certificates in %s\n", relative(sys.TLSDir))
		fmt.Fprintf(out, "                    disputesctl's is %s: TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE in %s\n", relative(files.CertFile), relative(envFile))
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "Demo group %q (fictional). Members and their access tokens (issued for this run):\n", "groups/"+demo.GroupID)
	for _, c := range creds {
		role := ""
		if c.Member.Admin {
			role = " (group admin)"
		}
		fmt.Fprintf(out, "  %-14s %-32s $%s%s\n", c.Member.Name, "groups/"+demo.GroupID+"/members/"+c.Member.ID, envName(c.Member.ID), role)
		fmt.Fprintf(out, "      %s\n", c.Token)
	}
	fmt.Fprintf(out, "\nLoad them into your shell with:  source %s\nPress Ctrl-C to stop everything.\n", envFile)
}

// startTraces starts make run's trace collector and points every process
// at it; it returns the file the spans go to. The collector stops with the
// launcher.
func startTraces(sys *System, dataDir string) (string, error) {
	file := filepath.Join(dataDir, "traces.jsonl")
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return "", fmt.Errorf("traces: %w", err)
	}
	sink, err := tracesink.Start(tracesink.Options{Addr: TracesAddr, Lines: f})
	if err != nil {
		f.Close()
		return "", err
	}
	// The processes flush their last spans as they stop, before the
	// launcher returns; the collector and the file go with the process.
	if sys.Settings == nil {
		sys.Settings = map[string][]string{}
	}
	for _, name := range Processes {
		sys.Settings[name] = append(sys.Settings[name], sink.Env()...)
	}
	return file, nil
}
