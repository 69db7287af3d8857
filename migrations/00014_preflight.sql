-- Pre-flight (SPEC §6): a scheduled post is checked PSN_PREFLIGHT before it
-- is due — its account's grant proven by a refresh, its media uploaded.
--
-- preflight_run_id is the run_id the last pre-flight checked: an edit gives
-- the post a new run_id, so an edited post is checked again, and the
-- scheduler wakes only for posts whose run_id it has not checked.
--
-- list_rank (migration 00007) now puts a scheduled post that pre-flight
-- found at risk in the attention section, so `psnd list` shows it first.

-- +goose Up
ALTER TABLE posts ADD COLUMN preflight_run_id TEXT;
DROP INDEX posts_list;
ALTER TABLE posts DROP COLUMN list_rank;
ALTER TABLE posts ADD COLUMN list_rank INTEGER GENERATED ALWAYS AS (
    CASE
        WHEN status IN ('failed', 'retry', 'publishing') THEN 0
        WHEN status = 'scheduled' AND sub_status = 'at_risk' THEN 0
        WHEN status = 'scheduled' THEN 1
        ELSE 2
    END) VIRTUAL;
CREATE INDEX posts_list ON posts (list_rank, list_at, id) WHERE parent_post_id IS NULL;

-- +goose Down
DROP INDEX posts_list;
ALTER TABLE posts DROP COLUMN list_rank;
ALTER TABLE posts ADD COLUMN list_rank INTEGER GENERATED ALWAYS AS (
    CASE status
        WHEN 'failed'     THEN 0
        WHEN 'retry'      THEN 0
        WHEN 'publishing' THEN 0
        WHEN 'scheduled'  THEN 1
        ELSE 2
    END) VIRTUAL;
CREATE INDEX posts_list ON posts (list_rank, list_at, id) WHERE parent_post_id IS NULL;
ALTER TABLE posts DROP COLUMN preflight_run_id;
