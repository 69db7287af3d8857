-- send_started_at marks a tweet whose create request may have reached X:
-- set (durably) just before the request, cleared when its id is recorded.
-- After a crash, a tweet with the mark set is first looked up in the
-- account's timeline, so it is never posted twice.

-- +goose Up
ALTER TABLE posts ADD COLUMN send_started_at TEXT;

-- +goose Down
ALTER TABLE posts DROP COLUMN send_started_at;
