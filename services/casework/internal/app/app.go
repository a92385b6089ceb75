// Package app wires the casework service together: settings, PostgreSQL,
// NATS, the clients of intake and the directory, the gRPC server, the outbox
// relay and the event consumer.
package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ipnmediation/disputes/platform/auth"
	"github.com/ipnmediation/disputes/platform/config"
	"github.com/ipnmediation/disputes/platform/grpcserver"
	"github.com/ipnmediation/disputes/platform/sealed"
	"github.com/ipnmediation/disputes/platform/service"
	caseworkv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/casework/v1"
	directoryv1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/directory/v1"
	intakev1 "github.com/ipnmediation/disputes/proto/gen/go/ipn/disputes/intake/v1"
	"github.com/ipnmediation/disputes/services/casework/internal/casefile"
	"github.com/ipnmediation/disputes/services/casework/internal/directory"
	"github.com/ipnmediation/disputes/services/casework/internal/eventapi"
	"github.com/ipnmediation/disputes/services/casework/internal/grpcapi"
	"github.com/ipnmediation/disputes/services/casework/internal/intake"
	"github.com/ipnmediation/disputes/services/casework/internal/procedure"
	"github.com/ipnmediation/disputes/services/casework/internal/store"
	"github.com/ipnmediation/disputes/services/casework/internal/timerloop"
	"github.com/ipnmediation/disputes/services/casework/migrations"
	"github.com/ipnmediation/disputes/services/casework/procedures"
)

// Name is the service's name: its log label, schema, durable consumer name
// and the name it presents to other services.
const Name = "casework"

// Config is the casework service's settings.
type Config struct {
	config.Service
	// DirectoryAddr is the directory service's gRPC address.
	DirectoryAddr string
	// IntakeAddr is the intake service's gRPC address.
	IntakeAddr string
	// Now is the clock; time.Now when nil. Tests inject their own.
	Now func() time.Time

	// TimerInterval is how often the case timers (reminders and overdue
	// events) are checked; a minute when zero.
	TimerInterval time.Duration
	// PurgeInterval is how often closed cases past their group's retention
	// are looked for; an hour when zero. The purge runs on the timer loop's
	// passes, so it is never more frequent than TimerInterval.
	PurgeInterval time.Duration

	// ProceduresDir is a folder of more procedure versions (*.txtpb), read
	// at start beside the built-in ones; none when empty.
	ProceduresDir string

	// Keys encrypt the cases' confidential text at rest.
	Keys config.Keys
	// Reencrypt makes Run re-encrypt (see reencrypt.go) and return instead
	// of serving.
	Reencrypt bool
}

// Register declares the settings on set.
func (c *Config) Register(set *config.Set) {
	set.RegisterService(&c.Service, Name, "127.0.0.1:7103", "127.0.0.1:7203")
	set.String(&c.DirectoryAddr, "directory-addr", "DIRECTORY_ADDR", "127.0.0.1:7101", "gRPC address of the directory service")
	set.String(&c.IntakeAddr, "intake-addr", "INTAKE_ADDR", "127.0.0.1:7102", "gRPC address of the intake service")
	set.Duration(&c.TimerInterval, "timer-interval", "TIMER_INTERVAL", time.Minute, "how often due reminders and overdue events of cases are fired")
	set.Duration(&c.PurgeInterval, "purge-interval", "PURGE_INTERVAL", time.Hour, "how often closed cases past their group's retention are purged")
	set.String(&c.ProceduresDir, "procedures-dir", "PROCEDURES_DIR", "", "folder of more procedure versions (*.txtpb) to serve beside the built-in ones; a bad file or a built-in name stops casework at start")
	set.RegisterKeys(&c.Keys)
	set.Bool(&c.Reencrypt, "reencrypt", "", false, reencryptUsage)
}

// Run serves casework until ctx is done.
func Run(ctx context.Context, cfg Config) error {
	keys, err := sealed.FromConfig(cfg.Keys)
	if err != nil {
		return err
	}
	if cfg.Reencrypt {
		return reencrypt(ctx, cfg, keys)
	}
	// Before anything is opened: a procedure that cannot be followed stops
	// casework at once, rather than after PostgreSQL and NATS answer.
	catalogue, err := loadProcedures(cfg.ProceduresDir)
	if err != nil {
		return err
	}
	base, err := service.Open(ctx, Name, cfg.Service, migrations.FS)
	if err != nil {
		return err
	}
	defer base.Close()
	if cfg.ProceduresDir != "" {
		var names []string
		for _, d := range catalogue.All() {
			names = append(names, d.Name())
		}
		base.Log.Info("procedure versions, built-in and from the folder", "folder", cfg.ProceduresDir, "versions", names)
	}
	if cfg.Now != nil {
		// Loud, so that nobody mistakes a test build's clock for the real one.
		base.Log.Warn("the clock is injected: case times, reminders and overdue events do not follow the machine's clock")
	}
	directoryConn, err := base.Dial(cfg.DirectoryAddr)
	if err != nil {
		return err
	}
	intakeConn, err := base.Dial(cfg.IntakeAddr)
	if err != nil {
		return err
	}
	directoryClient := directoryv1.NewDirectoryServiceClient(directoryConn)

	intakeClient := intakev1.NewIntakeServiceClient(intakeConn)

	st := &store.Store{Pool: base.Pool, Namespace: base.Events, Keys: keys}
	cases := &casefile.Service{
		Store:      st,
		Intake:     intake.Client{Intake: intakeClient},
		Directory:  directory.Client{Directory: directoryClient},
		Procedures: catalogue,
		Now:        cfg.Now,
	}
	// Whom each open case waits for, where the stored answer is not its
	// current version's (store.FillAwaiting): before serving, so that
	// ListCases's awaiting filter is right from the first request.
	if n, err := st.FillAwaiting(ctx, cases.AwaitingOf, store.DefaultAwaitingBatch); err != nil {
		return fmt.Errorf("fill in whom the open cases wait for: %w", err)
	} else if n > 0 {
		base.Log.Info("filled in whom the open cases wait for", "cases", n)
	}
	server := base.Server(grpcserver.Options{
		Authenticator: auth.Chain{
			Services: base.Trusted,
			Clients:  &auth.Intake{Client: intakeClient},
			Others:   &auth.Directory{Client: directoryClient},
		},
		Validate: grpcapi.Validate,
	})
	caseworkv1.RegisterCaseworkServiceServer(server.Registrar(), &grpcapi.Server{Cases: cases})

	opener := eventapi.ConcernRegistered{Cases: cases, Store: st}
	consumer := base.Consumer(opener.Subjects(base.Events), opener.Handle)

	// Case timers: reminders and overdue events of the time targets, fired
	// on the injected clock so tests can drive it.
	timerNow, timerEvery := cfg.Now, cfg.TimerInterval
	if timerNow == nil {
		timerNow = time.Now
	}
	registerMetrics(base.Metrics, st, timerNow)
	if timerEvery <= 0 {
		timerEvery = time.Minute
	}
	// The purge of closed cases past their retention rides on the same
	// loop, at its own slower pace, so one clock drives both.
	purger := &casefile.Purger{Store: st, Directory: directory.Client{Directory: directoryClient}}
	purgeEvery := cfg.PurgeInterval
	if purgeEvery <= 0 {
		purgeEvery = time.Hour
	}
	var lastPurge time.Time
	timers := func(ctx context.Context) error {
		return timerloop.Run(ctx, timerEvery, timerNow, func(ctx context.Context, now time.Time) (int, error) {
			fired, err := st.FireDueTimers(ctx, now, store.DefaultTimerBatch)
			if err != nil {
				return fired, err
			}
			// Cases changed by a casework that does not know whom a case
			// waits for (one still running an older version during an
			// upgrade) are caught up here; none otherwise, found by an
			// index that is then empty.
			if _, err := st.FillAwaiting(ctx, cases.AwaitingOf, store.DefaultAwaitingBatch); err != nil {
				return fired, err
			}
			if now.Sub(lastPurge) < purgeEvery {
				return fired, err
			}
			purged, err := purger.PurgeDue(ctx, now, store.DefaultTimerBatch)
			if err != nil {
				return fired + purged, err
			}
			lastPurge = now
			return fired + purged, nil
		}, base.Log)
	}

	return base.Run(ctx, server, consumer.Run, timers)
}

// loadProcedures reads the built-in procedure versions and, when dir is set,
// those of that folder.
func loadProcedures(dir string) (*procedure.Catalogue, error) {
	catalogue, err := procedure.Load(procedures.FS, procedures.Default)
	if err != nil {
		return nil, fmt.Errorf("load the procedures: %w", err)
	}
	if dir == "" {
		return catalogue, nil
	}
	if err := catalogue.Extend(os.DirFS(dir), dir); err != nil {
		return nil, fmt.Errorf("load the procedures of PROCEDURES_DIR: %w", err)
	}
	return catalogue, nil
}
