package localapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/textutil"
)

// bodyRules say what a route accepts besides one strict JSON value.
type bodyRules struct {
	// allowEmpty makes an empty body the zero value (the auth routes,
	// whose fields are all optional).
	allowEmpty bool
	// allowUnknown ignores unknown fields (the auth routes, documented so);
	// the post routes refuse them so a typo never silently does nothing.
	allowUnknown bool
}

// decodeBody reads the request body as exactly one JSON value into v. It is
// the only way a handler reads a body, so every route refuses the same bad
// input with one clear error before anything is changed: a body over
// api.MaxBodyBytes (413), bytes that are not UTF-8, escapes of lone UTF-16
// surrogates, and data after the value. encoding/json would silently turn
// the second and third into U+FFFD, storing text the user never wrote.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, rules bodyRules) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &api.Error{Code: api.CodeTooLarge, Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("request body is too large: the limit is %d MiB", api.MaxBodyBytes>>20)}
	case err != nil:
		return badRequest("read request body: " + err.Error())
	}
	if len(trimJSONSpace(b)) == 0 {
		if rules.allowEmpty {
			return nil
		}
		return badRequest("request body is empty: send a JSON object")
	}
	if !utf8.Valid(b) {
		return badRequest(fmt.Sprintf("request body is not valid UTF-8 (at byte %d): send text as UTF-8", invalidUTF8At(b)))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if !rules.allowUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid request body: " + err.Error())
	}
	if rest := trimJSONSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return badRequest(fmt.Sprintf("invalid request body: data after the JSON value (at byte %d)", dec.InputOffset()))
	}
	if at, esc := loneSurrogate(b); at >= 0 {
		return badRequest(fmt.Sprintf("invalid request body: %s at byte %d is half of a UTF-16 surrogate pair, not a character", esc, at))
	}
	return nil
}

// trimJSONSpace trims JSON's white space (RFC 8259: space, tab, CR, LF),
// not bytes.TrimSpace's Unicode spaces: a no-break space after the value
// is data, not white space.
func trimJSONSpace(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// loneSurrogate finds the first \uXXXX escape of a UTF-16 surrogate that is
// not part of a high-low pair, in a body already known to be valid JSON
// and UTF-8. A backslash only occurs in strings there, and never inside a
// multi-byte UTF-8 sequence, so a byte scan that steps over every escape
// (so that `\\ud800` is a backslash followed by "ud800") is exact.
func loneSurrogate(b []byte) (at int, esc string) {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' {
			i++ // \\, \", \n ...: skip the escaped byte
			continue
		}
		u, ok := textutil.Hex4(b, i+2)
		if !ok {
			i++
			continue
		}
		switch {
		case u >= 0xD800 && u <= 0xDBFF:
			if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := textutil.Hex4(b, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11 // the pair; the loop adds one
					continue
				}
			}
			return i, string(b[i : i+6])
		case u >= 0xDC00 && u <= 0xDFFF:
			return i, string(b[i : i+6])
		}
		i += 5
	}
	return -1, ""
}
