// Package migrations holds the directory's schema, applied at start.
package migrations

import "embed"

// FS holds the migration files, applied in the order of their numbers.
//
//go:embed *.sql
var FS embed.FS
