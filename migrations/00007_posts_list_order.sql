-- The order GET /v1/posts pages through, kept in an index so that a page
-- is a range scan from a cursor (keyset pagination) at any size, instead
-- of reading and sorting every post.
--
-- list_rank is the section: 0 needs attention (failed, retrying, being
-- published), 1 scheduled, 2 the rest (drafts, published).
-- list_at is the post's time: when it was published, else when it is
-- scheduled, else when it was created (a draft without a time).

-- +goose Up
ALTER TABLE posts ADD COLUMN list_rank INTEGER GENERATED ALWAYS AS (
    CASE status
        WHEN 'failed'     THEN 0
        WHEN 'retry'      THEN 0
        WHEN 'publishing' THEN 0
        WHEN 'scheduled'  THEN 1
        ELSE 2
    END) VIRTUAL;
ALTER TABLE posts ADD COLUMN list_at TEXT GENERATED ALWAYS AS (
    COALESCE(published_at, scheduled_at, created_at)) VIRTUAL;
CREATE INDEX posts_list ON posts (list_rank, list_at, id) WHERE parent_post_id IS NULL;

-- +goose Down
DROP INDEX posts_list;
ALTER TABLE posts DROP COLUMN list_at;
ALTER TABLE posts DROP COLUMN list_rank;
