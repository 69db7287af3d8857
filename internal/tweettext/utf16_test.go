package tweettext

import (
	"slices"
	"testing"
)

// TestUTF16ByteOffsets: both units of a surrogate pair map to the start of
// their character, invalid bytes are one unit each, the end maps to len.
func TestUTF16ByteOffsets(t *testing.T) {
	s := "a🙂日\xffİ"
	u := appendUTF16(nil, s)
	got := utf16ByteOffsets(s, len(u))
	want := []int{0, 1, 1, 5, 8, 9, 11}
	if len(u) != 6 || !slices.Equal(got, want) {
		t.Fatalf("units %d, offsets %v, want 6 and %v", len(u), got, want)
	}
}
