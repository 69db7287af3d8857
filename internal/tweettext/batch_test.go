package tweettext

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/psnd/psnd/internal/tweettext/internal/corpus"
)

func runBatch(t *testing.T, in string, opts CheckOptions) []map[string]any {
	t.Helper()
	var out bytes.Buffer
	if err := CheckBatch(context.Background(), strings.NewReader(in), &out, opts); err != nil {
		t.Fatal(err)
	}
	var res []map[string]any
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("output line %q is not JSON: %v", sc.Text(), err)
		}
		res = append(res, m)
	}
	return res
}

func TestCheckBatchLines(t *testing.T) {
	long := strings.Repeat("word ", 400_000) // a 2 MB line
	in := strings.Join([]string{
		`"hello world"`,
		`"tab\tand \u00e9 and \ud83d\ude00 and \"quotes\""`,
		`not json`,
		`42`,
		``,
		"\"bad \xff utf8\"",
		`"` + strings.Repeat("a", 300) + `"`,
		`  "padded"  `,
		`"` + long + `"`,
		`"last line without newline"`,
	}, "\n")
	res := runBatch(t, in, CheckOptions{})
	if len(res) != 10 {
		t.Fatalf("%d output lines, want 10", len(res))
	}
	for i, m := range res {
		if m["line"] != float64(i+1) {
			t.Errorf("output %d has line %v", i, m["line"])
		}
	}
	wantLen := []float64{11, 0, -1, -1, -1, -1, 300, 6, 2_000_000, 25}
	for i, want := range wantLen {
		if want < 0 {
			if _, ok := res[i]["error"].(string); !ok {
				t.Errorf("line %d: want an error object, got %v", i+1, res[i])
			}
			continue
		}
		if i == 1 {
			want = float64(WeightedLength("tab\tand é and 😀 and \"quotes\""))
		}
		if res[i]["weighted_length"] != want {
			t.Errorf("line %d: weighted_length %v, want %v", i+1, res[i]["weighted_length"], want)
		}
	}
	if res[6]["valid"] != false || !strings.HasPrefix(res[6]["errors"].([]any)[0].(string), "Tweet is 300/280 characters") {
		t.Errorf("line 7: %v", res[6])
	}
}

// Batch results equal Check's, in input order, across many chunks.
func TestCheckBatchMatchesCheck(t *testing.T) {
	texts := corpus.Generate(9, 3000, corpus.Adversarial)
	var in bytes.Buffer
	if err := corpus.WriteJSONL(&in, texts); err != nil {
		t.Fatal(err)
	}
	res := runBatch(t, in.String(), CheckOptions{MaxLength: 100})
	if len(res) != len(texts) {
		t.Fatalf("%d results for %d texts", len(res), len(texts))
	}
	for i, text := range texts {
		want, _ := json.Marshal(Check(text, CheckOptions{MaxLength: 100}))
		got := res[i]
		delete(got, "line")
		gotJSON, _ := json.Marshal(got)
		var wantMap map[string]any
		json.Unmarshal(want, &wantMap)
		wantJSON, _ := json.Marshal(wantMap)
		if string(gotJSON) != string(wantJSON) {
			t.Fatalf("line %d %q:\n got %s\nwant %s", i+1, text, gotJSON, wantJSON)
		}
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestCheckBatchErrors(t *testing.T) {
	boom := errors.New("boom")
	var out bytes.Buffer
	err := CheckBatch(context.Background(), &failingReader{data: []byte("\"a\"\n\"b\"\n"), err: boom}, &out, CheckOptions{})
	if !errors.Is(err, boom) {
		t.Errorf("read error: got %v", err)
	}
	if strings.Count(out.String(), "\n") != 2 {
		t.Errorf("lines before the read error were not all written: %q", out.String())
	}
	var in strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&in, "\"tweet %d\"\n", i)
	}
	if err := CheckBatch(context.Background(), strings.NewReader(in.String()), &failingWriter{after: 100_000}, CheckOptions{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := CheckBatch(ctx, strings.NewReader(in.String()), io.Discard, CheckOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if err := CheckBatch(context.Background(), strings.NewReader(""), io.Discard, CheckOptions{}); err != nil {
		t.Errorf("empty input: %v", err)
	}
}

// plainJSON agrees with a byte-by-byte test, for each byte at each place.
func TestPlainJSON(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := !(c < 0x20 || c == '"' || c == '\\')
		for n := 0; n < 20; n++ {
			b := []byte(strings.Repeat("aé", 10))
			b[n] = byte(c)
			if got := plainJSON(b); got != want {
				t.Fatalf("plainJSON with byte %#x at %d: %v, want %v", c, n, got, want)
			}
		}
	}
}

// TestUnquoteJSONMatchesEncoding holds unquoteJSON to encoding/json on
// valid UTF-8 literals (escapes anywhere, bad escapes, raw quotes and
// control characters between them): the same verdict and, when valid, the
// same string.
func TestUnquoteJSONMatchesEncoding(t *testing.T) {
	pieces := []string{"a", "é", "日本", "😀", `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u0026`, `\u00e9`,
		`\ud83d\ude00`, `\ud83d`, `\ude00`, `\ud83dx`, `\u12`, `\x`, `\`, `"`, "\x01", "\x1f", " ", "abcdefghijklmnop"}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		b.WriteByte('"')
		for k := rng.IntN(8); k > 0; k-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		b.WriteByte('"')
		lit := b.String()
		var want string
		werr := json.Unmarshal([]byte(lit), &want)
		got, ok := unquoteJSON(nil, []byte(lit))
		if ok != (werr == nil) || ok && string(got) != want {
			t.Fatalf("unquoteJSON(%q) = %q, %v; encoding/json: %q, %v", lit, got, ok, want, werr)
		}
	}
}

// However the reader splits its input (a byte at a time, data with the
// final io.EOF, half reads), the output is the same: lines are cut from the
// chunks' buffers, a line's start carried over to the next chunk.
func TestCheckBatchReadSplits(t *testing.T) {
	var in strings.Builder
	for i, s := range corpus.Generate(3, 3000, corpus.Realistic) {
		b, _ := json.Marshal(s)
		in.Write(b)
		if i%500 == 7 {
			in.WriteString("\r\n\nnot json\n" + `"` + strings.Repeat("long ", 30000) + `"`)
		}
		in.WriteByte('\n')
	}
	in.WriteString(`"no newline at the end"`)
	run := func(r io.Reader) string {
		var out bytes.Buffer
		if err := CheckBatch(context.Background(), r, &out, CheckOptions{}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	want := run(strings.NewReader(in.String()))
	if n := strings.Count(want, "\n"); n != 3000+3*6+1 {
		t.Fatalf("%d output lines", n)
	}
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(strings.NewReader(in.String())),
		"data+EOF": iotest.DataErrReader(strings.NewReader(in.String())),
		"half":     iotest.HalfReader(strings.NewReader(in.String())),
	} {
		if got := run(r); got != want {
			t.Errorf("%s reads: output differs", name)
		}
	}
}

// appendInt writes what strconv does.
func TestAppendInt(t *testing.T) {
	for _, n := range []int{-1001, -1000, -999, -10, -1, 0, 1, 9, 10, 99, 100, 101, 999, 1000, 1001, 25000, 1 << 40} {
		if got, want := string(appendInt([]byte("x"), n)), "x"+strconv.Itoa(n); got != want {
			t.Fatalf("appendInt(%d) = %q, want %q", n, got, want)
		}
	}
	for n := -10; n < 101000; n++ {
		if got, want := string(appendInt(nil, n)), strconv.Itoa(n); got != want {
			t.Fatalf("appendInt(%d) = %q, want %q", n, got, want)
		}
	}
}

// appendJSONString writes a JSON string that means s, with and without
// characters to escape.
func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "Tweet is 312/280 characters; split it into a thread with `psnd post --thread`",
		"quote \" here", `back\slash`, "tab\tnew\nline", "\x00\x1f\x7f", "<&> \u2028 é 日本 😀", strings.Repeat("x", 40) + "\"",
	} {
		var got string
		b := appendJSONString(nil, s)
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("appendJSONString(%q) = %s: %q, %v", s, b, got, err)
		}
	}
}
