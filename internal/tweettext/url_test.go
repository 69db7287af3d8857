package tweettext

import "testing"

// queryEnd looks the query classes up in asciiClass: they hold only ASCII.
func TestQueryClassesASCII(t *testing.T) {
	for u := 0; u <= 0xFFFF; u++ {
		inQuery := u < 128 && asciiClass[u]&clsQuery != 0
		inEnd := u < 128 && asciiClass[u]&clsQueryEnd != 0
		if inQuery != isQueryChar(uint16(u)) || inEnd != isQueryEndChar(uint16(u)) {
			t.Fatalf("U+%04X: table %v/%v, predicates %v/%v", u, inQuery, inEnd, isQueryChar(uint16(u)), isQueryEndChar(uint16(u)))
		}
	}
}
