// Package exepages lets go of the resident pages of the running
// executable's read-only mappings (its code, read-only data and pclntab),
// so that a daemon gone idle stops counting them in its RSS.
//
// A Go binary is large (psnd's text, rodata and pclntab are about 19 MB)
// and Linux's fault-around maps most of it into the process as soon as a
// little of it runs, though an idle daemon runs almost none of it. Those
// pages are clean private file pages: madvise(MADV_DONTNEED) only removes
// them from the process's page tables, and the next use faults them back
// in from the page cache (a minor fault, no disk read while they stay
// cached). No data can be lost that way, because a read-only mapping's
// pages are copies of the file, unless a page was privately modified
// (relocations of a position-independent binary, a debugger's
// breakpoint): a mapping holding any such page is left alone.
//
// The pages stay in the OS page cache, where the kernel may reclaim them
// under memory pressure as it could before (clean file pages need no
// writing back). So the memory the system saves is less than the drop in
// the process's RSS: the RSS stops counting pages the daemon no longer
// uses, but those pages are only freed once the kernel evicts them, and a
// cgroup (a systemd service's MemoryCurrent) still counts them as page
// cache until then.
//
// Drop also advises MADV_RANDOM over those mappings, so that the pages
// coming back do not set off readahead over a binary that is already in
// the page cache (see Drop).
//
// Why MADV_DONTNEED and not MADV_PAGEOUT (Linux 5.4+, which would also
// evict the pages from the page cache): every psnd command runs this same
// executable, so the cached pages are what make the next `psnd list` start
// without reading the binary from disk; evicting them would make the
// command the user types after a quiet spell pay disk reads, to save
// memory that the kernel reclaims by itself when it needs it.
package exepages

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Dropped is what one Drop let go of.
type Dropped struct {
	Mappings int   // read-only mappings of the executable advised
	Bytes    int64 // their resident size just before
}

// mapping is one entry of /proc/PID/smaps, with the fields Drop needs.
type mapping struct {
	start, end uint64
	perms      string // "r-xp"
	dev        string // "fd:01"
	inode      uint64
	path       string // "" for an anonymous mapping
	// rss, anon and swap are in bytes. anon counts the mapping's private
	// copies of file pages (written, or relocated, since mapped), swap
	// those of them swapped out.
	rss, anon, swap int64
	flags           string // VmFlags: "rd ex mr mw me"
}

// parseSmaps reads /proc/PID/smaps: a header line per mapping
// ("start-end perms offset dev inode path"), then "Key: value kB" lines;
// or /proc/PID/maps, the header lines alone.
func parseSmaps(r io.Reader) ([]mapping, error) {
	var ms []mapping
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		key, val, ok := strings.Cut(line, ":")
		if ok && !strings.ContainsAny(key, " -") {
			if len(ms) == 0 {
				return nil, fmt.Errorf("smaps: field before any mapping: %q", line)
			}
			m := &ms[len(ms)-1]
			switch key {
			case "Rss":
				m.rss = kB(val)
			case "Anonymous":
				m.anon = kB(val)
			case "Swap":
				m.swap = kB(val)
			case "VmFlags":
				m.flags = strings.TrimSpace(val)
			}
			continue
		}
		m, err := parseHeader(line)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read smaps: %w", err)
	}
	return ms, nil
}

// parseHeader parses "00400000-00d3e000 r-xp 00000000 fd:01 1234  /path".
// The path may hold spaces (and " (deleted)" once the file is replaced).
func parseHeader(line string) (mapping, error) {
	var m mapping
	rest := line
	var f [5]string
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		f[i], rest, _ = strings.Cut(rest, " ")
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	inode, err3 := strconv.ParseUint(f[4], 10, 64)
	if !ok || err1 != nil || err2 != nil || err3 != nil || len(f[1]) != 4 || end <= start {
		return m, fmt.Errorf("smaps: not a mapping: %q", line)
	}
	m.start, m.end, m.perms, m.dev, m.inode = start, end, f[1], f[3], inode
	m.path = strings.TrimLeft(rest, " ")
	return m, nil
}

// exeMapping returns the mapping of a file that holds pc, or nil.
func exeMapping(ms []mapping, pc uint64) *mapping {
	for i := range ms {
		if ms[i].start <= pc && pc < ms[i].end {
			if ms[i].inode == 0 || ms[i].path == "" {
				return nil
			}
			return &ms[i]
		}
	}
	return nil
}

// sameFile reports whether a and b map the same file.
func sameFile(a, b mapping) bool {
	return a.dev == b.dev && a.inode == b.inode && a.path == b.path
}

// kB parses " 1234 kB" into bytes; anything else is 0.
func kB(v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	if err != nil {
		return 0
	}
	return n << 10
}

// droppable picks, among ms, the mappings whose resident pages Drop may
// let go of: those of the file that holds the code at pc (the running
// executable), not writable, with no private copy of a page, and with
// something resident.
//
// The executable is found through its own code rather than by comparing
// /proc/self/exe with the paths and inodes of smaps: in a container on
// overlayfs, stat reports the overlay's device and smaps the lower
// layer's, and a path alone could be spelled differently. The mapping
// that holds pc is the executable's by construction.
func droppable(ms []mapping, pc uint64) []mapping {
	exe := exeMapping(ms, pc)
	if exe == nil {
		return nil
	}
	var out []mapping
	for _, m := range ms {
		if !sameFile(m, *exe) {
			continue
		}
		// A writable mapping's private pages hold the program's data
		// (.data, .noptrdata): dropping them would reset variables to
		// their values in the file.
		if strings.ContainsRune(m.perms, 'w') {
			continue
		}
		// A read-only mapping can hold private copies too: the
		// relocated data of a position-independent binary (RELRO, made
		// read-only after the loader wrote it) or breakpoints a
		// debugger or uprobe wrote into the code. Dropping those would
		// bring back the file's bytes.
		if m.anon != 0 || m.swap != 0 {
			continue
		}
		if m.rss == 0 {
			continue
		}
		out = append(out, m)
	}
	return out
}
