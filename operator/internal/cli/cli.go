// Package cli is disputesctl's command tree: plural nouns with verbs
// (`groups create`, `members list`, ...), global settings from flags or the
// environment, one gRPC call per command, and output for people or, with
// --json, for scripts. Failures end in the exit statuses of package exitcode.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ipnmediation/disputes/operator/internal/exitcode"
	"github.com/ipnmediation/disputes/operator/internal/render"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	notificationv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/notification/v1"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Name is the binary's name.
const Name = "disputesctl"

// Defaults of the global settings.
const (
	DefaultDirectoryAddr = "127.0.0.1:7101"
	// DefaultIntakeAddr and DefaultCaseworkAddr are where `make run`
	// starts intake and casework.
	DefaultIntakeAddr   = "127.0.0.1:7102"
	DefaultCaseworkAddr = "127.0.0.1:7103"
	// DefaultNotificationAddr is where `make run` starts notification.
	DefaultNotificationAddr = "127.0.0.1:7104"
	DefaultTimeout          = 10 * time.Second
)

// Environment variables that stand in for global flags.
const (
	EnvDirectoryAddr = "DIRECTORY_ADDR"
	// EnvIntakeAddr and EnvCaseworkAddr stand in for --intake-addr and
	// --casework-addr; the names the gateway uses for the same addresses.
	EnvIntakeAddr   = "INTAKE_ADDR"
	EnvCaseworkAddr = "CASEWORK_ADDR"
	// EnvNotificationAddr stands in for --notification-addr; the name
	// the gateway and intake use for the same address.
	EnvNotificationAddr = "NOTIFICATION_ADDR"
	EnvToken            = "DISPUTES_TOKEN"
	// EnvTLSCertFile stands in for --tls-cert. The three TLS variables are
	// the services' own names, so that an operator can point disputesctl
	// at the same kind of files a service is given.
	EnvTLSCertFile = "TLS_CERT_FILE"
	// EnvTLSKeyFile stands in for --tls-key.
	EnvTLSKeyFile = "TLS_KEY_FILE"
	// EnvTLSCAFile stands in for --tls-ca.
	EnvTLSCAFile = "TLS_CA_FILE"
)

// IO is what a run of disputesctl reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Lookup reads the environment, like os.LookupEnv.
	Lookup func(string) (string, bool)
}

// globals are the settings every command shares.
type globals struct {
	directoryAddr string
	// notificationAddr is dialled by the deliveries and events commands,
	// intakeAddr and caseworkAddr by the events commands only.
	notificationAddr string
	intakeAddr       string
	caseworkAddr     string
	token            string
	json             bool
	timeout          time.Duration
	// tlsCert, tlsKey and tlsCA are the mutual-TLS files: all set or none.
	tlsCert, tlsKey, tlsCA string
	io                     IO
}

// Run runs disputesctl with args (without the program name) and returns its
// exit status. Errors go to Stderr as "disputesctl: <message> (<REASON>)",
// followed by one line per field violation.
func Run(ctx context.Context, args []string, io IO) int {
	g := &globals{io: io}
	root := newRoot(g)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitcode.OK
	}
	var failed *runError
	if errors.As(err, &failed) {
		err = failed.err
	} else {
		// Errors that cobra raises before a command runs are all about the
		// command line: unknown commands and flags, missing arguments.
		err = exitcode.AsUsage(err)
	}
	for _, line := range exitcode.Describe(err).Lines() {
		fmt.Fprintf(io.Stderr, "%s: %s\n", Name, line)
	}
	if exitcode.Of(err) == exitcode.Usage && cmd != nil {
		fmt.Fprintf(io.Stderr, "%s: see '%s --help'\n", Name, cmd.CommandPath())
	}
	return exitcode.Of(err)
}

// runError marks an error returned by a command's own work, as opposed to
// cobra's complaints about the command line.
type runError struct{ err error }

func (r *runError) Error() string { return r.err.Error() }

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   Name,
		Short: "Operate the IPN disputes system: groups, members, link groups, statements, tokens, deliveries and parked events",
		Long:  rootLong(),
		// A bare "disputesctl" is a usage error, not a success.
		Args:              noSubcommand,
		RunE:              func(*cobra.Command, []string) error { return exitcode.Usagef("a command is required") },
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return g.applyEnvironment(cmd) },
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(g.io.Stdin)
	root.SetOut(g.io.Stdout)
	root.SetErr(g.io.Stderr)
	flags := root.PersistentFlags()
	flags.StringVar(&g.directoryAddr, "directory-addr", DefaultDirectoryAddr, "directory service's gRPC address, host:port (env "+EnvDirectoryAddr+")")
	flags.StringVar(&g.notificationAddr, "notification-addr", DefaultNotificationAddr, "notification service's gRPC address, host:port, for the deliveries and events commands (env "+EnvNotificationAddr+")")
	flags.StringVar(&g.intakeAddr, "intake-addr", DefaultIntakeAddr, "intake service's gRPC address, host:port, for the events commands (env "+EnvIntakeAddr+")")
	flags.StringVar(&g.caseworkAddr, "casework-addr", DefaultCaseworkAddr, "casework service's gRPC address, host:port, for the events commands (env "+EnvCaseworkAddr+")")
	flags.StringVar(&g.token, "token", "", "bearer secret: the operator token or a member's personal access token (env "+EnvToken+")")
	flags.BoolVar(&g.json, "json", false, "print the response as one JSON object (protojson, REST field names) for scripts")
	flags.DurationVar(&g.timeout, "timeout", DefaultTimeout, "how long a command may wait for the services")
	flags.StringVar(&g.tlsCert, "tls-cert", "", "PEM certificate to present for mutual TLS; with --tls-key and --tls-ca, or none of the three for plaintext (env "+EnvTLSCertFile+")")
	flags.StringVar(&g.tlsKey, "tls-key", "", "PEM private key of --tls-cert (env "+EnvTLSKeyFile+")")
	flags.StringVar(&g.tlsCA, "tls-ca", "", "PEM certificates of the CA that signs the services' certificates (env "+EnvTLSCAFile+")")

	root.AddCommand(groupsCommand(g), membersCommand(g), linksCommand(g), statementsCommand(g), tokensCommand(g), deliveriesCommand(g), eventsCommand(g), demoCommand(g))
	markRunErrors(root)
	return root
}

func rootLong() string {
	var b strings.Builder
	b.WriteString(`disputesctl talks gRPC to the disputes services. Commands are plural nouns
with verbs, for example:

  disputesctl --token $OPERATOR_TOKEN groups create riverside --name "Riverside Practitioners"
  disputesctl members list riverside --json

Settings: --directory-addr or DIRECTORY_ADDR (default 127.0.0.1:7101);
--notification-addr or NOTIFICATION_ADDR (default 127.0.0.1:7104), for the
deliveries and events commands; --intake-addr or INTAKE_ADDR (default
127.0.0.1:7102) and --casework-addr or CASEWORK_ADDR (default
127.0.0.1:7103), for the events commands; --token or DISPUTES_TOKEN; for services that require mutual TLS, all three of
--tls-cert, --tls-key and --tls-ca, or TLS_CERT_FILE, TLS_KEY_FILE and
TLS_CA_FILE. Flags win over the environment.

Exit statuses:
`)
	for _, e := range exitcode.Table {
		fmt.Fprintf(&b, "  %d  %s\n", e.Code, e.Meaning)
	}
	return b.String()
}

// noSubcommand rejects arguments to a command that only groups others, so
// that a misspelt subcommand is a usage error rather than a help page.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

// group returns a command that only holds subcommands; run bare it is a
// usage error.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exitcode.Usagef("%s needs a command", cmd.CommandPath())
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// markRunErrors wraps every command's RunE so that Run can tell the
// command's own failures from cobra's complaints about the command line.
func markRunErrors(cmd *cobra.Command) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if err := run(c, args); err != nil {
				return &runError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markRunErrors(sub)
	}
}

// applyEnvironment fills the global settings the command line left unset
// from the environment.
func (g *globals) applyEnvironment(cmd *cobra.Command) error {
	if g.io.Lookup == nil {
		return nil
	}
	envs := map[string]string{"directory-addr": EnvDirectoryAddr, "notification-addr": EnvNotificationAddr,
		"intake-addr": EnvIntakeAddr, "casework-addr": EnvCaseworkAddr, "token": EnvToken}
	for _, s := range g.tlsSettings() {
		envs[s.flag] = s.env
	}
	for flag, env := range envs {
		if cmd.Flags().Changed(flag) {
			continue
		}
		if v, ok := g.io.Lookup(env); ok && v != "" {
			if err := cmd.Flags().Set(flag, v); err != nil {
				return fmt.Errorf("environment variable %s: %w", env, err)
			}
		}
	}
	if g.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive")
	}
	return nil
}

// call calls the directory service: it connects, bounds the call by
// --timeout, presents the token and labels a failure with the service's
// address.
func call[T any](ctx context.Context, g *globals, rpc func(context.Context, directoryv1.DirectoryServiceClient) (T, error)) (T, error) {
	return callAs(ctx, g, g.token, rpc)
}

// callAs is call presenting bearer instead of --token; nothing when empty.
func callAs[T any](ctx context.Context, g *globals, bearer string, rpc func(context.Context, directoryv1.DirectoryServiceClient) (T, error)) (T, error) {
	return dial(ctx, g, "directory", g.directoryAddr, bearer, func(ctx context.Context, conn *grpc.ClientConn) (T, error) {
		return rpc(ctx, directoryv1.NewDirectoryServiceClient(conn))
	})
}

// callNotification is call for the notification service at
// --notification-addr.
func callNotification[T any](ctx context.Context, g *globals, rpc func(context.Context, notificationv1.NotificationServiceClient) (T, error)) (T, error) {
	return dial(ctx, g, "notification", g.notificationAddr, g.token, func(ctx context.Context, conn *grpc.ClientConn) (T, error) {
		return rpc(ctx, notificationv1.NewNotificationServiceClient(conn))
	})
}

// dial connects to the service at addr with the TLS settings, bounds rpc by
// --timeout, presents bearer (nothing when empty) and labels a failure with
// the service's name and address.
func dial[T any](ctx context.Context, g *globals, service, addr, bearer string, rpc func(context.Context, *grpc.ClientConn) (T, error)) (T, error) {
	var zero T
	// A partial TLS set is refused here, before anything is sent, rather
	// than with the other settings, so that `disputesctl help` still
	// answers an operator whose environment has the mistake.
	files, err := g.tlsFiles()
	if err != nil {
		return zero, err
	}
	creds, err := transportCredentials(files)
	if err != nil {
		return zero, err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return zero, exitcode.Usagef("%s address %q: %v", service, addr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	if bearer != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bearer)
	}
	resp, err := rpc(ctx, conn)
	if err != nil {
		se := &exitcode.ServiceError{Service: service, Addr: addr, Timeout: g.timeout, Err: err}
		if status.Code(err) == codes.Unavailable {
			se.Cause = creds.state.cause()
		}
		return zero, se
	}
	return resp, nil
}

// respond calls the directory and prints its answer: as one JSON object with
// --json, otherwise for people with human.
func respond[T proto.Message](cmd *cobra.Command, g *globals, rpc func(context.Context, directoryv1.DirectoryServiceClient) (T, error), human func(io.Writer, T) error) error {
	resp, err := call(cmd.Context(), g, rpc)
	if err != nil {
		return err
	}
	if g.json {
		return render.JSON(g.io.Stdout, resp)
	}
	return human(g.io.Stdout, resp)
}

// jsonWithZeros writes m as one indented protojson object like --json
// does elsewhere, but with unpopulated fields too, so that a script reads
// a zero or false rather than a missing field.
func jsonWithZeros(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode the response as JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// maxPageSize is the largest page the services hand out.
const maxPageSize = 200

// allPages gathers every page of a list, so that a command prints the whole
// list and --json gives one object.
func allPages[T any](fetch func(pageToken string) ([]T, string, error)) ([]T, error) {
	var all []T
	token := ""
	for {
		items, next, err := fetch(token)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		token = next
	}
}

// Resource names built from the ids on the command line.
func groupName(group string) string              { return "groups/" + group }
func memberName(group, member string) string     { return groupName(group) + "/members/" + member }
func linkName(group, link string) string         { return groupName(group) + "/linkGroups/" + link }
func statementName(group, version string) string { return groupName(group) + "/statements/" + version }

// exactArgs names the expected arguments in its complaint.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return fmt.Errorf("%s takes %d argument(s): %s; got %d", cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		for i, a := range args {
			if strings.TrimSpace(a) == "" {
				return fmt.Errorf("%s must not be empty", names[i])
			}
		}
		return nil
	}
}
