package cli

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSplitPreviewsWhatPostStores runs `psnd split` and `psnd post --thread`
// (stored by a real daemon) on the same texts and asserts the same tweets:
// the preview is exactly what is posted (issue 9 item 12, issue 10 item 4).
func TestSplitPreviewsWhatPostStores(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	long := strings.Repeat("A sentence that goes on for a while. ", 20)
	texts := []string{
		"short",
		"\u00a0leading no-break space",
		"trailing no-break space\u00a0",
		"\u00a0\u00a0indented\n\u00a0second line",
		"one\n---\ntwo",
		"one\n---\n\u00a0two\n---\n  \n---\nthree",
		"---\nafter a marker",
		"   spaces around   ",
		strings.Repeat("漢字かな交じり文。", 40),
		strings.Repeat("🐦‍🔥🍋‍🟩🙂‍↔️🧑‍🧑‍🧒 ", 40),
		strings.Repeat("🏃🏽‍♀️🏾 ", 70),
		long,
		long + "\n---\nA tail after an explicit split.",
		strings.Repeat("مرحبا بالعالم. ", 30),
		strings.Repeat("x", 600),
		"İstanbul Ⱥ " + strings.Repeat("https://example.com/a/very/long/path ", 12),
	}
	// Mixed texts from fragments, deterministic.
	frags := []string{"word ", "Sentence ends. ", "\n\n", "\n", "\u00a0", "@mention ", "#tag ", "$CASH ",
		"https://example.com/x?y=1 ", "例え ", "🧑‍🧑‍🧒 ", "👍🏾", "🏾", "é ", "שלום ", "\n---\n", "ok! "}
	for i := range 16 {
		var b strings.Builder
		for k := range 20 + i*13 {
			b.WriteString(frags[(k*7+i*3+k*k)%len(frags)])
		}
		texts = append(texts, b.String())
	}
	type tweets struct {
		Tweets []struct {
			Text string `json:"text"`
		} `json:"tweets"`
	}
	texts_ := func(ts tweets) []string {
		var out []string
		for _, tw := range ts.Tweets {
			out = append(out, tw.Text)
		}
		return out
	}
	for i, text := range texts {
		for _, number := range []bool{false, true} {
			args := []string{"--json", "-"} // on stdin: a text may start with "-"
			if number {
				args = append([]string{"--number"}, args...)
			}
			sr := run(t, vars, text, append([]string{"split"}, args...)...)
			pr := run(t, vars, text, append([]string{"post", "--thread", "--draft"}, args...)...)
			var s, p tweets
			if sr.code != 0 || json.Unmarshal([]byte(sr.stdout), &s) != nil {
				t.Fatalf("text %d: split: %+v", i, sr)
			}
			if pr.code != 0 || json.Unmarshal([]byte(pr.stdout), &p) != nil {
				t.Fatalf("text %d: post: %+v", i, pr)
			}
			if a, b := texts_(s), texts_(p); !slices.Equal(a, b) {
				t.Errorf("text %d %.40q number=%v:\n split %q\n post  %q", i, text, number, a, b)
			}
		}
	}
}

// TestPostMediaWithoutText: `post "" --media pic.png --alt … --now`
// publishes the picture alone, as X allows (issue 10 item 3).
func TestPostMediaWithoutText(t *testing.T) {
	home := startSandboxDaemon(t, map[string]string{"PSN_TZ": "UTC"})
	vars := map[string]string{"PSN_HOME": home, "PSN_TZ": "UTC"}
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	pic := filepath.Join(t.TempDir(), "pic.png")
	if err := os.WriteFile(pic, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, vars, "", "post", "", "--media", pic, "--alt", "A black square", "--now")
	if r.code != 0 || !strings.Contains(r.stdout, "published") {
		t.Fatalf("media-only post: %+v", r)
	}
	// Neither text nor media: refused, exit 4 (invalid text), nothing stored.
	r = run(t, vars, "", "post", "", "--now")
	if r.code != ExitInvalidText || !strings.Contains(r.stderr, "empty") {
		t.Fatalf("empty post: %+v", r)
	}
	if r := run(t, vars, "", "list", "--json"); strings.Count(r.stdout, `"id"`) != 1 {
		t.Errorf("posts after the refusal: %s", r.stdout)
	}
	for _, args := range [][]string{{"list"}, {"show", "1"}} {
		r := run(t, vars, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "published") {
			t.Errorf("%v of a media-only post: %+v", args, r)
		}
	}
}
