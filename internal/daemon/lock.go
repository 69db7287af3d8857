package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning means another daemon holds the lock on this data dir.
var ErrAlreadyRunning = errors.New("psnd is already running")

// dirLock is an exclusive flock on the data directory itself, held for the
// daemon's lifetime. The kernel drops it when the process dies, so a crash
// never leaves a stale lock behind.
//
// The lock is on the directory, not on a file in it: a lock file can be
// deleted (by hand, or by a cleanup of "stale" files) while its daemon
// runs, and the next daemon then locks a new file of the same name and
// opens the same database — two publishers. A directory that holds the
// database cannot be removed while in use (rmdir refuses a non-empty one),
// and the database file is no better a target: it can be unlinked too, it
// does not exist before the first start, and a second descriptor on it
// would break SQLite's own POSIX locks when closed.
//
// psnd.lock remains, holding the daemon's pid for the "already running"
// message only; the lock, not the file, decides who runs.
type dirLock struct{ dir *os.File } // the directory (or, on NFS, psnd.lock)

func acquireLock(home, pidPath string) (*dirLock, error) {
	lockFile, err := os.Open(home)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	err = unix.Flock(int(lockFile.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err != nil && !errors.Is(err, unix.EWOULDBLOCK) {
		// NFS emulates flock with POSIX locks, and an exclusive one needs a
		// file open for writing: there, fall back to locking psnd.lock
		// itself (deleting it reopens the old hole, but only there).
		lockFile.Close()
		if lockFile, err = os.OpenFile(pidPath, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
			return nil, fmt.Errorf("lock data directory: %w", err)
		}
		err = unix.Flock(int(lockFile.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		defer lockFile.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			if pid := holderPID(lockFile, pidPath); pid > 0 {
				return nil, fmt.Errorf("%w for this data directory (pid %d); stop it first or use another PSN_HOME", ErrAlreadyRunning, pid)
			}
			return nil, fmt.Errorf("%w for this data directory; stop it first or use another PSN_HOME", ErrAlreadyRunning)
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	// Record our pid for the message above. Written in place (not renamed)
	// so that a reader never sees a half-made file under another name.
	if f, err := os.OpenFile(pidPath, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		f.Close()
	}
	return &dirLock{dir: lockFile}, nil
}

// holderPID names the daemon holding the lock: from psnd.lock, or, if that
// file is gone, from the kernel's lock table (/proc/locks, Linux only).
// 0 means unknown.
func holderPID(dir *os.File, pidPath string) int {
	if b, err := os.ReadFile(pidPath); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(dir.Fd()), &st); err != nil {
		return 0
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	return flockHolder(bufio.NewScanner(f), uint64(unix.Major(uint64(st.Dev))), uint64(unix.Minor(uint64(st.Dev))), uint64(st.Ino))
}

// flockHolder finds the pid holding a FLOCK on the given file in lines of
// /proc/locks ("1: FLOCK  ADVISORY  WRITE 123 fe:00:4567 0 EOF"; device
// numbers in hex, the inode in decimal). Waiters ("1: -> FLOCK ...") are
// skipped.
func flockHolder(sc *bufio.Scanner, major, minor, ino uint64) int {
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, ino)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" || f[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}

func (l *dirLock) release() {
	_ = unix.Flock(int(l.dir.Fd()), unix.LOCK_UN)
	_ = l.dir.Close()
}
