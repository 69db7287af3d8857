-- Which encoding made the stored wire forms of migration 00017. The JSON
-- of a post is psnd's code, not its rows: a psnd whose list JSON differs
-- from the one that stored the forms (an upgrade that adds a field, or a
-- downgrade) must not serve them. The daemon compares its own format with
-- this one at start and, when they differ, marks every post stale
-- (sqlstore.UseWireFormat). No row: the forms' format is unknown.
--
-- posts_wire_insert also drops the stored form of the post a row is
-- inserted as: a root replaced (INSERT OR REPLACE, from sqlite3) loses its
-- old row without the delete triggers (recursive_triggers is off), and its
-- old form stayed stored while it was marked stale, so it was listed twice.

-- +goose Up
CREATE TABLE post_wire_format (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    format TEXT NOT NULL
);

DROP TRIGGER posts_wire_insert;
-- +goose StatementBegin
CREATE TRIGGER posts_wire_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_wire_stale (id)
        SELECT COALESCE(NEW.parent_post_id, NEW.id)
        WHERE COALESCE(NEW.parent_post_id, NEW.id) NOT IN (SELECT id FROM post_wire_stale);
    DELETE FROM post_wire WHERE id = COALESCE(NEW.parent_post_id, NEW.id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER posts_wire_insert;
-- +goose StatementBegin
CREATE TRIGGER posts_wire_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_wire_stale (id)
        SELECT COALESCE(NEW.parent_post_id, NEW.id)
        WHERE COALESCE(NEW.parent_post_id, NEW.id) NOT IN (SELECT id FROM post_wire_stale);
    DELETE FROM post_wire WHERE id = NEW.parent_post_id;
END;
-- +goose StatementEnd
DROP TABLE post_wire_format;
