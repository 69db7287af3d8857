-- import_sources remembers, per imported item (a file, or a file's line),
-- the hash of its content when last imported and the post it became, so a
-- re-import skips unchanged items and updates the post of a changed one
-- instead of creating another. Deleting the post leaves a row whose
-- post_id no longer exists; the next import then creates the post again.

-- +goose Up
CREATE TABLE import_sources (
    source       TEXT PRIMARY KEY NOT NULL,
    content_hash TEXT NOT NULL,
    post_id      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE import_sources;
