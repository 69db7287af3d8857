-- Accounts, their encrypted OAuth tokens, and the single row of app settings.
-- Times are fixed-width UTC text (YYYY-MM-DDTHH:MM:SS.sssZ) so that text
-- comparison in SQL is time comparison.

-- +goose Up
CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,              -- X user id
    username          TEXT NOT NULL,
    display_name      TEXT NOT NULL DEFAULT '',
    subscription_type TEXT NOT NULL DEFAULT 'None',  -- from GET /2/users/me; decides the length limit
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX accounts_username ON accounts (username COLLATE NOCASE);

CREATE TABLE oauth_tokens (
    account_id        TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    -- AES-256-GCM sealed with the data key, associated data naming the
    -- account and the field, so a ciphertext cannot be moved to another row.
    access_token_enc  BLOB NOT NULL,
    refresh_token_enc BLOB,
    token_type        TEXT NOT NULL DEFAULT 'bearer',
    expires_at        TEXT,
    scopes            TEXT NOT NULL DEFAULT '',
    -- last refresh time, refresh failures and their reason, needs-reauth flag
    metadata          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    updated_at        TEXT NOT NULL
);

-- One row (id = 1) of application settings.
CREATE TABLE settings (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    timezone            TEXT NOT NULL DEFAULT '',   -- IANA name; '' means the system's
    default_account_id  TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    x_client_id         TEXT NOT NULL DEFAULT '',
    x_client_secret_enc BLOB,                       -- sealed like tokens; NULL for a public client
    key_check           BLOB,                       -- proves which data key sealed this database
    updated_at          TEXT NOT NULL
);
INSERT INTO settings (id, updated_at) VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

-- +goose Down
DROP TABLE settings;
DROP TABLE oauth_tokens;
DROP INDEX accounts_username;
DROP TABLE accounts;
