-- The counts every psnd command's health check makes read only the posts
-- they count.
--
-- GET /v1/health counts the posts failed in the last day, the posts at
-- risk and the posts held by the budget. Each count found its posts
-- through posts_root_status (status, scheduled_at) and then read every
-- post of that status from the table to test sub_status or updated_at:
-- with 100,000 posts, 17 ms for each command a user runs. The at-risk and
-- held counts now read posts_at_risk_due and posts_over_budget (they hold
-- only those posts); this index does the same for the failed ones, so
-- the count reads index entries alone.
--
-- It holds only failed posts: creates and publishes of other posts do
-- not write to it.

-- +goose Up
CREATE INDEX posts_failed_updated ON posts (updated_at)
    WHERE parent_post_id IS NULL AND status = 'failed';

-- +goose Down
DROP INDEX posts_failed_updated;
