package sqlstore

import "fmt"

// MediaRef is a file some media row refers to.
type MediaRef struct {
	Path   string
	SHA256 string
}

// MediaRefs lists every distinct file the media rows refer to, for the
// daemon's sweep of unreferenced copies.
func (t *Tx) MediaRefs() ([]MediaRef, error) {
	rows, err := t.query(`SELECT DISTINCT path, sha256 FROM media ORDER BY path`)
	if err != nil {
		return nil, fmt.Errorf("list media files: %w", mapErr(err))
	}
	defer rows.Close()
	var out []MediaRef
	for rows.Next() {
		var r MediaRef
		if err := rows.Scan(&r.Path, &r.SHA256); err != nil {
			return nil, fmt.Errorf("list media files: %w", mapErr(err))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list media files: %w", mapErr(err))
	}
	return out, nil
}

// MediaInUse reports whether any media row refers to the file at path or
// to content with this SHA-256.
func (t *Tx) MediaInUse(path, sha256 string) (bool, error) {
	var used bool
	if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM media WHERE path = ? OR sha256 = ?)`, path, sha256).Scan(&used); err != nil {
		return false, fmt.Errorf("check media use: %w", mapErr(err))
	}
	return used, nil
}

// RelocateMedia points every media row that refers to oldPath at newPath,
// a file holding content with this SHA-256.
func (t *Tx) RelocateMedia(oldPath, newPath, sha256 string) error {
	if _, err := t.exec(`UPDATE media SET path = ?, sha256 = ? WHERE path = ?`, newPath, sha256, oldPath); err != nil {
		return fmt.Errorf("relocate media %s: %w", oldPath, mapErr(err))
	}
	return nil
}
