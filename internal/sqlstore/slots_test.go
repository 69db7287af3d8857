package sqlstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/slots"
)

func slotStore(t *testing.T, now time.Time) *Store {
	t.Helper()
	s := openTemp(t)
	err := s.Update(context.Background(), func(tx *Tx) error {
		if err := tx.UpsertAccount(post.Account{ID: "1", Username: "alice"}, now); err != nil {
			return err
		}
		return tx.UpsertAccount(post.Account{ID: "2", Username: "bob"}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// queueOne creates a post of the account in its next free slot, in one
// write transaction, as the daemon does.
func queueOne(t *testing.T, s *Store, acct string, now time.Time) (*post.Post, error) {
	t.Helper()
	var p *post.Post
	err := s.Update(context.Background(), func(tx *Tx) error {
		pk, err := tx.NewSlotPicker(acct, now, 0)
		if err != nil {
			return err
		}
		at, err := pk.Next()
		if err != nil {
			return err
		}
		p, err = tx.CreatePost(NewPost{AccountID: acct, Status: post.StatusScheduled, ScheduledAt: &at,
			Tweets: []NewTweet{{Text: "queued İ 日本"}}}, now)
		return err
	})
	return p, err
}

func TestSlotPickerFillsInOrderAndFrees(t *testing.T) {
	ctx := context.Background()
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, paris) // a Monday, after 09:00
	s := slotStore(t, now)
	spec, err := slots.ParseSpec("mon-fri 09:00,13:30")
	if err != nil {
		t.Fatal(err)
	}
	var added []slots.Slot
	if err := s.Update(ctx, func(tx *Tx) error {
		added, err = tx.AddSlots("1", spec, "Europe/Paris", now)
		if err != nil {
			return err
		}
		// Adding the same again stores nothing new.
		again, err := tx.AddSlots("1", spec, "Europe/Paris", now)
		if err == nil && (len(again) != 2 || again[0].ID != added[0].ID) {
			t.Errorf("adding again gave %+v, want the same slots %+v", again, added)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"12-07 13:30", "12-08 09:00", "12-08 13:30", "12-09 09:00"}
	var ps []*post.Post
	for i, w := range want {
		p, err := queueOne(t, s, "1", now)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.ScheduledAt.In(paris).Format("01-02 15:04"); got != w {
			t.Errorf("post %d at %s, want %s", i, got, w)
		}
		ps = append(ps, p)
	}
	// Bob has no slots.
	if _, err := queueOne(t, s, "2", now); !errors.Is(err, ErrNoSlots) {
		t.Errorf("bob queued: %v, want ErrNoSlots", err)
	}
	// Cancelling the second frees its slot; the others keep their times.
	if err := s.Update(ctx, func(tx *Tx) error { _, err := tx.CancelPost(ps[1].ID, now); return err }); err != nil {
		t.Fatal(err)
	}
	p, err := queueOne(t, s, "1", now)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.ScheduledAt.In(paris).Format("01-02 15:04"); got != want[1] {
		t.Errorf("after cancel, next post at %s, want the freed %s", got, want[1])
	}
	if err := s.View(ctx, func(tx *Tx) error {
		for i, q := range ps {
			if i == 1 {
				continue
			}
			cur, err := tx.GetPost(q.ID)
			if err != nil {
				return err
			}
			if !cur.ScheduledAt.Equal(*q.ScheduledAt) {
				t.Errorf("post %d moved from %v to %v", q.ID, q.ScheduledAt, cur.ScheduledAt)
			}
		}
		filled, err := tx.SlotPosts("1", now, now.AddDate(0, 0, 7))
		if err != nil {
			return err
		}
		if got := filled[SlotKey{AccountID: "1", Unix: ps[1].ScheduledAt.Unix()}].ID; got != p.ID {
			t.Errorf("slot %v holds post %d, want %d", ps[1].ScheduledAt, got, p.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Removing a slot moves nothing.
	if err := s.Update(ctx, func(tx *Tx) error { return tx.DeleteSlot(added[0].ID) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.DeleteSlot(added[0].ID) }); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing a removed slot: %v, want ErrNotFound", err)
	}
}

// With one weekly slot, the two-year horizon holds about 104 instants;
// past them the picker says the queue is full.
func TestSlotPickerFull(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := slotStore(t, now)
	spec, _ := slots.ParseSpec("sun 12:00")
	if err := s.Update(ctx, func(tx *Tx) error { _, err := tx.AddSlots("1", spec, "UTC", now); return err }); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx *Tx) error {
		pk, err := tx.NewSlotPicker("1", now, 0)
		if err != nil {
			return err
		}
		n := 0
		for {
			_, err := pk.Next()
			if errors.Is(err, ErrQueueFull) {
				break
			}
			if err != nil {
				return err
			}
			n++
		}
		if n < 104 || n > 105 {
			t.Errorf("%d slots in two years, want 104 or 105", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The queue view reads a range of posts_account_scheduled, for one
// account or every account with slots, never every post: `psnd queue`
// once scanned the whole table (60 ms at 100,000 posts, each call).
func TestSlotPostsPlanUsesIndex(t *testing.T) {
	s := openTemp(t)
	for _, c := range []struct {
		q    string
		args []any
	}{
		{slotPostsAll, []any{"draft", "a", "b"}},
		{slotPostsAccount, []any{"1", "draft", "a", "b"}},
	} {
		var plan []string
		err := s.View(context.Background(), func(tx *Tx) error {
			rows, err := tx.tx.Query("EXPLAIN QUERY PLAN "+c.q, c.args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					return err
				}
				plan = append(plan, detail)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, "SEARCH p USING INDEX posts_account_scheduled") || strings.Contains(joined, "SCAN p") {
			t.Errorf("plan %q: want a search of posts_account_scheduled, no scan of posts", joined)
		}
	}
}
