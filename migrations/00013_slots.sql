-- slots are an account's weekly queue slots (SPEC §8): the days of the
-- week (a bit per day, bit 0 Sunday as in Go's time.Weekday) and a time
-- of day in minutes, read in the IANA zone named here, the user's zone
-- when the slot was added. A slot holds no post: a post fills the slot
-- whose instant equals its scheduled_at, so cancelling or deleting the
-- post frees the slot and nothing else has to change.

-- +goose Up
CREATE TABLE slots (
    id         INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    days       INTEGER NOT NULL CHECK (days BETWEEN 1 AND 127),
    minute     INTEGER NOT NULL CHECK (minute BETWEEN 0 AND 1439),
    zone       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, days, minute, zone)
);

-- Which of an account's coming instants hold a post: the slot picker's
-- and the queue view's one query, without scanning every post.
CREATE INDEX posts_account_scheduled ON posts (account_id, scheduled_at) WHERE parent_post_id IS NULL;

-- +goose Down
DROP INDEX posts_account_scheduled;
DROP TABLE slots;
