package desktop

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// unquoteAppleScript reads back an AppleScript string literal the way
// AppleScript does (the escapes \" \\ \n \r \t), failing on anything that
// would end the literal early: the proof that no text can break out of it
// into the script.
func unquoteAppleScript(t *testing.T, lit string) string {
	t.Helper()
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		t.Fatalf("not a literal: %s", lit)
	}
	in := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case '"':
			t.Fatalf("unescaped quote at %d ends the literal early: %s", i, lit)
		case '\\':
			i++
			if i == len(in) {
				t.Fatalf("dangling backslash: %s", lit)
			}
			switch in[i] {
			case '"', '\\':
				b.WriteByte(in[i])
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				t.Fatalf("unknown escape \\%c: %s", in[i], lit)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func TestAppleScriptString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`plain`, `"plain"`},
		{`say "hi"`, `"say \"hi\""`},
		{`C:\path\`, `"C:\\path\\"`},
		{"two\nlines\ttab", `"two\nlines\ttab"`},
		{"bell\a and nul\x00 dropped", `"bell and nul dropped"`},
		{`" & (do shell script "touch /tmp/pwned") & "`, `"\" & (do shell script \"touch /tmp/pwned\") & \""`},
		{"İstanbul Ⱥ 東京 שלום 🙂👩🏽‍💻", `"İstanbul Ⱥ 東京 שלום 🙂👩🏽‍💻"`},
	} {
		got := appleScriptString(c.in)
		if got != c.want {
			t.Errorf("appleScriptString(%q) = %s, want %s", c.in, got, c.want)
		}
		back := unquoteAppleScript(t, got)
		if want := strings.NewReplacer("\a", "", "\x00", "").Replace(c.in); back != want {
			t.Errorf("%q reads back as %q", c.in, back)
		}
	}
}

// The whole script: body then title, each one literal, nothing else
// taken from the message.
func TestOsascriptScript(t *testing.T) {
	got := osascript{}.script(Message{Title: `psnd: post 12 "failed"`, Body: "X said \\ no\nRun psnd retry 12"})
	want := `display notification "X said \\ no\nRun psnd retry 12" with title "psnd: post 12 \"failed\""`
	if got != want {
		t.Errorf("script\n%s\nwant\n%s", got, want)
	}
}

func FuzzAppleScriptString(f *testing.F) {
	for _, s := range []string{`"`, `\`, `\"`, "a\nb", "🙂", `" & x & "`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // clean makes every text valid UTF-8 first
		}
		unquoteAppleScript(t, appleScriptString(s))
	})
}

func TestClean(t *testing.T) {
	long := strings.Repeat("東", 400)
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"  a\tb\r\nc  ", 80, "a b \nc"},
		{"bad \xff utf8", 80, "bad \uFFFD utf8"},
		{"esc\x1b[31m red", 80, "esc[31m red"},
		{long, 300, strings.Repeat("東", 299) + "…"},
		{"🙂🙂🙂", 2, "🙂…"},
	} {
		got := clean(c.in, c.n)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("clean(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
