// Package migrations holds the notification service's schema changes, applied
// in order at start by platform/postgres.Open.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
