-- The wire form of each root post: the JSON that GET /v1/posts writes for
-- it (docs/api.md), kept ready so a list copies bytes instead of reading a
-- post's columns, thread rows and media and encoding them (issue 12: in
-- the pure-Go SQLite, reading the columns alone cost more than the whole
-- list's time goal). The table is clustered in list order, so a list reads
-- it front to back without a lookup per post.
--
-- Every root post is in exactly one of post_wire (its stored form is that
-- of the post as it stands) and post_wire_stale (it must be encoded from
-- its columns). The triggers below keep that true inside the transaction
-- of every write to what the wire form shows (posts, media, an account's
-- username), so no Go code path can forget it; the daemon re-encodes stale
-- posts in the background (sqlstore.FillWire) and a list merges the few
-- stale ones in. A stale id whose post is gone is ignored, then dropped.
--
-- A migration that rebuilds posts, media or accounts must create these
-- triggers again.

-- +goose Up
CREATE TABLE post_wire (
    list_rank  INTEGER NOT NULL, -- posts.list_rank when encoded
    list_at    TEXT NOT NULL,    -- posts.list_at when encoded
    id         INTEGER NOT NULL, -- the root post
    status     TEXT NOT NULL,    -- for the status filter
    account_id TEXT NOT NULL,    -- for the account filter
    json       BLOB NOT NULL,
    PRIMARY KEY (list_rank, list_at, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX post_wire_id ON post_wire (id);

CREATE TABLE post_wire_stale (
    id INTEGER PRIMARY KEY -- a root post whose wire form must be encoded
);
INSERT INTO post_wire_stale (id) SELECT id FROM posts WHERE parent_post_id IS NULL;

-- The inserts into post_wire_stale skip ids already there with NOT IN
-- rather than OR IGNORE: a trigger's conflict clause gives way to that of
-- the statement that fired it, so an upsert (ON CONFLICT DO UPDATE) of an
-- account would make OR IGNORE an error.

-- +goose StatementBegin
CREATE TRIGGER posts_wire_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_wire_stale (id)
        SELECT COALESCE(NEW.parent_post_id, NEW.id)
        WHERE COALESCE(NEW.parent_post_id, NEW.id) NOT IN (SELECT id FROM post_wire_stale);
    DELETE FROM post_wire WHERE id = NEW.parent_post_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER posts_wire_update AFTER UPDATE ON posts BEGIN
    INSERT INTO post_wire_stale (id)
        SELECT r FROM (SELECT COALESCE(OLD.parent_post_id, OLD.id) AS r
                       UNION SELECT COALESCE(NEW.parent_post_id, NEW.id))
        WHERE r NOT IN (SELECT id FROM post_wire_stale);
    DELETE FROM post_wire
        WHERE id IN (COALESCE(OLD.parent_post_id, OLD.id), COALESCE(NEW.parent_post_id, NEW.id));
END;
-- +goose StatementEnd

-- A deleted root takes its thread rows and media with it (ON DELETE
-- CASCADE); their triggers find no root left to mark.
-- +goose StatementBegin
CREATE TRIGGER posts_wire_delete AFTER DELETE ON posts BEGIN
    DELETE FROM post_wire WHERE id IN (OLD.id, OLD.parent_post_id);
    DELETE FROM post_wire_stale WHERE id = OLD.id;
    INSERT INTO post_wire_stale (id)
        SELECT id FROM posts
        WHERE id = OLD.parent_post_id AND id NOT IN (SELECT id FROM post_wire_stale);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER media_wire_insert AFTER INSERT ON media BEGIN
    INSERT INTO post_wire_stale (id)
        SELECT r FROM (SELECT COALESCE(parent_post_id, id) AS r FROM posts WHERE id = NEW.post_id)
        WHERE r NOT IN (SELECT id FROM post_wire_stale);
    DELETE FROM post_wire
        WHERE id IN (SELECT COALESCE(parent_post_id, id) FROM posts WHERE id = NEW.post_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER media_wire_update AFTER UPDATE ON media BEGIN
    INSERT INTO post_wire_stale (id)
        SELECT DISTINCT r FROM (SELECT COALESCE(parent_post_id, id) AS r FROM posts WHERE id IN (OLD.post_id, NEW.post_id))
        WHERE r NOT IN (SELECT id FROM post_wire_stale);
    DELETE FROM post_wire
        WHERE id IN (SELECT COALESCE(parent_post_id, id) FROM posts WHERE id IN (OLD.post_id, NEW.post_id));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER media_wire_delete AFTER DELETE ON media BEGIN
    INSERT INTO post_wire_stale (id)
        SELECT r FROM (SELECT COALESCE(parent_post_id, id) AS r FROM posts WHERE id = OLD.post_id)
        WHERE r NOT IN (SELECT id FROM post_wire_stale);
    DELETE FROM post_wire
        WHERE id IN (SELECT COALESCE(parent_post_id, id) FROM posts WHERE id = OLD.post_id);
END;
-- +goose StatementEnd

-- An account's username is in each of its posts' wire form. Only a change
-- of it counts: the row is also written at every login. (Posts keep their
-- account row: foreign_keys is on, so an account with posts is never
-- deleted, nor a post inserted before its account.)
-- +goose StatementBegin
CREATE TRIGGER accounts_wire_update AFTER UPDATE OF id, username ON accounts
WHEN NEW.username IS NOT OLD.username OR NEW.id IS NOT OLD.id BEGIN
    INSERT INTO post_wire_stale (id)
        SELECT id FROM posts
        WHERE account_id IN (OLD.id, NEW.id) AND parent_post_id IS NULL
          AND id NOT IN (SELECT id FROM post_wire_stale);
    DELETE FROM post_wire WHERE account_id IN (OLD.id, NEW.id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER accounts_wire_update;
DROP TRIGGER media_wire_delete;
DROP TRIGGER media_wire_update;
DROP TRIGGER media_wire_insert;
DROP TRIGGER posts_wire_delete;
DROP TRIGGER posts_wire_update;
DROP TRIGGER posts_wire_insert;
DROP TABLE post_wire_stale;
DROP INDEX post_wire_id;
DROP TABLE post_wire;
