package localapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
)

func TestLoneSurrogate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		at   int
		want string
	}{
		{`"plain"`, -1, ""},
		{`"\ud83d\ude00"`, -1, ""},
		{`"\uD83D\uDE00"`, -1, ""},
		{`"\u00e9\u4e2d"`, -1, ""},
		{`"\\ud800"`, -1, ""},
		{`"\\\\ud800"`, -1, ""},
		{`"\\\ud800"`, 3, `\ud800`},
		{`"\ud800"`, 1, `\ud800`},
		{`"\ud800\u0041"`, 1, `\ud800`},
		{`"\ud800\\udc00"`, 1, `\ud800`},
		{`"\udc00"`, 1, `\udc00`},
		{`"\ud83d\ude00\ude00"`, 13, `\ude00`},
		{`"\ud83d\ud83d\ude00"`, 1, `\ud83d`},
		{`"\"\ud800"`, 3, `\ud800`},
		{`"İ\ud800"`, 3, `\ud800`},
		{`"\ud800`, 1, `\ud800`},
	} {
		at, esc := loneSurrogate([]byte(tc.in))
		if at != tc.at || esc != tc.want {
			t.Errorf("loneSurrogate(%s) = %d %q, want %d %q", tc.in, at, esc, tc.at, tc.want)
		}
	}
}

// TestDecodeBodyWhitespace: white space around the JSON value is JSON's
// own (space, tab, CR, LF) and allowed, up to a body of exactly the limit;
// other Unicode spaces (a no-break space, U+0085) are data after the
// value, or a body that is not JSON, and refused.
func TestDecodeBodyWhitespace(t *testing.T) {
	decode := func(body string, rules bodyRules) error {
		r := httptest.NewRequest(http.MethodPost, "/v1/posts", strings.NewReader(body))
		var v struct {
			Text string `json:"text"`
		}
		return decodeBody(httptest.NewRecorder(), r, &v, rules)
	}
	obj := `{"text":"İ"}`
	for _, ok := range []string{obj, " \t\r\n" + obj + " \t\r\n", obj + strings.Repeat(" ", api.MaxBodyBytes-len(obj))} {
		if err := decode(ok, bodyRules{}); err != nil {
			t.Errorf("%.40q…: %v", ok, err)
		}
	}
	if err := decode(obj+strings.Repeat(" ", api.MaxBodyBytes-len(obj)+1), bodyRules{}); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("one byte over the limit: %v", err)
	}
	for _, bad := range []string{obj + "\u00a0", obj + "\u0085", obj + "\u3000", "\u00a0" + obj} {
		if err := decode(bad, bodyRules{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// An auth body may be empty, but a no-break space is not empty.
	if err := decode("\u00a0", bodyRules{allowEmpty: true}); err == nil {
		t.Error(`"\u00a0" accepted as an empty body`)
	}
	if err := decode(" \n", bodyRules{allowEmpty: true}); err != nil {
		t.Errorf("white space as an empty auth body: %v", err)
	}
}
