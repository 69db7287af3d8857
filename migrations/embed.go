// Package migrations embeds psnd's goose SQL migrations so the binary carries
// its schema. Migrations run only at daemon start (internal/sqlstore.Migrate).
// Every schema change is a new numbered file; a landed file is never edited.
// A migration is SQL unless it cannot be (00012 is Go: see its file).
package migrations

import "embed"

// FS holds the NNNNN_name.sql files at its root, as goose's Provider expects.
//
//go:embed *.sql
var FS embed.FS
