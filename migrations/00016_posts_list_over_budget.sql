-- A scheduled post held by the monthly budget (sub_status over_budget,
-- SPEC §9) will not go out at its time until the user raises the budget or
-- the month turns: like a post at risk, it lists in the attention section
-- (list_rank 0), so the default `psnd list` shows it first.

-- +goose Up
DROP INDEX posts_list;
ALTER TABLE posts DROP COLUMN list_rank;
ALTER TABLE posts ADD COLUMN list_rank INTEGER GENERATED ALWAYS AS (
    CASE
        WHEN status IN ('failed', 'retry', 'publishing') THEN 0
        WHEN status = 'scheduled' AND sub_status IN ('at_risk', 'over_budget') THEN 0
        WHEN status = 'scheduled' THEN 1
        ELSE 2
    END) VIRTUAL;
CREATE INDEX posts_list ON posts (list_rank, list_at, id) WHERE parent_post_id IS NULL;

-- +goose Down
DROP INDEX posts_list;
ALTER TABLE posts DROP COLUMN list_rank;
ALTER TABLE posts ADD COLUMN list_rank INTEGER GENERATED ALWAYS AS (
    CASE
        WHEN status IN ('failed', 'retry', 'publishing') THEN 0
        WHEN status = 'scheduled' AND sub_status = 'at_risk' THEN 0
        WHEN status = 'scheduled' THEN 1
        ELSE 2
    END) VIRTUAL;
CREATE INDEX posts_list ON posts (list_rank, list_at, id) WHERE parent_post_id IS NULL;
