-- The monthly budget the user gave last (PSN_MONTHLY_BUDGET, SPEC §9), so a
-- daemon restarted without the variable keeps it: NULL when never given,
-- 'none' when removed, else US dollars as text.

-- +goose Up
ALTER TABLE settings ADD COLUMN monthly_budget TEXT;

-- +goose Down
ALTER TABLE settings DROP COLUMN monthly_budget;
