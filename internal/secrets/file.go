package secrets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// KeyFileName is the key file of PSN_KEYRING=file, inside the data directory.
const KeyFileName = "master.key"

// maxKeyFile bounds what File reads; a data key entry is under 100 bytes.
const maxKeyFile = 4096

// File is the keyring of PSN_KEYRING=file, an explicit opt-in for hosts
// without an OS keyring: one secret in $PSN_HOME/master.key, mode 0600.
//
// The file is the entry: service and user are ignored, so the key moves with
// the data directory. File never overwrites an existing key file (Set returns
// ErrExists), writes it atomically, and refuses to read one that others could
// read or that holds anything but one line of printable ASCII.
type File struct {
	path string
}

// NewFile returns the key file keyring of the data directory home.
func NewFile(home string) *File {
	return &File{path: filepath.Join(home, KeyFileName)}
}

// Path is the key file's path.
func (f *File) Path() string { return f.path }

// String names the key file, for psnd's startup line and error messages.
func (f *File) String() string { return "key file " + f.path }

// Get reads the key file, or returns ErrNotFound if there is none.
func (f *File) Get(ctx context.Context, _, _ string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fh, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read key file: %w", err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return "", fmt.Errorf("read key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("refusing to read key file %s: not a regular file", f.path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("refusing to read key file %s: mode %#o lets others read it; it must be 0600 (chmod 600 %s)", f.path, perm, f.path)
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxKeyFile+1))
	if err != nil {
		return "", fmt.Errorf("read key file: %w", err)
	}
	s, ok := parseKeyFile(b)
	if !ok {
		// Never echo the content: it may be a key.
		return "", fmt.Errorf("key file %s is %w: expected one line written by psnd (%d bytes found); psnd will not replace it", f.path, ErrMalformed, len(b))
	}
	return s, nil
}

// parseKeyFile accepts one non-empty line of printable ASCII, with or
// without a final newline (an editor may add one).
func parseKeyFile(b []byte) (string, bool) {
	if len(b) > maxKeyFile {
		return "", false
	}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	if !printableLine(string(b)) {
		return "", false
	}
	return string(b), true
}

func printableLine(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Set creates the key file atomically: the secret is written to a temporary
// file created with mode 0600, synced, and then hard-linked into place. A
// link, unlike a rename, fails if the target exists, so a key file that
// appeared meanwhile is never overwritten; Set then returns ErrExists.
func (f *File) Set(ctx context.Context, _, _, secret string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !printableLine(secret) || len(secret) >= maxKeyFile {
		return errors.New("write key file: secret must be one line of printable ASCII")
	}
	if _, err := os.Lstat(f.path); err == nil {
		return fmt.Errorf("%w: refusing to overwrite key file %s", ErrExists, f.path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write key file: %w", err)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".master.key.tmp-*") // mode 0600 from creation
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(secret + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), f.path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: refusing to overwrite key file %s", ErrExists, f.path)
		}
		// A file system without hard links: rename, after one more look.
		// Only a creator racing within this instant could be overwritten.
		if _, serr := os.Lstat(f.path); serr == nil {
			return fmt.Errorf("%w: refusing to overwrite key file %s", ErrExists, f.path)
		}
		if rerr := os.Rename(tmp.Name(), f.path); rerr != nil {
			return fmt.Errorf("write key file: %w", rerr)
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write key file: sync %s: %w", dir, err)
	}
	return nil
}

// syncDir makes a new directory entry durable. Windows cannot open a
// directory for syncing; its rename/link is durable enough there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Delete removes the key file, or returns ErrNotFound if there is none.
func (f *File) Delete(ctx context.Context, _, _ string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := os.Remove(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete key file: %w", err)
	}
	return nil
}
