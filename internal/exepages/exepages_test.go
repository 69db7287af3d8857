package exepages

import (
	"strings"
	"testing"
)

// smapsPIE is the shape of /proc/self/smaps for a position-independent Go
// binary (go build -buildmode=pie, Linux 6.18), cut to the fields read:
// code, read-only data, the RELRO data the loader relocated then made
// read-only (all private copies), the writable data, the heap, and
// another file.
const smapsPIE = `55a681caa000-55a681d55000 r-xp 00000000 fe:00 9981294                    /tmp/rss/my prog
Size:                684 kB
Rss:                 684 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me
55a681d55000-55a681e39000 r--p 000ab000 fe:00 9981294                    /tmp/rss/my prog
Rss:                 848 kB
Anonymous:             0 kB
Swap:                  0 kB
55a681e39000-55a681e63000 r--p 0018f000 fe:00 9981294                    /tmp/rss/my prog
Rss:                 152 kB
Anonymous:           152 kB
Swap:                  0 kB
55a681e63000-55a681e6f000 rw-p 001b9000 fe:00 9981294                    /tmp/rss/my prog
Rss:                  48 kB
Anonymous:            32 kB
55a681e6f000-55a681e70000 r--p 001c5000 fe:00 9981294                    /tmp/rss/my prog
Rss:                   0 kB
Anonymous:             0 kB
55a6a0000000-55a6a0021000 rw-p 00000000 00:00 0                          [heap]
Rss:                   8 kB
Anonymous:             8 kB
7f0000000000-7f0000100000 r--p 00000000 fe:00 1111                       /usr/lib/locale/locale-archive
Rss:                 100 kB
Anonymous:             0 kB
7f0000100000-7f0000101000 r--p 00000000 fe:00 9981294                    /tmp/rss/other prog
Rss:                   4 kB
Anonymous:             0 kB
7ffc00000000-7ffc00001000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   4 kB
`

func TestDroppable(t *testing.T) {
	ms, err := parseSmaps(strings.NewReader(smapsPIE))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 9 {
		t.Fatalf("%d mappings, want 9", len(ms))
	}
	if m := ms[0]; m.path != "/tmp/rss/my prog" || m.perms != "r-xp" || m.dev != "fe:00" || m.inode != 9981294 || m.rss != 684<<10 || m.flags != "rd ex mr mw me" {
		t.Fatalf("first mapping parsed as %+v", m)
	}
	for _, c := range []struct {
		name string
		pc   uint64
		want []uint64 // the starts of the mappings picked
	}{
		// Code and read-only data; not the RELRO data (private
		// copies), the writable data, the mapping with nothing
		// resident, another file, nor one of another path with the
		// same inode.
		{"code of the executable", 0x55a681caa000 + 100, []uint64{0x55a681caa000, 0x55a681d55000}},
		{"pc outside every mapping", 0x1000, nil},
		{"pc in the heap (no file)", 0x55a6a0000010, nil},
		{"pc in the vdso (no file)", 0x7ffc00000010, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []uint64
			for _, m := range droppable(ms, c.pc) {
				got = append(got, m.start)
			}
			if len(got) != len(c.want) {
				t.Fatalf("picked %x, want %x", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("picked %x, want %x", got, c.want)
				}
			}
		})
	}
}

func TestParseSmapsRejectsGarbage(t *testing.T) {
	for _, in := range []string{
		"Rss: 4 kB\n",                   // a field before any mapping
		"not a mapping at all\n",        // no range
		"0040-0030 r-xp 0 fe:00 1 /x\n", // end before start
		"0030-0040 r-x 0 fe:00 1 /x\n",  // short perms
	} {
		if _, err := parseSmaps(strings.NewReader(in)); err == nil {
			t.Errorf("parseSmaps(%q): no error", in)
		}
	}
}
