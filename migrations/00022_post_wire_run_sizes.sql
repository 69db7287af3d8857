-- The runs' bounds with their sizes, for a build to find the runs that
-- are not full without reading the runs themselves.
--
-- A build of runs (sqlstore.BuildWireRuns) now also rebuilds, with each
-- hole, the runs beside it that hold fewer than a full run's posts, so
-- that writes coming one by one cannot leave a section cut into runs of
-- one post. It reads every run's bounds and size: from the table, that
-- is a page per few runs (each row carries its forms), from this index a
-- few entries per page.

-- +goose Up
CREATE INDEX post_wire_run_sizes ON post_wire_run (list_rank, lo_at, lo_id, hi_at, hi_id, n);
DROP INDEX post_wire_run_bounds;

-- +goose Down
CREATE INDEX post_wire_run_bounds ON post_wire_run (list_rank, lo_at, lo_id, hi_at, hi_id);
DROP INDEX post_wire_run_sizes;
