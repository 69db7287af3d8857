-- Which encoding made the stored wire forms of migration 00017. The JSON
-- of a post is psnd's code, not its rows: a psnd whose list JSON differs
-- from the one that stored the forms (an upgrade that adds a field, or a
-- downgrade) must not serve them. The daemon compares its own format with
-- this one at start and, when they differ, marks every post stale
-- (sqlstore.UseWireFormat). No row: the forms' format is unknown.

-- +goose Up
CREATE TABLE post_wire_format (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    format TEXT NOT NULL
);

-- +goose Down
DROP TABLE post_wire_format;
