package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// unicodeEmojiDir is where Debian's unicode-data package installs Unicode
// 15.0's emoji files (twitter-text 3.1.0's table), and latestList the pinned
// npm package's list of the current Emoji release (X's table; `npm ci` in
// emojidata/). CI sets PSN_REQUIRE_UNICODE_DATA=1 so that missing data
// fails instead of skipping.
const (
	unicodeEmojiDir = "/usr/share/unicode/emoji"
	emojiDataDir    = "emojidata"
	latestList      = emojiDataDir + "/node_modules/emoji-test-regex-pattern/dist/emoji-" + latestEmojiVersion + "/index-strings.txt"
)

func emojiInputsOrSkip(t *testing.T) emojiInputs {
	t.Helper()
	in, err := readEmojiInputs(unicodeEmojiDir, latestList)
	if err != nil {
		if os.Getenv("PSN_REQUIRE_UNICODE_DATA") == "1" {
			t.Fatalf("emoji data missing (apt-get install unicode-data; cd %s && npm ci): %v", filepath.Join("internal/tweettext/internal/gen", emojiDataDir), err)
		}
		t.Skipf("emoji data not installed (apt-get install unicode-data; npm ci in %s): %v", emojiDataDir, err)
	}
	checkPinnedInstalled(t)
	return in
}

// checkPinnedInstalled: the installed package is the pinned version (npm ci
// checked its integrity against package-lock.json).
func checkPinnedInstalled(t *testing.T) {
	t.Helper()
	var lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	var pkg struct {
		Version string `json:"version"`
	}
	const dep = "node_modules/emoji-test-regex-pattern"
	for _, f := range []struct {
		path string
		v    any
	}{{emojiDataDir + "/package-lock.json", &lock}, {emojiDataDir + "/" + dep + "/package.json", &pkg}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, f.v); err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
	}
	pinned := lock.Packages[dep]
	if pinned.Version == "" || !strings.HasPrefix(pinned.Integrity, "sha512-") {
		t.Fatalf("package-lock.json pins no version and integrity for %s", dep)
	}
	if pkg.Version != pinned.Version {
		t.Fatalf("installed emoji-test-regex-pattern %s, pinned %s: run npm ci in %s", pkg.Version, pinned.Version, emojiDataDir)
	}
}

func TestEmojiUpToDate(t *testing.T) {
	in := emojiInputsOrSkip(t)
	got, err := generateEmoji(in)
	if err != nil {
		t.Fatal(err)
	}
	compareCommitted(t, "emoji_gen.go", got)
}

// TestQualifiedRuleMatchesEmojiTest checks the rule qualifiedSequences
// applies to the pinned list against the statuses of Unicode's own
// emoji-test.txt, on the release both have (15.0): every fully-qualified
// sequence is kept, and nothing minimally-qualified or unqualified is; the
// only additions are emoji-style variation sequences and modifier sequences
// that emoji-test.txt does not list.
func TestQualifiedRuleMatchesEmojiTest(t *testing.T) {
	in := emojiInputsOrSkip(t)
	list, err := os.ReadFile(emojiDataDir + "/node_modules/emoji-test-regex-pattern/dist/emoji-" + twemojiDataVersion + "/index-strings.txt")
	if err != nil {
		t.Fatal(err)
	}
	derived, err := qualifiedSequences(list)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := parseEmojiTest(in.test)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, e := range tests {
		status[string(e.cps)] = e.status
	}
	got := map[string]bool{}
	for _, cps := range derived {
		s := string(cps)
		got[s] = true
		switch st := status[s]; {
		case st == "fully-qualified":
		case st != "":
			t.Errorf("%U is %s in emoji-test.txt but kept", cps, st)
		case len(cps) == 2 && (cps[1] == 0xFE0F || cps[1] >= 0x1F3FB && cps[1] <= 0x1F3FF):
		default:
			t.Errorf("%U kept but neither in emoji-test.txt nor a variation or modifier sequence", cps)
		}
	}
	for _, e := range tests {
		if e.status == "fully-qualified" && len(e.cps) > 1 && !got[string(e.cps)] {
			t.Errorf("fully-qualified %U missing", e.cps)
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	in := emojiInputsOrSkip(t)
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
