-- Runs of stored wire forms: a whole list reads a row per run of posts,
-- not a row per post.
--
-- `psnd list --json` reads every stored wire form (post_wire, migration
-- 00017). Through the pure-Go SQLite and database/sql a row costs about
-- 1.6 µs whatever its size, so 100,000 posts cost 160 ms in rows alone.
-- A run holds the wire forms of up to 64 consecutive posts of one list
-- section, joined by commas in list order, as one value.
--
-- The runs of a section partition its key space, (list_at, id) in
-- ascending order, into half-open intervals [lo, hi): a run holds the
-- forms of every post_wire row of its section whose key is in its
-- interval, as they were when it was built. The first run of a section
-- starts at ('', 0) and the last ends at ('~', 0), below and above every
-- stored time. The triggers below delete the run whose interval holds a
-- key that post_wire gains, loses or changes, in the transaction of that
-- write, so a run that exists is current. What a deleted run held is read
-- from post_wire row by row until the daemon builds runs for it again
-- (sqlstore.BuildWireRuns, after the stale forms are stored).
--
-- A run with n = 0 holds no post: it keeps the intervals contiguous, so a
-- reader knows that nothing lies between two runs without asking.

-- +goose Up
CREATE TABLE post_wire_run (
    list_rank INTEGER NOT NULL,
    lo_at     TEXT NOT NULL,
    lo_id     INTEGER NOT NULL,
    hi_at     TEXT NOT NULL,
    hi_id     INTEGER NOT NULL,
    n         INTEGER NOT NULL, -- how many posts
    last_at   TEXT,             -- the key of the last post in list order
    last_id   INTEGER,          --   (NULL when n = 0)
    json      BLOB NOT NULL,    -- their wire forms in list order, joined by commas
    PRIMARY KEY (list_rank, lo_at, lo_id)
) WITHOUT ROWID;
-- The runs' bounds without their forms: a build looks for holes in every
-- section, reading these rather than a page per run.
CREATE INDEX post_wire_run_bounds ON post_wire_run (list_rank, lo_at, lo_id, hi_at, hi_id);

-- +goose StatementBegin
CREATE TRIGGER post_wire_run_insert AFTER INSERT ON post_wire BEGIN
    DELETE FROM post_wire_run
    WHERE list_rank = NEW.list_rank
      AND (lo_at, lo_id) = (SELECT lo_at, lo_id FROM post_wire_run
            WHERE list_rank = NEW.list_rank AND (lo_at, lo_id) <= (NEW.list_at, NEW.id)
            ORDER BY lo_at DESC, lo_id DESC LIMIT 1)
      AND (hi_at, hi_id) > (NEW.list_at, NEW.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER post_wire_run_delete AFTER DELETE ON post_wire BEGIN
    DELETE FROM post_wire_run
    WHERE list_rank = OLD.list_rank
      AND (lo_at, lo_id) = (SELECT lo_at, lo_id FROM post_wire_run
            WHERE list_rank = OLD.list_rank AND (lo_at, lo_id) <= (OLD.list_at, OLD.id)
            ORDER BY lo_at DESC, lo_id DESC LIMIT 1)
      AND (hi_at, hi_id) > (OLD.list_at, OLD.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER post_wire_run_update AFTER UPDATE ON post_wire BEGIN
    DELETE FROM post_wire_run
    WHERE list_rank = OLD.list_rank
      AND (lo_at, lo_id) = (SELECT lo_at, lo_id FROM post_wire_run
            WHERE list_rank = OLD.list_rank AND (lo_at, lo_id) <= (OLD.list_at, OLD.id)
            ORDER BY lo_at DESC, lo_id DESC LIMIT 1)
      AND (hi_at, hi_id) > (OLD.list_at, OLD.id);
    DELETE FROM post_wire_run
    WHERE list_rank = NEW.list_rank
      AND (lo_at, lo_id) = (SELECT lo_at, lo_id FROM post_wire_run
            WHERE list_rank = NEW.list_rank AND (lo_at, lo_id) <= (NEW.list_at, NEW.id)
            ORDER BY lo_at DESC, lo_id DESC LIMIT 1)
      AND (hi_at, hi_id) > (NEW.list_at, NEW.id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER post_wire_run_update;
DROP TRIGGER post_wire_run_delete;
DROP TRIGGER post_wire_run_insert;
DROP INDEX post_wire_run_bounds;
DROP TABLE post_wire_run;
