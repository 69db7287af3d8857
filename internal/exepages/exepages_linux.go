package exepages

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"golang.org/x/sys/unix"
)

// Drop advises the kernel, with MADV_DONTNEED, that the process no longer
// needs the resident pages of its executable's read-only mappings (see the
// package comment for why this is safe and what it saves). It returns
// what it dropped; an error means some mapping could not be advised (an
// old kernel, a locked mapping) and is worth no more than a debug line.
func Drop() (Dropped, error) {
	// Drop's own entry point: an address in the executable's code.
	pc := uint64(reflect.ValueOf(Drop).Pointer())
	ms, err := readMappings(pc)
	if err != nil {
		return Dropped{}, fmt.Errorf("drop executable pages: %w", err)
	}
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

// readMappings returns the process's mappings, with the resident, private
// and swapped sizes filled in for the executable's read-only ones (the
// only ones droppable looks at).
//
// It reads /proc/self/maps, then /proc/self/pagemap over those mappings
// alone. /proc/self/smaps has the same sizes, but computes them for every
// mapping of the process, walking all its page tables: 2 ms of the idle
// daemon's CPU per drop, measured, against a budget of 2 ms per idle
// minute. Where pagemap cannot be read (a /proc that hides it), smaps it
// is.
func readMappings(pc uint64) ([]mapping, error) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	ms, err := parseSmaps(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	pm, err := os.Open("/proc/self/pagemap")
	if err == nil {
		defer pm.Close()
		exe := exeMapping(ms, pc)
		for i := range ms {
			m := &ms[i]
			if exe == nil || !sameFile(*m, *exe) || strings.ContainsRune(m.perms, 'w') {
				continue
			}
			if err = pageSizes(pm, m); err != nil {
				break
			}
		}
		if err == nil {
			return ms, nil
		}
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSmaps(f)
}

// Bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst);
// the flags are readable without privileges since Linux 4.2, the frame
// numbers (not used) are not.
const (
	pagePresent  = 1 << 63
	pageSwapped  = 1 << 62
	pageFileOrSh = 1 << 61 // a page of the file (or shared anonymous memory)
)

// pageSizes fills in m's resident size, its private (anonymous) copies of
// the file's pages, present or swapped out, as smaps counts them.
func pageSizes(pagemap *os.File, m *mapping) error {
	size := uint64(os.Getpagesize())
	buf := make([]byte, 8*512)
	m.rss, m.anon, m.swap = 0, 0, 0
	for addr := m.start; addr < m.end; {
		n := min(uint64(len(buf))/8, (m.end-addr)/size)
		got, err := pagemap.ReadAt(buf[:8*n], int64(addr/size*8))
		if got < 8 {
			return fmt.Errorf("read pagemap at %x: %w", addr, err)
		}
		for i := 0; i+8 <= got; i += 8 {
			e := binary.NativeEndian.Uint64(buf[i:])
			switch {
			case e&pagePresent != 0:
				m.rss += int64(size)
				if e&pageFileOrSh == 0 {
					m.anon += int64(size)
				}
			case e&pageSwapped != 0:
				m.swap += int64(size)
			}
		}
		addr += uint64(got/8) * size
	}
	return nil
}
