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
		if err := madvise(m, unix.MADV_DONTNEED); err != nil {
			errs = append(errs, err)
			continue
		}
		d.Mappings++
		d.Bytes += m.rss
		// No readahead on these mappings from now on. A page dropped
		// here comes back through fault-around, which skips a page
		// cache folio marked for readahead and leaves it to a full
		// fault; that fault then starts a readahead window over pages
		// that are all cached already (8 MB where the disk's
		// read_ahead_kb is 8192, as on the VM measured), and the
		// collector the runtime forces every two minutes stalled 1-5
		// ms per such fault, 5-8 ms of CPU in an idle minute. The cost:
		// pages the kernel evicted from the page cache come back one
		// at a time rather than in windows.
		if err := madvise(m, unix.MADV_RANDOM); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return d, fmt.Errorf("drop executable pages: %w", err)
	}
	return d, nil
}

// madvise gives advice over one mapping. A raw system call on the range:
// unix.Madvise wants a []byte, and making one over memory Go did not
// allocate needs unsafe for nothing.
func madvise(m mapping, advice int) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), uintptr(advice)); e != 0 {
		return fmt.Errorf("madvise %x-%x %s (%d): %w", m.start, m.end, m.perms, advice, e)
	}
	return nil
}
