package cli

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckExitCodesAndJSON(t *testing.T) {
	r := run(t, nil, "", "check", "Hello https://example.com")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "29/280") {
		t.Fatalf("valid text: %+v", r)
	}
	r = run(t, nil, "", "check", "--json", strings.Repeat("x", 312))
	var res struct {
		WeightedLength int      `json:"weighted_length"`
		MaxLength      int      `json:"max_length"`
		Valid          bool     `json:"valid"`
		Warnings       []string `json:"warnings"`
		Errors         []string `json:"errors"`
	}
	if r.code != ExitInvalidText || json.Unmarshal([]byte(r.stdout), &res) != nil {
		t.Fatalf("too long: %+v", r)
	}
	if res.WeightedLength != 312 || res.MaxLength != 280 || res.Valid || res.Warnings == nil ||
		len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0], "Tweet is 312/280 characters") {
		t.Fatalf("too long result: %+v", res)
	}
	// Premium limit.
	if r := run(t, nil, "", "check", "--max", "25000", strings.Repeat("x", 312)); r.code != 0 {
		t.Fatalf("--max 25000: %+v", r)
	}
}

func TestCheckBadInput(t *testing.T) {
	cases := []struct {
		name, stdin string
		want        string
	}{
		{"empty stdin", "", "empty"},
		{"blank", "   \n\t", "empty"},
		{"invalid utf-8", "ab\xff\xfe", "UTF-8"},
		{"NUL", "a\x00b", "NUL character"},
	}
	for _, c := range cases {
		r := run(t, nil, c.stdin, "check", "--json", "-")
		if r.code != ExitInvalidText || !strings.Contains(strings.ToLower(r.stdout), strings.ToLower(c.want)) {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
}

func TestCheckBatchStreamsAndSurvivesBadLines(t *testing.T) {
	in := `"hello"` + "\n" + `not json` + "\n" + `"` + strings.Repeat("y", 300) + `"` + "\n" + `"👨‍👩‍👧‍👦"` + "\n"
	r := run(t, nil, in, "check", "--batch")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	var got []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("output line not JSON: %q", sc.Text())
		}
		got = append(got, m)
	}
	if len(got) != 4 {
		t.Fatalf("%d result lines, want 4: %s", len(got), r.stdout)
	}
	if got[0]["valid"] != true || got[1]["error"] == nil || got[2]["valid"] != false || got[3]["weighted_length"] != float64(2) {
		t.Fatalf("results: %v", got)
	}
	for i, m := range got {
		if m["line"] != float64(i+1) {
			t.Errorf("line %d numbered %v", i+1, m["line"])
		}
	}
}

func TestSplitPreviewAndJSON(t *testing.T) {
	text := strings.Repeat("This is a sentence that goes on. ", 30)
	r := run(t, nil, text, "split", "--number", "--json", "-")
	var res struct {
		Tweets []struct {
			Text           string `json:"text"`
			WeightedLength int    `json:"weighted_length"`
		} `json:"tweets"`
		Warnings []string `json:"warnings"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || len(res.Tweets) < 3 {
		t.Fatalf("%+v", r)
	}
	for i, tw := range res.Tweets {
		if tw.WeightedLength > 280 || !strings.HasSuffix(tw.Text, " "+itoa(i+1)+"/"+itoa(len(res.Tweets))) {
			t.Errorf("tweet %d: %q (%d)", i+1, tw.Text, tw.WeightedLength)
		}
	}
	r = run(t, nil, text, "split", "-")
	if r.code != 0 || !strings.Contains(r.stdout, "1/") {
		t.Fatalf("human preview: %+v", r)
	}
}

func TestSplitLargeAndBadInput(t *testing.T) {
	big := strings.Repeat("word ", 2<<20) // 10 MB
	r := run(t, nil, big, "split", "--json", "-")
	if r.code != 0 {
		t.Fatalf("10 MB split: exit %d %s", r.code, r.stderr)
	}
	var res struct {
		Tweets []struct{ Text string } `json:"tweets"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res.Tweets) < 30000 {
		t.Fatalf("10 MB split: %d tweets, %v", len(res.Tweets), err)
	}
	for _, c := range []string{"", "  \n", "a\xffb"} {
		if r := run(t, nil, c, "split", "-"); r.code != ExitInvalidText || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("split %q: %+v", c, r)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
