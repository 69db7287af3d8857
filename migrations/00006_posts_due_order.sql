-- The scheduler acts on due posts in due order: due time, then the time the
-- user chose (posts held back together until a rate limit's reset share
-- one due time), then creation. This index lets SQLite read them in that
-- order instead of sorting every due post on each scheduler round.

-- +goose Up
CREATE INDEX posts_due_order ON posts (due_at, scheduled_at, id) WHERE parent_post_id IS NULL AND due_at IS NOT NULL;

-- +goose Down
DROP INDEX posts_due_order;
