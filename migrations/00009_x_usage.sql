-- Requests psnd sent to X, counted per account, UTC month and kind (SPEC §9),
-- and the 24-hour user cap X reported last per account.

-- +goose Up
CREATE TABLE x_usage (
    account_id TEXT NOT NULL,       -- X user id (no foreign key: counts outlive a logout)
    month      TEXT NOT NULL,       -- YYYY-MM, UTC
    kind       TEXT NOT NULL,       -- post, post_url, media_upload, read, read_request, other
    n          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, month, kind)
);

CREATE TABLE x_user_caps (
    account_id TEXT PRIMARY KEY,
    cap_limit  INTEGER NOT NULL,
    remaining  INTEGER NOT NULL,
    reset_at   TEXT,                -- NULL when X sent no reset
    seen_at    TEXT NOT NULL
);

-- +goose Down
DROP TABLE x_user_caps;
DROP TABLE x_usage;
