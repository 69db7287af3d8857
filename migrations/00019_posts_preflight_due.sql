-- Pre-flight's queries read only the posts they want, in due order.
--
-- posts_preflight_due holds the scheduled posts pre-flight has not checked
-- in their current version. Tx.NextPreflight runs on every scheduler round
-- and found the first of them by reading every scheduled post (through
-- posts_root_status and a sort, or posts_due_order skipping the checked
-- ones): once all were checked, each round visited every scheduled post.
-- Now the next post to check is the index's first entry, and a post leaves
-- the index as its check is recorded.
--
-- posts_at_risk_due holds the scheduled posts found at risk, which
-- Tx.PreflightDue lists again after the unchecked ones.
--
-- Both hold scheduled posts only, whose due_at is their scheduled_at, so
-- (due_at, id) — due_at and the rowid every index ends with — is due
-- order (due_at, scheduled_at, id) for them, in entries half as long.
--
-- posts_due (due_at) goes: posts_due_order (migration 00006) holds the
-- same posts by (due_at, scheduled_at, id), and no query needs the
-- narrower one. Each index costs every create a page written, and in
-- WAL mode a statement with triggers (the insert of a post) copies every
-- page it changes to a statement journal, which past 64 KiB spills to a
-- temporary file: this keeps a create's page count as it was.
--
-- SQLite uses a partial index only for a query whose WHERE contains the
-- index's terms as written: the queries (internal/sqlstore/preflight.go)
-- repeat them verbatim.

-- +goose Up
CREATE INDEX posts_preflight_due ON posts (due_at)
    WHERE parent_post_id IS NULL AND due_at IS NOT NULL AND status = 'scheduled'
      AND sub_status <> 'over_budget' AND preflight_run_id IS NOT run_id;
DROP INDEX posts_due;
CREATE INDEX posts_at_risk_due ON posts (due_at)
    WHERE parent_post_id IS NULL AND due_at IS NOT NULL AND status = 'scheduled' AND sub_status = 'at_risk';

-- +goose Down
CREATE INDEX posts_due ON posts (due_at) WHERE parent_post_id IS NULL AND due_at IS NOT NULL;
DROP INDEX posts_at_risk_due;
DROP INDEX posts_preflight_due;
