-- The monthly budget the user gave last (PSN_MONTHLY_BUDGET, SPEC §9), so a
-- daemon restarted without the variable keeps it: NULL when never given,
-- 'none' when removed, else US dollars as text.

-- The posts the budget holds, found without scanning the schedule (the
-- scheduler counts them every round while a budget is set).

-- +goose Up
ALTER TABLE settings ADD COLUMN monthly_budget TEXT;
CREATE INDEX posts_over_budget ON posts (scheduled_at, id) WHERE parent_post_id IS NULL AND sub_status = 'over_budget';

-- +goose Down
DROP INDEX posts_over_budget;
ALTER TABLE settings DROP COLUMN monthly_budget;
