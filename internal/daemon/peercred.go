package daemon

import "net"

// peerUID returns the uid of the process at the other end of c, read with
// the platform's socket option (peerCredUID).
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	uid := -1
	var cerr error
	err = raw.Control(func(fd uintptr) { uid, cerr = peerCredUID(int(fd)) })
	if err != nil {
		return -1, err
	}
	return uid, cerr
}
