package exepages

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// canary lives in the executable's writable data (it has a non-zero
// initial value, so the linker puts it in .noptrdata, a file-backed
// mapping). The test writes it before Drop: had Drop dropped that
// mapping's pages, it would read back its value from the file.
var canary = [1024]uint64{1: 1}

// blob is 4 MiB of read-only data in the test binary (the bytes of a
// constant string are stored in .rodata), read only before Drop. After
// it, its pages must be gone from the process's page tables, whatever the
// test's own code faulted back in elsewhere (fault-around maps 64 KiB
// around each fault, so a small test binary is back to half resident by
// the time smaps is read). Built by doubling: the compiler evaluates
// constant string expressions.
const (
	blob0  = "psnd exepages test: read-only data that only the test reads....\n" // 64 bytes
	blob1  = blob0 + blob0
	blob2  = blob1 + blob1
	blob3  = blob2 + blob2
	blob4  = blob3 + blob3
	blob5  = blob4 + blob4
	blob6  = blob5 + blob5
	blob7  = blob6 + blob6
	blob8  = blob7 + blob7
	blob9  = blob8 + blob8
	blob10 = blob9 + blob9
	blob11 = blob10 + blob10
	blob12 = blob11 + blob11
	blob13 = blob12 + blob12
	blob14 = blob13 + blob13
	blob15 = blob14 + blob14
	blob16 = blob15 + blob15
	blob   = blob16
)

// exeMappings reads the test binary's own mappings from /proc/self/smaps.
func exeMappings(t *testing.T) []mapping {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := parseSmaps(f)
	if err != nil {
		t.Fatal(err)
	}
	pc := uint64(reflect.ValueOf(exeMappings).Pointer())
	var exe *mapping
	for i := range ms {
		if ms[i].start <= pc && pc < ms[i].end {
			exe = &ms[i]
		}
	}
	if exe == nil {
		t.Fatal("no mapping holds the test's own code")
	}
	var out []mapping
	for _, m := range ms {
		if m.inode == exe.inode && m.dev == exe.dev && m.path == exe.path {
			out = append(out, m)
		}
	}
	return out
}

// resident sums the Rss of the read-only mappings among ms, and of the
// writable ones.
func resident(ms []mapping) (readOnly, writable int64) {
	for _, m := range ms {
		if m.perms[1] == 'w' {
			writable += m.rss
		} else {
			readOnly += m.rss
		}
	}
	return readOnly, writable
}

// mapped counts the pages of [start, start+n) present in this process's
// page tables, from /proc/self/pagemap (bit 63 of each page's entry; a
// process may read its own flags without privilege).
func mapped(t *testing.T, start uintptr, n int) (present, pages int) {
	t.Helper()
	ps := uintptr(os.Getpagesize())
	first, last := start/ps, (start+uintptr(n)-1)/ps
	f, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, (last-first+1)*8)
	if _, err := f.ReadAt(buf, int64(first*8)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(buf); i += 8 {
		if binary.LittleEndian.Uint64(buf[i:])&(1<<63) != 0 {
			present++
		}
	}
	return present, len(buf) / 8
}

// readBlob reads a byte of every page of blob, faulting them all in.
func readBlob() (sum int) {
	for i := 0; i < len(blob); i += 4096 {
		sum += int(blob[i])
	}
	return sum + int(blob[len(blob)-1])
}

// work runs code the test has not run before Drop, and some it has.
func work() string {
	s := make([]string, 0, 100)
	for i := range 100 {
		s = append(s, fmt.Sprintf("%03d", (i*37)%100))
	}
	sort.Strings(s)
	return fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(s))))
}

func TestDropLetsGoOfExecutablePages(t *testing.T) {
	want, blobSum, blobHash := work(), readBlob(), sha256.Sum256([]byte(blob))
	blobAt := uintptr(unsafe.Pointer(unsafe.StringData(blob)))
	ms := exeMappings(t)
	canaryAt := uint64(uintptr(unsafe.Pointer(&canary)))
	inData, inROData := false, false
	for _, m := range ms {
		if m.start <= canaryAt && canaryAt < m.end && m.perms[1] == 'w' {
			inData = true
		}
		if m.start <= uint64(blobAt) && uint64(blobAt) < m.end && m.perms[1] != 'w' {
			inROData = true
		}
	}
	if !inData || !inROData {
		t.Fatalf("canary at %x in a writable mapping of the executable: %v; blob at %x in a read-only one: %v; mappings %+v",
			canaryAt, inData, blobAt, inROData, ms)
	}
	canary[0] = 0xc0ffee
	canary[len(canary)-1] = 42
	// Make all of the read-only mappings resident first (Linux 5.14+;
	// an older kernel leaves them as fault-around did), so the drop
	// has the same thing to show on every run.
	for _, m := range ms {
		if m.perms[1] != 'w' {
			_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_POPULATE_READ)
		}
	}
	if readBlob() != blobSum {
		t.Fatal("blob reads differently before the drop")
	}
	before := exeMappings(t)
	ro0, rw0 := resident(before)
	var advised []uint64 // the mappings Drop is to advise
	for _, m := range droppable(before, uint64(reflect.ValueOf(Drop).Pointer())) {
		advised = append(advised, m.start)
	}
	blob0, pages := mapped(t, blobAt, len(blob))
	if blob0 < pages*9/10 {
		t.Fatalf("only %d of blob's %d pages mapped after reading it all", blob0, pages)
	}

	d, err := Drop()
	if err != nil {
		t.Fatalf("Drop: %v", err)
	}
	blob1, _ := mapped(t, blobAt, len(blob))
	ro1, rw1 := resident(exeMappings(t))
	t.Logf("dropped %d mappings, %d kB; read-only resident %d kB before, %d kB after; writable %d kB, then %d kB; blob's pages mapped %d of %d, then %d",
		d.Mappings, d.Bytes>>10, ro0>>10, ro1>>10, rw0>>10, rw1>>10, blob0, pages, blob1)
	if d.Mappings < 2 {
		t.Errorf("dropped %d mappings, want the code and the read-only data at least", d.Mappings)
	}
	for _, m := range exeMappings(t) {
		random := slices.Contains(strings.Fields(m.flags), "rr")
		if slices.Contains(advised, m.start) && !random {
			t.Errorf("dropped mapping %x-%x without MADV_RANDOM after the drop: VmFlags %q", m.start, m.end, m.flags)
		}
		if m.perms[1] == 'w' && random {
			t.Errorf("writable mapping %x-%x advised: VmFlags %q", m.start, m.end, m.flags)
		}
	}
	// blob was not read since: at most fault-around's neighbours of
	// whatever data near it the test's code read are back.
	if blob1 > pages/8 {
		t.Errorf("%d of blob's %d pages still mapped after the drop, want at most an eighth", blob1, pages)
	}
	// The rest of the binary: what comes back is what ran since (the
	// smaps read and fault-around's neighbours of it).
	if ro1 > ro0/3 {
		t.Errorf("read-only resident %d kB after the drop, want at most a third of the %d kB before", ro1>>10, ro0>>10)
	}
	if rw1 < rw0 {
		t.Errorf("writable mappings' resident size fell from %d to %d kB: their pages were dropped", rw0>>10, rw1>>10)
	}
	if canary[0] != 0xc0ffee || canary[1] != 1 || canary[len(canary)-1] != 42 {
		t.Errorf("data written before the drop lost: canary %x %x %x", canary[0], canary[1], canary[len(canary)-1])
	}
	// Everything dropped comes back as it was on the next read.
	if got := work(); got != want {
		t.Errorf("code ran differently after the drop: %s, before %s", got, want)
	}
	if readBlob() != blobSum || sha256.Sum256([]byte(blob)) != blobHash {
		t.Error("read-only data reads differently after the drop")
	}
	// Twice is harmless.
	if _, err := Drop(); err != nil {
		t.Fatalf("second Drop: %v", err)
	}
	if got := work(); got != want {
		t.Errorf("code ran differently after a second drop: %s, before %s", got, want)
	}
}

// readMappings reads the sizes from pagemap rather than smaps: they must
// be smaps' own, for the executable's read-only mappings, made wholly
// resident first so that nothing faulting in between changes them.
func TestPagemapSizesAreSmaps(t *testing.T) {
	pc := uint64(reflect.ValueOf(Drop).Pointer())
	for _, m := range exeMappings(t) {
		if m.perms[1] != 'w' {
			_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), unix.MADV_POPULATE_READ)
		}
	}
	got, err := readMappings(pc)
	if err != nil {
		t.Fatal(err)
	}
	want := exeMappings(t)
	exe := exeMapping(want, pc)
	n := 0
	for _, w := range want {
		if !sameFile(w, *exe) || w.perms[1] == 'w' {
			continue
		}
		i := slices.IndexFunc(got, func(g mapping) bool { return g.start == w.start })
		if i < 0 {
			t.Fatalf("mapping %x-%x missing from maps", w.start, w.end)
		}
		g := got[i]
		if g.rss != w.rss || g.anon != w.anon || g.swap != w.swap || g.rss != int64(g.end-g.start) {
			t.Errorf("mapping %x-%x: pagemap rss %d anon %d swap %d, smaps %d %d %d (size %d)", w.start, w.end, g.rss, g.anon, g.swap, w.rss, w.anon, w.swap, w.end-w.start)
		}
		n++
	}
	if n < 2 {
		t.Fatalf("compared %d read-only mappings of the executable, want its code and read-only data", n)
	}
}

// A private copy of a page in a read-only file mapping (what relocations
// or a debugger's breakpoint leave) counts as anonymous, as in smaps, so
// droppable leaves the mapping alone.
func TestPagemapSeesPrivateCopies(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	page := os.Getpagesize()
	if _, err := f.Write(make([]byte, 4*page)); err != nil {
		t.Fatal(err)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, 4*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	pageSink = b[0] // a page of the file, mapped
	b[2*page] = 1   // a private copy
	if err := unix.Mprotect(b, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	pm, err := os.Open("/proc/self/pagemap")
	if err != nil {
		t.Skipf("no pagemap here (readMappings falls back to smaps): %v", err)
	}
	defer pm.Close()
	start := uint64(uintptr(unsafe.Pointer(&b[0])))
	m := mapping{start: start, end: start + uint64(len(b))}
	if err := pageSizes(pm, &m); err != nil {
		t.Fatal(err)
	}
	if m.anon != int64(page) || m.rss < 2*int64(page) || m.swap != 0 {
		t.Fatalf("rss %d anon %d swap %d; want at least 2 pages resident, 1 of them private", m.rss, m.anon, m.swap)
	}
}

var pageSink byte
