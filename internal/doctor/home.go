package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/psnd/psnd/internal/api"
)

// Entry is one file, directory or socket of the data directory.
type Entry struct {
	Rel  string      // path relative to the data directory; "." for itself
	Mode fs.FileMode // type and permission bits (symlinks are not followed)
	UID  int         // owner; -1 when the platform does not say
}

// Home is what ObserveHome found in the data directory.
type Home struct {
	Path    string
	Exists  bool
	StatErr error // why the directory could not be examined (not "missing")
	Dir     Entry // the directory itself
	// Entries is everything below it (symlinks themselves, not their
	// targets), at most maxEntries of them.
	Entries   []Entry
	WalkErr   error
	Truncated bool
}

// maxEntries bounds the walk: media copies can be many, but the first few
// thousand are plenty to judge the permissions.
const maxEntries = 5000

var errTruncated = errors.New("truncated")

// ObserveHome stats the data directory and walks what is inside it.
func ObserveHome(path string) Home {
	h := Home{Path: path}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h
	}
	h.Exists = true
	if err != nil {
		h.StatErr = err
		return h
	}
	h.Dir = Entry{Rel: ".", Mode: fi.Mode(), UID: owner(fi)}
	if !fi.IsDir() {
		return h
	}
	h.WalkErr = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == path {
				return err
			}
			// Note it and go on: an unreadable subdirectory is itself a
			// finding, not a reason to stop.
			if h.WalkErr == nil {
				h.WalkErr = err
			}
			return nil
		}
		if p == path {
			return nil
		}
		if len(h.Entries) >= maxEntries {
			h.Truncated = true
			return errTruncated
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed while walking
		}
		rel, _ := filepath.Rel(path, p)
		h.Entries = append(h.Entries, Entry{Rel: rel, Mode: info.Mode(), UID: owner(info)})
		return nil
	})
	if errors.Is(h.WalkErr, errTruncated) {
		h.WalkErr = nil
	}
	return h
}

// loose reports whether others than the owner have any access.
func loose(m fs.FileMode) bool { return m.Perm()&0o077 != 0 }

// CheckDataDir checks that the data directory exists, is a directory owned
// by uid, and is closed to other users (0700, SPEC §2).
func CheckDataDir(h Home, uid int) api.DoctorCheck {
	p := h.Path
	q := shellQuote(p)
	switch {
	case !h.Exists:
		return fail(NameDataDir, p+" does not exist (no psnd data here yet)",
			"run `psnd setup`, which creates it with mode 0700; if your data is elsewhere, set PSN_HOME to that directory")
	case h.StatErr != nil:
		return fail(NameDataDir, "cannot examine "+p+": "+errLine(h.StatErr),
			"make sure you can reach it: `ls -ld "+q+"` (check the parent directories too)")
	case !h.Dir.Mode.IsDir():
		return fail(NameDataDir, p+" is not a directory",
			"move it aside (`mv "+q+" "+shellQuote(p+".old")+"`) or set PSN_HOME to a directory")
	case h.Dir.UID >= 0 && uid >= 0 && h.Dir.UID != uid:
		return fail(NameDataDir, fmt.Sprintf("%s belongs to uid %d, not to you (uid %d)", p, h.Dir.UID, uid),
			"take it back: `sudo chown -R $(id -un) "+q+"`")
	case loose(h.Dir.Mode):
		return fail(NameDataDir, fmt.Sprintf("%s has mode %04o: other users of this machine can look inside", p, h.Dir.Mode.Perm()),
			"`chmod 700 "+q+"`")
	}
	return okc(NameDataDir, "%s: mode %04o, yours", p, h.Dir.Mode.Perm())
}

// maxListed bounds how many offending files a message names.
const maxListed = 4

// CheckFileModes checks everything inside the data directory: the database
// and its -wal/-shm files, the key file, the socket, media copies. Each must
// be owned by uid and closed to others (files 0600, directories 0700).
func CheckFileModes(h Home, uid int) api.DoctorCheck {
	if !h.Exists || h.StatErr != nil || !h.Dir.Mode.IsDir() {
		return skip(NameFileModes, "no data directory to look into")
	}
	var open, foreign []string
	for _, e := range h.Entries {
		if e.Mode&fs.ModeSymlink != 0 {
			continue
		}
		if e.UID >= 0 && uid >= 0 && e.UID != uid {
			foreign = append(foreign, fmt.Sprintf("%s (uid %d)", e.Rel, e.UID))
		}
		if loose(e.Mode) {
			open = append(open, fmt.Sprintf("%s (%04o)", e.Rel, e.Mode.Perm()))
		}
	}
	q := shellQuote(h.Path)
	var msgs, fixes []string
	if len(foreign) > 0 {
		msgs = append(msgs, fmt.Sprintf("%s not yours (was psnd run with sudo?): %s",
			plural(len(foreign), "entry is", "entries are"), list(foreign)))
		fixes = append(fixes, "`sudo chown -R $(id -un) "+q+"`")
	}
	if len(open) > 0 {
		msgs = append(msgs, fmt.Sprintf("%s open to other users: %s", plural(len(open), "entry is", "entries are"), list(open)))
		fixes = append(fixes, "`chmod -R go-rwx "+q+"`")
	}
	if len(msgs) > 0 {
		return fail(NameFileModes, strings.Join(msgs, "; "), strings.Join(fixes, ", then "))
	}
	if h.WalkErr != nil {
		return warn(NameFileModes, "could not read everything in "+h.Path+": "+errLine(h.WalkErr),
			"make its contents yours and private: `chmod -R u+rwX,go-rwx "+q+"`")
	}
	n := len(h.Entries)
	more := ""
	if h.Truncated {
		more = " (the first)"
	}
	return okc(NameFileModes, "%s%s inside, none open to other users", plural(n, "entry", "entries"), more)
}

func list(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
}
