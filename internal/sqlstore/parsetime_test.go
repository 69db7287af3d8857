package sqlstore

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestParseStoredTimeMatchesTimeParse: the fast reader of stored times
// gives exactly time.Parse's answer (same instant, same location, ==) for
// every time the store writes, and declines anything it does not read the
// same way, so parseTime's result never depends on which path read it.
func TestParseStoredTimeMatchesTimeParse(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var inputs []string
	for range 20000 {
		at := time.Unix(r.Int64N(253402300799), r.Int64N(1e9)).In(time.FixedZone("", 3600))
		inputs = append(inputs, fmtTime(at))
	}
	inputs = append(inputs, "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2024-02-29T12:00:00.000Z",
		"2026-02-30T12:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-00-10T00:00:00.000Z", "2026-01-00T00:00:00.000Z",
		"2026-01-01T24:00:00.000Z", "2026-01-01T23:60:00.000Z", "2026-01-01T23:59:60.000Z", "2026-01-01T23:59:59.000",
		"2026-01-01T23:59:59Z", "2026-01-01 23:59:59.000Z", "2026-01-01T23:59:59.00xZ", "+026-01-01T23:59:59.000Z",
		"2026-01-01T23:59:59.000+01:00", "", "garbage")
	// Single-byte corruptions of valid times.
	for i := range 2000 {
		b := []byte(inputs[i])
		b[r.IntN(len(b))] = "0123456789-:.TZ x"[r.IntN(17)]
		inputs = append(inputs, string(b))
	}
	fast := 0
	for _, s := range inputs {
		got, ok := parseStoredTime(s)
		if !ok {
			continue
		}
		fast++
		want, err := time.Parse(timeLayout, s)
		if err != nil {
			t.Errorf("%q: fast path read %v, time.Parse refuses it: %v", s, got, err)
			continue
		}
		if got != want {
			t.Errorf("%q: fast path %#v, time.Parse %#v", s, got, want)
		}
	}
	if fast < 15000 {
		t.Errorf("fast path took only %d of the inputs", fast)
	}
}
