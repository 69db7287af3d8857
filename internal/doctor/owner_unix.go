//go:build unix

package doctor

import (
	"io/fs"
	"syscall"
)

// owner returns the uid that owns a file, or -1 when the platform does not
// say.
func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
