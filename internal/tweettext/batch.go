package tweettext

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// CheckBatch reads JSON Lines from r, each line one JSON string, and writes
// to w one JSON object per line: the Check result of that text with a
// "line" field (1-based), or {"line": N, "error": "..."} for a line that is
// not a JSON string. It streams: memory stays bounded by the longest line,
// however long the input. It stops at the first read or write error, or
// when ctx is done.
func CheckBatch(ctx context.Context, r io.Reader, w io.Writer, opts CheckOptions) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		p    parser
		long []byte // a line longer than br's buffer
		out  []byte
	)
	for line := 1; ; line++ {
		if line&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("check batch: %w", err)
			}
		}
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("check batch: read line %d: %w", line, err)
		}
		if len(b) == 0 && errors.Is(err, io.EOF) {
			break
		}
		out = p.batchLine(out[:0], line, bytes.TrimRight(b, "\r\n"), opts)
		if _, werr := bw.Write(out); werr != nil {
			return fmt.Errorf("check batch: write: %w", werr)
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("check batch: write: %w", err)
	}
	return nil
}

// batchLine appends the output line for one input line.
func (p *parser) batchLine(out []byte, line int, b []byte, opts CheckOptions) []byte {
	text, err := decodeJSONString(b)
	if err != nil {
		out = append(out, `{"line":`...)
		out = strconv.AppendInt(out, int64(line), 10)
		out = append(out, `,"error":`...)
		out = appendJSONString(out, err.Error())
		return append(out, "}\n"...)
	}
	res := p.check(text, opts)
	out = append(out, `{"line":`...)
	out = strconv.AppendInt(out, int64(line), 10)
	out = append(out, `,"weighted_length":`...)
	out = strconv.AppendInt(out, int64(res.WeightedLength), 10)
	out = append(out, `,"max_length":`...)
	out = strconv.AppendInt(out, int64(res.MaxLength), 10)
	out = append(out, `,"valid":`...)
	out = strconv.AppendBool(out, res.Valid)
	out = append(out, `,"warnings":`...)
	out = appendJSONStrings(out, res.Warnings)
	out = append(out, `,"errors":`...)
	out = appendJSONStrings(out, res.Errors)
	out = append(out, `,"permillage":`...)
	out = strconv.AppendInt(out, int64(res.Permillage), 10)
	out = append(out, `,"urls":`...)
	out = strconv.AppendInt(out, int64(res.URLs), 10)
	out = append(out, `,"mentions":`...)
	out = strconv.AppendInt(out, int64(res.Mentions), 10)
	out = append(out, `,"hashtags":`...)
	out = strconv.AppendInt(out, int64(res.Hashtags), 10)
	return append(out, "}\n"...)
}

// decodeJSONString decodes one line holding a JSON string. Strings without
// escapes (most tweets) are taken as they are, without encoding/json.
func decodeJSONString(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", errors.New("empty line (want a JSON string)")
	}
	if !utf8.Valid(b) {
		return "", errors.New("line is not valid UTF-8")
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		simple := true
		for _, c := range inner {
			if c == '\\' || c == '"' || c < 0x20 {
				simple = false
				break
			}
		}
		if simple {
			return string(inner), nil
		}
	}
	if s, ok := unquoteJSON(b); ok {
		return s, nil
	}
	// Not a plain JSON string: let encoding/json say what it is.
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return "", fmt.Errorf("want a JSON string, got a JSON %s", typeErr.Value)
		}
		return "", fmt.Errorf("not a JSON string: %w", err)
	}
	return s, nil
}

// unquoteJSON decodes a JSON string literal with escapes (RFC 8259 §7);
// it reports false for anything else, including malformed escapes. Lone
// surrogates become U+FFFD, as encoding/json makes them.
func unquoteJSON(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	b = b[1 : len(b)-1]
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"' || c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return "", false
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					r2, ok2 = hex4(b, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return string(out), true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func appendJSONStrings(out []byte, list []string) []byte {
	out = append(out, '[')
	for i, s := range list {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendJSONString(out, s)
	}
	return append(out, ']')
}

// appendJSONString appends s as a JSON string (s is valid UTF-8: it is one
// of our own messages).
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, '\\', 'n')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}
