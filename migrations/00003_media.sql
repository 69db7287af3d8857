-- Media files attached to tweets. X media ids expire, so the id and its
-- expiry are recorded at publish time and re-uploaded when stale.

-- +goose Up
CREATE TABLE media (
    id                 INTEGER PRIMARY KEY,
    post_id            INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE, -- the tweet row
    position           INTEGER NOT NULL CHECK (position BETWEEN 0 AND 3),
    path               TEXT NOT NULL,                 -- psnd's own copy under $PSN_HOME/media
    sha256             TEXT NOT NULL,
    mime_type          TEXT NOT NULL,
    size_bytes         INTEGER NOT NULL CHECK (size_bytes >= 0),
    alt_text           TEXT NOT NULL DEFAULT '',
    x_media_id         TEXT,
    x_media_expires_at TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (post_id, position)
);

-- +goose Down
DROP TABLE media;
