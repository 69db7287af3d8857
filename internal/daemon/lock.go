package daemon

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning means another daemon holds the lock on this data dir.
var ErrAlreadyRunning = errors.New("psnd is already running")

// dirLock is an exclusive flock on $PSN_HOME/psnd.lock held for the
// daemon's lifetime. The kernel drops it when the process dies, so a crash
// never leaves a stale lock behind.
type dirLock struct{ f *os.File }

func acquireLock(path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			pid := readPID(f)
			if pid > 0 {
				return nil, fmt.Errorf("%w for this data directory (pid %d); stop it first or use another PSN_HOME", ErrAlreadyRunning, pid)
			}
			return nil, fmt.Errorf("%w for this data directory; stop it first or use another PSN_HOME", ErrAlreadyRunning)
		}
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	// Record our pid for the message above; the lock, not the pid, is what
	// decides who runs.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	return pid
}

func (l *dirLock) release() {
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
}
