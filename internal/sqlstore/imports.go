package sqlstore

import (
	"errors"
	"fmt"
)

// ImportSource is what an earlier import of one item left: the hash of its
// content then, and the post it became.
type ImportSource struct {
	ContentHash string
	PostID      int64
}

// ImportSource returns the record of source's last import; ok is false
// when it was never imported.
func (t *Tx) ImportSource(source string) (rec ImportSource, ok bool, err error) {
	err = t.queryRow(`SELECT content_hash, post_id FROM import_sources WHERE source = ?`, source).
		Scan(&rec.ContentHash, &rec.PostID)
	switch err = mapErr(err); {
	case errors.Is(err, ErrNotFound):
		return ImportSource{}, false, nil
	case err != nil:
		return ImportSource{}, false, fmt.Errorf("read import source: %w", err)
	}
	return rec, true, nil
}

// SetImportSource records that source, with this content, is post postID.
func (t *Tx) SetImportSource(source string, rec ImportSource) error {
	_, err := t.exec(`INSERT INTO import_sources (source, content_hash, post_id) VALUES (?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET content_hash = excluded.content_hash, post_id = excluded.post_id`,
		source, rec.ContentHash, rec.PostID)
	if err != nil {
		return fmt.Errorf("record import source: %w", mapErr(err))
	}
	return nil
}

// DeleteImportSource forgets source's record, if any.
func (t *Tx) DeleteImportSource(source string) error {
	if _, err := t.exec(`DELETE FROM import_sources WHERE source = ?`, source); err != nil {
		return fmt.Errorf("forget import source: %w", mapErr(err))
	}
	return nil
}

// ImportLine is one line of a file as its last import left it.
type ImportLine struct {
	Source string
	ImportSource
}

// ImportLines returns the records of the lines of file (sources
// "FILE:LINE"), in no particular order.
func (t *Tx) ImportLines(file string) ([]ImportLine, error) {
	// A range on the key, which its index serves; ";" follows ":".
	rows, err := t.query(`SELECT source, content_hash, post_id FROM import_sources WHERE source >= ? AND source < ?`, file+":", file+";")
	if err != nil {
		return nil, fmt.Errorf("read import lines: %w", mapErr(err))
	}
	defer rows.Close()
	var out []ImportLine
	for rows.Next() {
		var l ImportLine
		if err := rows.Scan(&l.Source, &l.ContentHash, &l.PostID); err != nil {
			return nil, fmt.Errorf("read import lines: %w", mapErr(err))
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read import lines: %w", mapErr(err))
	}
	return out, nil
}
