package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const plain = "tok-SUPERSECRET-4711"

// holder keeps its secrets in unexported fields, which fmt prints without
// calling their methods.
type holder struct {
	name   string
	secret Secret
	key    Key
}

type exported struct {
	Name   string
	Secret Secret
	Key    Key
}

func TestSecretRedacts(t *testing.T) {
	s := NewSecret(plain)
	k := NewKey()
	keyHex := fmt.Sprintf("%x", k.b[:])
	keyB64 := encodeKey(k)[len(keyPrefix):]

	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%T"} {
		outs = append(outs,
			fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s), fmt.Sprintf(verb, k), fmt.Sprintf(verb, &k),
			fmt.Sprintf(verb, holder{"h", s, k}), fmt.Sprintf(verb, &holder{"h", s, k}),
			fmt.Sprintf(verb, exported{"e", s, k}), fmt.Sprintf(verb, []Secret{s}),
			fmt.Sprintf(verb, map[string]Secret{"a": s}),
		)
	}
	outs = append(outs, s.String(), s.GoString(), k.String(), k.GoString(), fmt.Sprint(s, k), fmt.Sprintln(s, k))

	for _, v := range []any{s, k, exported{"e", s, k}, map[string]any{"s": s, "k": k}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}

	var logBuf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logBuf, nil), slog.NewJSONHandler(&logBuf, nil)} {
		l := slog.New(h)
		l.Info("msg", "secret", s, "key", k, "group", exported{"e", s, k}, slog.Any("ptr", &s))
		l.With("s", s).Info("with")
	}
	outs = append(outs, logBuf.String())

	for _, o := range outs {
		if strings.Contains(o, plain) || strings.Contains(o, "SUPERSECRET") ||
			strings.Contains(strings.ToLower(o), keyHex[:16]) || strings.Contains(o, keyB64[:16]) {
			t.Fatalf("secret leaked: %s", o)
		}
	}
	if !strings.Contains(logBuf.String(), "[redacted]") {
		t.Fatalf("log lacks [redacted]: %s", logBuf.String())
	}
	if got := fmt.Sprint(s); got != "[redacted]" {
		t.Fatalf("Sprint = %q", got)
	}
	if b, _ := json.Marshal(s); string(b) != `"[redacted]"` {
		t.Fatalf("json = %s", b)
	}
}

func TestSecretReveal(t *testing.T) {
	s := NewSecret(plain)
	if s.Reveal() != plain || s.IsZero() {
		t.Fatal("Reveal")
	}
	var zero Secret
	if zero.Reveal() != "" || !zero.IsZero() || !NewSecret("").IsZero() {
		t.Fatal("zero Secret")
	}
	if !s.Equal(NewSecret(plain)) || s.Equal(NewSecret(plain+"x")) || s.Equal(zero) || !zero.Equal(NewSecret("")) {
		t.Fatal("Equal")
	}
	var back Secret
	if err := json.Unmarshal([]byte(`"[redacted]"`), &back); err == nil {
		t.Fatal("a redacted Secret decoded from JSON")
	}
	var kback Key
	if err := json.Unmarshal([]byte(`"[redacted]"`), &kback); err == nil {
		t.Fatal("a redacted Key decoded from JSON")
	}
}
