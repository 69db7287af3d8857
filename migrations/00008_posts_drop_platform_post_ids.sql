-- platform_post_ids was a JSON copy, on the root row, of the thread's
-- platform_post_id values. It was rewritten on every publish and never
-- read: the post's id list is its tweets' ids in thread order
-- (post.Post.PlatformPostIDs), so the copy could only drift from them.

-- +goose Up
ALTER TABLE posts DROP COLUMN platform_post_ids;

-- +goose Down
ALTER TABLE posts ADD COLUMN platform_post_ids TEXT
    CHECK (platform_post_ids IS NULL OR json_valid(platform_post_ids));
UPDATE posts SET platform_post_ids = (
    SELECT json_group_array(platform_post_id) FROM (
        SELECT c.platform_post_id FROM posts c
        WHERE (c.id = posts.id OR c.parent_post_id = posts.id) AND c.platform_post_id IS NOT NULL
        ORDER BY c.thread_position))
WHERE parent_post_id IS NULL AND platform_post_id IS NOT NULL;
