package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"
)

// maxSocketPath is the portable limit for a Unix socket path (macOS allows
// 104 bytes including the NUL; Linux 108).
const maxSocketPath = 103

// listenSocket serves on path with mode 0600. The caller holds the data-dir
// lock, so a socket file already there was left by a dead daemon; we still
// dial it first, and only remove it if nothing answers.
func listenSocket(path string, log *slog.Logger) (net.Listener, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("socket path %s is %d bytes, longer than Unix sockets allow (%d); use a shorter PSN_HOME", path, len(path), maxSocketPath)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; remove it", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%w: another process answers on %s", ErrAlreadyRunning, path)
		}
		log.Info("removing stale socket", "path", path)
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("check socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	// The data dir is 0700 already; the socket mode is a second fence.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict socket: %w", err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(true)
	return &peerListener{UnixListener: ul, uid: os.Getuid(), log: log}, nil
}

// peerListener drops connections from peers whose uid differs from ours.
type peerListener struct {
	*net.UnixListener
	uid int
	log *slog.Logger
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.UnixListener.AcceptUnix()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err != nil {
			l.log.Warn("rejecting connection: cannot read peer credentials", "err", err)
			c.Close()
			continue
		}
		if uid != l.uid {
			l.log.Warn("rejecting connection from another user", "peer_uid", uid)
			c.Close()
			continue
		}
		return c, nil
	}
}
