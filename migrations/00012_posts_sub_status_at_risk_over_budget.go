package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"
)

// Migration 00012 lets posts.sub_status hold 'at_risk' (pre-flight found a
// problem, SPEC §6) and 'over_budget' (held by PSN_MONTHLY_BUDGET, §9).
//
// SQLite cannot alter a CHECK constraint, and rebuilding posts would need
// foreign keys off (media and a thread's children reference it with ON
// DELETE CASCADE, so dropping the old table would delete them), which a
// transactional migration cannot do. A CHECK that allows more values
// changes nothing on disk, so this edits the constraint's text in the
// schema the way SQLite documents for such changes ("ALTER TABLE",
// section 7: writable_schema, then bump schema_version so every open
// connection re-reads the schema), and proves the result with
// integrity_check. It is Go rather than SQL only because schema_version
// must be set to a computed number.
const subStatusOld, subStatusNew = `'thread_partial')`, `'thread_partial', 'at_risk', 'over_budget')`

// Go lists the migrations written in Go, for goose.WithGoMigrations.
func Go() []*goose.Migration {
	return []*goose.Migration{
		goose.NewGoMigration(12,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				return editPostsSQL(ctx, tx, subStatusOld, subStatusNew)
			}},
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
				// Going down, the new values have no meaning: the posts keep
				// their status and lose only the refinement.
				if _, err := tx.ExecContext(ctx,
					"UPDATE posts SET sub_status = '' WHERE sub_status IN ('at_risk', 'over_budget')"); err != nil {
					return fmt.Errorf("clear new sub-statuses: %w", err)
				}
				return editPostsSQL(ctx, tx, subStatusNew, subStatusOld)
			}}),
	}
}

// editPostsSQL replaces from with to, exactly once, in the posts table's
// CREATE statement.
func editPostsSQL(ctx context.Context, tx *sql.Tx, from, to string) error {
	var def string
	if err := tx.QueryRowContext(ctx,
		"SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'posts'").Scan(&def); err != nil {
		return fmt.Errorf("read posts schema: %w", err)
	}
	if n := strings.Count(def, from); n != 1 {
		return fmt.Errorf("posts schema: expected %q once, found it %d times", from, n)
	}
	var version int64
	if err := tx.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	steps := []struct {
		q    string
		args []any
	}{
		{q: "PRAGMA writable_schema = ON"},
		{q: "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'posts'", args: []any{strings.Replace(def, from, to, 1)}},
		{q: fmt.Sprintf("PRAGMA schema_version = %d", version+1)},
		{q: "PRAGMA writable_schema = OFF"},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("edit posts schema: %s: %w", st.q, err)
		}
	}
	var check string
	if err := tx.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil {
		return fmt.Errorf("check database after schema edit: %w", err)
	}
	if check != "ok" {
		return fmt.Errorf("check database after schema edit: %s", check)
	}
	return nil
}
