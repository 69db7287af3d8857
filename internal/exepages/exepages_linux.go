package exepages

import (
	"errors"
	"fmt"
	"os"
	"reflect"

	"golang.org/x/sys/unix"
)

// Drop advises the kernel, with MADV_DONTNEED, that the process no longer
// needs the resident pages of its executable's read-only mappings (see the
// package comment for why this is safe and what it saves). It returns
// what it dropped; an error means some mapping could not be advised (an
// old kernel, a locked mapping) and is worth no more than a debug line.
func Drop() (Dropped, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return Dropped{}, fmt.Errorf("drop executable pages: %w", err)
	}
	ms, err := parseSmaps(f)
	f.Close()
	if err != nil {
		return Dropped{}, fmt.Errorf("drop executable pages: %w", err)
	}
	// Drop's own entry point: an address in the executable's code.
	pc := uint64(reflect.ValueOf(Drop).Pointer())
	var d Dropped
	var errs []error
	for _, m := range droppable(ms, pc) {
		// A raw syscall on the range: unix.Madvise wants a []byte, and
		// making one over memory Go did not allocate needs unsafe for
		// nothing.
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_DONTNEED); e != 0 {
			errs = append(errs, fmt.Errorf("madvise %x-%x %s: %w", m.start, m.end, m.perms, e))
			continue
		}
		d.Mappings++
		d.Bytes += m.rss
	}
	if err := errors.Join(errs...); err != nil {
		return d, fmt.Errorf("drop executable pages: %w", err)
	}
	return d, nil
}
