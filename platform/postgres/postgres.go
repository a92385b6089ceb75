// Package postgres opens a service's connection pool on its own schema and
// applies the service's embedded migrations at start.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

var schemaName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// DefaultConnectTimeout bounds one attempt to open a connection when the
// URL does not say (connect_timeout): pgxpool's own bound is two minutes, and
// a request that needs a new connection to a database that does not answer
// (a stopped server, a lost network) should hear UNAVAILABLE within seconds,
// not hang for minutes.
const DefaultConnectTimeout = 5 * time.Second

// platformMigrations create the tables every service has: the outbox and the
// record of applied events.
//
//go:embed migrations/*.sql
var platformMigrations embed.FS

// Open connects to url with every connection's search_path set to schema,
// creates the schema when missing, and applies first the platform's and then
// the service's migrations (files named like 001_create_cases.sql in the root
// of migrations). Concurrent starts of the same service are serialised by
// tern's advisory lock.
func Open(ctx context.Context, url, schema string, migrations fs.FS) (*pgxpool.Pool, error) {
	if !schemaName.MatchString(schema) {
		return nil, fmt.Errorf("schema %q: want lowercase letters, digits and underscores", schema)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = schema
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}

	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := prepare(ctx, cfg.ConnConfig.Copy(), schema, migrations)
		if err == nil {
			break
		}
		// PostgreSQL may start after the service (compose, Kubernetes, a
		// reboot): keep trying to reach it until told to stop.
		var connectErr *pgconn.ConnectError
		if !errors.As(err, &connectErr) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (still trying when stopped: %w)", err, ctx.Err())
		case <-time.After(wait):
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	return pool, nil
}

func prepare(ctx context.Context, cfg *pgx.ConnConfig, schema string, migrations fs.FS) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	platformFS, err := fs.Sub(platformMigrations, "migrations")
	if err != nil {
		return err
	}
	if err := apply(ctx, conn, schema+".platform_schema_version", platformFS); err != nil {
		return fmt.Errorf("platform migrations: %w", err)
	}
	if err := apply(ctx, conn, schema+".schema_version", migrations); err != nil {
		return fmt.Errorf("service migrations: %w", err)
	}
	return nil
}

func apply(ctx context.Context, conn *pgx.Conn, versionTable string, migrations fs.FS) error {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return err
	}
	if err := m.LoadMigrations(migrations); err != nil {
		return err
	}
	return m.Migrate(ctx)
}

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, rollback(tx))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func rollback(tx pgx.Tx) error {
	if err := tx.Rollback(context.Background()); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// Ping is a readiness check for the pool.
func Ping(pool *pgxpool.Pool) func(context.Context) error {
	return func(ctx context.Context) error { return pool.Ping(ctx) }
}
