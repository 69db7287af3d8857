-- Posts: one row per tweet. A thread is a root row (parent_post_id NULL,
-- thread_position 0) plus child rows pointing at the root. The root carries
-- the post-level status, schedule, fence and retry state.

-- +goose Up
CREATE TABLE posts (
    id                INTEGER PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (id),
    parent_post_id    INTEGER REFERENCES posts (id) ON DELETE CASCADE,
    thread_position   INTEGER NOT NULL DEFAULT 0 CHECK (thread_position >= 0),
    content           TEXT NOT NULL,
    status            TEXT NOT NULL
        CHECK (status IN ('draft', 'scheduled', 'publishing', 'published', 'failed', 'retry')),
    sub_status        TEXT NOT NULL DEFAULT ''
        CHECK (sub_status IN ('', 'retry_1', 'retry_2', 'retry_3', 'rate_limited',
                              'media_uploading', 'media_uploaded', 'thread_partial')),
    scheduled_at      TEXT,
    published_at      TEXT,
    fail_reason       TEXT NOT NULL DEFAULT '',
    platform_post_id  TEXT,                          -- this tweet's X id
    platform_post_ids TEXT CHECK (platform_post_ids IS NULL OR json_valid(platform_post_ids)),
    -- Changes on every schedule/edit/cancel: a publish attempt or timer that
    -- holds an older run_id can no longer act on the row.
    run_id            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_retry_at     TEXT,
    lease_owner       TEXT,                          -- daemon instance publishing this post
    lease_expires_at  TEXT,                          -- after this a dead publisher's claim lapses
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    -- When the scheduler must next act on this post, whatever the reason.
    due_at            TEXT GENERATED ALWAYS AS (
        CASE status
            WHEN 'scheduled'  THEN scheduled_at
            WHEN 'retry'      THEN next_retry_at
            WHEN 'publishing' THEN lease_expires_at
        END) VIRTUAL,
    CHECK ((parent_post_id IS NULL) = (thread_position = 0)),
    CHECK (status <> 'scheduled' OR parent_post_id IS NOT NULL OR scheduled_at IS NOT NULL),
    CHECK (status <> 'published' OR platform_post_id IS NOT NULL)
);

-- The scheduler's "what is due next": roots only, ordered by due time.
CREATE INDEX posts_due ON posts (due_at) WHERE parent_post_id IS NULL AND due_at IS NOT NULL;
-- Listing by status, newest schedule first.
CREATE INDEX posts_root_status ON posts (status, scheduled_at) WHERE parent_post_id IS NULL;
-- Children of a thread, in order; one row per position.
CREATE UNIQUE INDEX posts_thread ON posts (parent_post_id, thread_position) WHERE parent_post_id IS NOT NULL;
-- An X id belongs to exactly one row.
CREATE UNIQUE INDEX posts_platform_post_id ON posts (platform_post_id) WHERE platform_post_id IS NOT NULL;
-- Recent posts of an account (near-duplicate warning).
CREATE INDEX posts_account_created ON posts (account_id, created_at);

-- +goose Down
DROP INDEX posts_account_created;
DROP INDEX posts_platform_post_id;
DROP INDEX posts_thread;
DROP INDEX posts_root_status;
DROP INDEX posts_due;
DROP TABLE posts;
