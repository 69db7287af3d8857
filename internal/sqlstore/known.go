package sqlstore

import (
	"encoding/json"
	"fmt"
)

// KnownPlatformIDs returns which of the X ids are already recorded for
// some tweet: reconciliation must never adopt a tweet another post owns.
func (t *Tx) KnownPlatformIDs(ids []string) (map[string]bool, error) {
	known := map[string]bool{}
	if len(ids) == 0 {
		return known, nil
	}
	js, _ := json.Marshal(ids)
	rows, err := t.tx.Query(`SELECT platform_post_id FROM posts
		WHERE platform_post_id IN (SELECT value FROM json_each(?))`, string(js))
	if err != nil {
		return nil, fmt.Errorf("look up recorded ids: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(err)
		}
		known[id] = true
	}
	return known, mapErr(rows.Err())
}

// PendingSends counts the post's tweets whose create may have reached X
// without psnd knowing (send mark set, no id): until a retry has looked
// them up, the post must not be edited, cancelled or deleted, or a tweet
// could stay on X unrecorded.
func (t *Tx) PendingSends(rootID int64) (int, error) {
	var n int
	err := t.tx.QueryRow(`SELECT count(*) FROM posts WHERE (id = ?1 OR parent_post_id = ?1)
		AND send_started_at IS NOT NULL AND platform_post_id IS NULL`, rootID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read send marks: %w", mapErr(err))
	}
	return n, nil
}

// ClearSendMark forgets the send mark of a tweet X definitely did not
// create (it answered with a refusal, or the request never left).
func (t *Tx) ClearSendMark(rowID int64) error {
	if _, err := t.tx.Exec(`UPDATE posts SET send_started_at = NULL WHERE id = ? AND platform_post_id IS NULL`, rowID); err != nil {
		return fmt.Errorf("clear send mark: %w", mapErr(err))
	}
	return nil
}
