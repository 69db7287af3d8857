package localapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/psnd/psnd/internal/sqlstore"
)

// Temporary copies being written are named tempPrefix+random. The sweep at
// start leaves younger ones alone (a copy may be under way) and removes
// older ones (left by a crash).
const (
	tempPrefix = ".import-"
	tempGrace  = time.Minute
)

// mediaFiles keeps psnd's own copies of attached files under
// $PSN_HOME/media: one file per content, named by its SHA-256 alone (the
// MIME type is in the database and found by content, never by name), so a
// picture attached as kite.png and as KITE.PNG is stored once. A copy lives
// as long as some media row refers to it.
type mediaFiles struct {
	dir   string
	store *sqlstore.Store
	log   *slog.Logger

	// mu is held while references to copies are added (a create moving
	// its copies into place and committing its rows) and while a copy
	// found unreferenced is removed, so that a removal never races a
	// create about to refer to the same content. It is never taken inside
	// a store transaction.
	mu sync.Mutex
}

func newMediaFiles(dir string, store *sqlstore.Store, log *slog.Logger) *mediaFiles {
	return &mediaFiles{dir: dir, store: store, log: log}
}

// path is where content with this SHA-256 is kept.
func (m *mediaFiles) path(sum string) string { return filepath.Join(m.dir, sum) }

// stagedFile is a copy written under a temporary name, not yet in place.
type stagedFile struct {
	tmp, sum string
}

// stage copies src into the media directory under a temporary name,
// hashing it on the way. The caller places or discards it.
func (m *mediaFiles) stage(src string) (stagedFile, error) {
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return stagedFile{}, fmt.Errorf("create media directory: %w", err)
	}
	in, err := os.Open(src)
	if err != nil {
		return stagedFile{}, badRequest(fmt.Sprintf("read media: %v", err))
	}
	defer in.Close()
	tmp, err := os.CreateTemp(m.dir, tempPrefix+"*")
	if err != nil {
		return stagedFile{}, fmt.Errorf("copy media: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return stagedFile{}, fmt.Errorf("copy media: %w", err)
	}
	return stagedFile{tmp: tmp.Name(), sum: hex.EncodeToString(h.Sum(nil))}, nil
}

// discard removes staged copies that were not placed.
func discard(files []stagedFile) {
	for _, f := range files {
		if f.tmp != "" {
			os.Remove(f.tmp)
		}
	}
}

// placeLocked moves staged copies to their content names (with mu held).
// Content already there is the same bytes, so replacing it is harmless. The
// directory is synced, so rows committed after this never refer to a name
// a crash could lose.
func (m *mediaFiles) placeLocked(files []stagedFile) error {
	for i := range files {
		if err := os.Rename(files[i].tmp, m.path(files[i].sum)); err != nil {
			return fmt.Errorf("store media: %w", err)
		}
		files[i].tmp = ""
	}
	return syncDir(m.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync media directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync media directory: %w", err)
	}
	return nil
}

// commit moves staged copies to their content names and runs create, which
// commits the rows referring to them, as one step against removals. If
// create fails, copies no row refers to are removed at once.
func (m *mediaFiles) commit(ctx context.Context, files []stagedFile, create func() error) error {
	if len(files) == 0 {
		return create()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.placeLocked(files)
	if err == nil {
		err = create()
	}
	if err != nil {
		var placed []string
		for _, f := range files {
			if f.tmp == "" {
				placed = append(placed, m.path(f.sum))
			}
		}
		m.releaseLocked(context.WithoutCancel(ctx), placed)
	}
	return err
}

// release removes the copies at paths that no media row refers to any
// more: after a post is deleted, or its create failed.
func (m *mediaFiles) release(ctx context.Context, paths []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.releaseLocked(ctx, paths)
}

func (m *mediaFiles) releaseLocked(ctx context.Context, paths []string) {
	seen := map[string]bool{}
	for _, p := range paths {
		// Never touch a file outside psnd's own directory.
		if seen[p] || filepath.Dir(p) != m.dir {
			continue
		}
		seen[p] = true
		var used bool
		err := m.store.View(ctx, func(tx *sqlstore.Tx) error {
			var err error
			used, err = tx.MediaInUse(p, filepath.Base(p))
			return err
		})
		if err != nil {
			// Kept: the sweep at the next start removes it if unused.
			m.log.Warn("media copy kept: cannot tell whether it is still used", "path", p, "err", err)
			continue
		}
		if used {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("remove unused media copy", "path", p, "err", err)
			continue
		}
		m.log.Debug("unused media copy removed", "path", p)
	}
}

// startup brings the media directory in line with the database, before the
// daemon serves requests: copies stored by earlier versions under
// <sha256><ext> move to their content name, then files no row refers to
// are removed. Nothing here fails the start: a file it cannot handle stays.
func (m *mediaFiles) startup(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := os.Stat(m.dir); errors.Is(err, fs.ErrNotExist) {
		return
	}
	m.relocateLocked(ctx)
	m.sweepLocked(ctx)
}

// refs lists every media row's file.
func (m *mediaFiles) refs(ctx context.Context) ([]sqlstore.MediaRef, error) {
	var refs []sqlstore.MediaRef
	err := m.store.View(ctx, func(tx *sqlstore.Tx) error {
		var err error
		refs, err = tx.MediaRefs()
		return err
	})
	return refs, err
}

// relocateLocked renames copies stored under an older name to their content
// name and points their rows there. The new name is a hard link made
// before the rows change, so a crash at any point leaves every row with a
// file; the old name is then unreferenced and swept.
func (m *mediaFiles) relocateLocked(ctx context.Context) {
	refs, err := m.refs(ctx)
	if err != nil {
		m.log.Warn("media files not checked", "err", err)
		return
	}
	for _, r := range refs {
		if r.Path == m.path(r.SHA256) {
			continue
		}
		target, sum := m.path(r.SHA256), r.SHA256
		if !regularFile(target) {
			// The old copy, by its name in this directory (the data
			// directory may have moved since the row was written).
			old := filepath.Join(m.dir, filepath.Base(r.Path))
			if !regularFile(old) {
				continue // nothing to move: the row keeps its path
			}
			var err error
			if sum, err = hashFile(old); err != nil {
				m.log.Warn("media copy not moved", "path", old, "err", err)
				continue
			}
			target = m.path(sum)
			if err := linkOrCopy(old, target); err != nil {
				m.log.Warn("media copy not moved", "path", old, "err", err)
				continue
			}
			if err := syncDir(m.dir); err != nil {
				m.log.Warn("media copy not moved", "path", old, "err", err)
				continue
			}
		}
		if err := m.store.Update(ctx, func(tx *sqlstore.Tx) error {
			return tx.RelocateMedia(r.Path, target, sum)
		}); err != nil {
			m.log.Warn("media copy not moved", "path", r.Path, "err", err)
			continue
		}
		m.log.Info("media copy renamed to its content hash", "from", r.Path, "to", target)
	}
}

// sweepLocked removes files of the media directory that no row refers to,
// and temporary copies older than tempGrace.
func (m *mediaFiles) sweepLocked(ctx context.Context) {
	refs, err := m.refs(ctx)
	if err != nil {
		m.log.Warn("media files not swept", "err", err)
		return
	}
	// A row keeps a file by its name or by its content hash, wherever the
	// row says the file is: a data directory moved since must not lose
	// its files.
	keep := map[string]bool{}
	for _, r := range refs {
		keep[filepath.Base(r.Path)] = true
		keep[r.SHA256] = true
	}
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		m.log.Warn("media files not swept", "err", err)
		return
	}
	removed := 0
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || keep[name] {
			continue
		}
		if strings.HasPrefix(name, tempPrefix) {
			fi, err := e.Info()
			// File times come from the system clock, so this is measured
			// against it, not the daemon's clock.
			if err != nil || time.Since(fi.ModTime()) < tempGrace {
				continue
			}
		}
		if err := os.Remove(filepath.Join(m.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("remove unused media copy", "name", name, "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		m.log.Info("unused media copies removed", "count", removed)
	}
}

func regularFile(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// linkOrCopy gives the file src a second name dst, by a hard link where the
// file system allows it, else by a copy written under a temporary name.
func linkOrCopy(src, dst string) error {
	err := os.Link(src, dst)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), tempPrefix+"*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
