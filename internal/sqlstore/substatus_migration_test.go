package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// TestSubStatusMigration: migration 00012 widens the sub_status CHECK by
// editing the schema text. Rows written before it survive with their media
// (nothing is rebuilt or cascaded), every pooled connection accepts the
// new values at once, unknown values are still refused, and going down
// clears the new values before narrowing the check again.
func TestSubStatusMigration(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	s := openTemp(t)
	if err := s.MigrateDownTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	var id int64
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.UpsertAccount(post.Account{ID: "1", Username: "alice"}, now); err != nil {
			return err
		}
		var err error
		id, err = tx.InsertPost(&post.Post{AccountID: "1", Status: post.StatusDraft, RunID: "r", CreatedAt: now, UpdatedAt: now,
			Tweets: []post.Tweet{{Text: "İstanbul 東京 👩‍👩‍👧"}, {Position: 1, Text: "second", Status: post.StatusDraft}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO media (post_id, position, path, sha256, mime_type, size_bytes, alt_text, created_at)
		VALUES (?, 0, '/m.png', 'abc', 'image/png', 3, 'alt', ?)`, id, fmtTime(now)); err != nil {
		t.Fatalf("media before 00012: %v", err)
	}
	// Hold a second connection open across the migration: it must see the
	// new schema too.
	other, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, "UPDATE posts SET sub_status = 'at_risk' WHERE id = ?", id); err == nil {
		t.Fatal("at_risk accepted before migration 00012")
	}

	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []post.SubStatus{post.SubAtRisk, post.SubOverBudget} {
		if _, err := other.ExecContext(ctx, "UPDATE posts SET sub_status = ? WHERE id = ?", string(sub), id); err != nil {
			t.Errorf("%s after migration 00012: %v", sub, err)
		}
	}
	if _, err := other.ExecContext(ctx, "UPDATE posts SET sub_status = 'bogus' WHERE id = ?", id); err == nil {
		t.Error("an unknown sub_status is accepted after migration 00012")
	}
	var tweets, media int
	if err := s.db.QueryRow("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM media)").Scan(&tweets, &media); err != nil {
		t.Fatal(err)
	}
	if tweets != 2 || media != 1 {
		t.Errorf("after migration 00012: %d tweet rows and %d media rows, want 2 and 1", tweets, media)
	}

	if err := s.MigrateDownTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	var sub string
	if err := s.db.QueryRow("SELECT sub_status FROM posts WHERE id = ?", id).Scan(&sub); err != nil {
		t.Fatal(err)
	}
	if sub != "" {
		t.Errorf("sub_status after going down = %q, want it cleared", sub)
	}
	if _, err := other.ExecContext(ctx, "UPDATE posts SET sub_status = 'at_risk' WHERE id = ?", id); err == nil {
		t.Error("at_risk accepted after going down past 00012")
	}
}
