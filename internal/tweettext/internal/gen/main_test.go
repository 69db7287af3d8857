package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/psnd/psnd/internal/testutil"
)

// The generated files are committed because a user's clone has neither
// source. These tests regenerate them in memory from the sources, when
// present, and fail if the committed copies drifted (someone edited them,
// or the sources changed without `go generate`).

func TestTLDsUpToDate(t *testing.T) {
	y, err := os.ReadFile(testutil.SharedFile(t, "twitter-text/tld_lib.yml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := generateTLDs(y)
	if err != nil {
		t.Fatal(err)
	}
	compareCommitted(t, "tlds_gen.go", got)
}

// unicodeEmojiDir is where Debian's unicode-data package installs the
// emoji files. CI sets PSN_REQUIRE_UNICODE_DATA=1 so that a missing package
// fails instead of skipping.
const unicodeEmojiDir = "/usr/share/unicode/emoji"

func TestEmojiUpToDate(t *testing.T) {
	in, err := readEmojiInputs(unicodeEmojiDir)
	if err != nil {
		if os.Getenv("PSN_REQUIRE_UNICODE_DATA") == "1" {
			t.Fatalf("unicode emoji data missing (apt-get install unicode-data): %v", err)
		}
		t.Skipf("unicode emoji data not installed (apt-get install unicode-data): %v", err)
	}
	got, err := generateEmoji(in)
	if err != nil {
		t.Fatal(err)
	}
	compareCommitted(t, "emoji_gen.go", got)
}

func TestGenerateIsDeterministic(t *testing.T) {
	in, err := readEmojiInputs(unicodeEmojiDir)
	if err != nil {
		t.Skip("unicode emoji data not installed")
	}
	a, err := generateEmoji(in)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b, err := generateEmoji(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("two runs of generateEmoji differ")
		}
	}
}

func compareCommitted(t *testing.T, name string, generated []byte) {
	t.Helper()
	committed, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, generated) {
		t.Errorf("%s is out of date with its sources: run `go generate ./internal/tweettext`", name)
	}
}
