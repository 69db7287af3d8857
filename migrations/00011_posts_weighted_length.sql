-- weighted_length is the tweet's length as X counts it
-- (tweettext.WeightedLength of content), stored when the text is written so
-- that listing posts does not count every tweet again (it was a sixth of
-- the daemon's time per listed post). SQL cannot count it: rows written
-- before this migration are NULL here and counted in Go by
-- sqlstore.Migrate right after it (readers count a NULL themselves). A
-- change to the counting rules is a migration setting it back to NULL.

-- +goose Up
ALTER TABLE posts ADD COLUMN weighted_length INTEGER;

-- +goose Down
ALTER TABLE posts DROP COLUMN weighted_length;
