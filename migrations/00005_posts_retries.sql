-- retries counts consecutive transient failures (network, 5xx) of a post,
-- so the three-retry limit of SPEC §6 holds even when rate limits or a
-- locked keyring come in between. Reset by success and by user actions.

-- +goose Up
ALTER TABLE posts ADD COLUMN retries INTEGER NOT NULL DEFAULT 0 CHECK (retries >= 0);

-- +goose Down
ALTER TABLE posts DROP COLUMN retries;
