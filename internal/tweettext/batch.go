package tweettext

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/psnd/psnd/internal/textutil"
)

// CheckBatch reads JSON Lines from r, each line one JSON string, and writes
// to w one JSON object per line, in input order: the Check result of that
// text with a "line" field (1-based), or {"line": N, "error": "..."} for a
// line that is not a JSON string. It streams: lines are read in chunks and
// checked on all CPUs, with a bounded number of chunks in flight, so memory
// stays bounded by the longest line however long the input. It stops at
// the first read or write error (after writing the results of the lines
// before it), or when ctx is done.
func CheckBatch(ctx context.Context, r io.Reader, w io.Writer, opts CheckOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	var recent *recentIndex
	if len(opts.Recent) > 0 {
		recent = newRecentIndex(opts.Recent) // read-only, shared by the workers
	}
	jobs := make(chan *batchChunk, workers)
	done := make(chan *batchChunk, workers)
	// Written chunks go back to the reader for reuse: at most this many
	// exist, which bounds memory (3 per worker: queued, working, done;
	// and the reader's and the writer's). With room for all of them none
	// is dropped and made again.
	free := make(chan *batchChunk, 3*workers+2)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		readChunks(ctx, r, jobs, free)
	}()
	var workersWG sync.WaitGroup
	for range workers {
		workersWG.Add(1)
		go func() {
			defer workersWG.Done()
			var p parser
			for c := range jobs {
				if c.err == nil {
					c.out = p.batchChunk(c.out[:0], c, opts, recent)
				}
				select {
				case done <- c:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		workersWG.Wait()
		close(done)
	}()
	err := writeChunks(ctx, w, done, free)
	cancel()
	for range done { // let the workers finish
	}
	wg.Wait()
	return err
}

// A batchChunk is a run of consecutive input lines and, once checked, their
// output lines.
type batchChunk struct {
	seq       int
	firstLine int
	data      []byte // the lines, back to back
	ends      []int  // end of each line in data
	out       []byte
	err       error // a read error after these lines (the chunk may be empty)
}

const (
	// A chunk's buffer: reads fill it, and a chunk closes after the read
	// that gives it chunkMin bytes of whole lines, so the part of a line
	// that starts the next chunk is all that is copied again.
	chunkBytes = 64 << 10
	chunkMin   = 32 << 10
)

// readChunks splits r into chunks of lines. A read error or the end of
// input is sent as the last chunk (err == io.EOF at the end).
//
// It reads straight into the chunks' buffers and cuts lines there (the
// part of a line read past a chunk's end starts the next chunk): no
// buffered reader copying every line once more.
func readChunks(ctx context.Context, r io.Reader, jobs chan<- *batchChunk, free <-chan *batchChunk) {
	var carry []byte // the start of a line read past the previous chunk
	var rerr error   // the first read error (io.EOF at the end)
	line := 1
	for seq := 0; ; seq++ {
		var c *batchChunk
		select {
		case c = <-free:
			*c = batchChunk{data: c.data[:0], ends: c.ends[:0], out: c.out[:0]}
		default:
			// out is about as long as data: sized at once, it does not
			// grow (and leave garbage) through doublings.
			c = &batchChunk{out: make([]byte, 0, chunkBytes+chunkBytes/2)}
		}
		c.seq, c.firstLine = seq, line
		c.data = append(c.data, carry...)
		cut := 0 // c.data[:cut] are whole lines, their ends in c.ends
		for {
			if i := bytes.IndexByte(c.data[cut:], '\n'); i >= 0 {
				cut += i + 1
				c.ends = append(c.ends, cut)
				line++
				continue
			}
			if rerr != nil {
				if cut < len(c.data) { // the last line, without a newline
					cut = len(c.data)
					c.ends = append(c.ends, cut)
					line++
				}
				break
			}
			if cut >= chunkMin {
				break // the rest, a line's start, begins the next chunk
			}
			if cap(c.data)-len(c.data) < readMin {
				c.data = slices.Grow(c.data, max(chunkBytes, len(c.data)))
			}
			n, err := r.Read(c.data[len(c.data):cap(c.data)])
			c.data = c.data[:len(c.data)+n]
			if err != nil {
				if errors.Is(err, io.EOF) {
					rerr = io.EOF
				} else {
					rerr = err
				}
			}
		}
		carry = append(carry[:0], c.data[cut:]...)
		c.data = c.data[:cut]
		if rerr != nil && len(carry) == 0 {
			// Input is over: the error travels in its own chunk, after
			// these lines are checked.
			err := rerr
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("check batch: read line %d: %w", line, err)
			}
			if len(c.ends) > 0 {
				if !send(ctx, jobs, c) {
					return
				}
				c = &batchChunk{seq: seq + 1, firstLine: line}
			}
			c.err = err
			send(ctx, jobs, c)
			return
		}
		if !send(ctx, jobs, c) {
			return
		}
	}
}

// readMin is the least room a read is given before the chunk's buffer grows.
const readMin = 16 << 10

func send(ctx context.Context, ch chan<- *batchChunk, c *batchChunk) bool {
	select {
	case ch <- c:
		return true
	case <-ctx.Done():
		return false
	}
}

// writeChunks writes checked chunks in sequence order.
func writeChunks(ctx context.Context, w io.Writer, done <-chan *batchChunk, free chan<- *batchChunk) error {
	pending := map[int]*batchChunk{}
	next := 0
	for {
		c, ok := pending[next]
		if !ok {
			select {
			case c, ok = <-done:
				if !ok {
					// Workers stopped early: only when ctx is done.
					if err := ctx.Err(); err != nil {
						return fmt.Errorf("check batch: %w", err)
					}
					return errors.New("check batch: workers stopped")
				}
			case <-ctx.Done():
				return fmt.Errorf("check batch: %w", ctx.Err())
			}
			if c.seq != next {
				pending[c.seq] = c
				continue
			}
		}
		delete(pending, next)
		next++
		// A chunk's output is written at once (tens of kilobytes, but for
		// the last chunk): copying it through a buffer gained nothing.
		if _, err := w.Write(c.out); err != nil {
			return fmt.Errorf("check batch: write: %w", err)
		}
		cerr := c.err
		if cerr == nil && cap(c.data) <= 4*chunkBytes {
			select { // recycle (c is the reader's from here on); a chunk that held a huge line is dropped
			case free <- c:
			default:
			}
		}
		if cerr != nil {
			if errors.Is(cerr, io.EOF) {
				return nil
			}
			return cerr
		}
	}
}

// batchChunk checks every line of c.
func (p *parser) batchChunk(out []byte, c *batchChunk, opts CheckOptions, recent *recentIndex) []byte {
	start := 0
	for i, end := range c.ends {
		b := c.data[start:end]
		// bytes.TrimRight(b, "\r\n"), without its general set lookup.
		for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
			b = b[:len(b)-1]
		}
		out = p.batchLine(out, c.firstLine+i, b, opts, recent)
		start = end
	}
	return out
}

// batchLine appends the output line for one input line.
func (p *parser) batchLine(out []byte, line int, b []byte, opts CheckOptions, recent *recentIndex) []byte {
	text, err := p.decodeJSONString(b)
	var res Result
	if err == nil {
		res = p.check(text, opts, recent)
		// decodeJSONString leaves the UTF-8 check of a plain string to the
		// scan that counts it (for any other line it was done already).
		if p.scan.badUTF8 >= 0 {
			err = errNotUTF8
		}
	}
	if err != nil {
		out = append(out, `{"line":`...)
		out = appendInt(out, line)
		out = append(out, `,"error":`...)
		out = appendJSONString(out, err.Error())
		return append(out, "}\n"...)
	}
	out = append(out, `{"line":`...)
	out = appendInt(out, line)
	out = append(out, `,"weighted_length":`...)
	out = appendInt(out, res.WeightedLength)
	out = append(out, `,"max_length":`...)
	out = appendInt(out, res.MaxLength)
	out = append(out, `,"valid":`...)
	out = strconv.AppendBool(out, res.Valid)
	out = append(out, `,"warnings":`...)
	out = appendJSONStrings(out, res.Warnings)
	out = append(out, `,"errors":`...)
	out = appendJSONStrings(out, res.Errors)
	out = append(out, `,"permillage":`...)
	out = appendInt(out, res.Permillage)
	out = append(out, `,"urls":`...)
	out = appendInt(out, res.URLs)
	out = append(out, `,"mentions":`...)
	out = appendInt(out, res.Mentions)
	out = append(out, `,"hashtags":`...)
	out = appendInt(out, res.Hashtags)
	return append(out, "}\n"...)
}

var errNotUTF8 = errors.New("line is not valid UTF-8")

// appendInt is strconv.AppendInt(out, int64(n), 10), with the numbers
// below 100,000 (a result line's, and the line numbers of most batches)
// written directly.
func appendInt(out []byte, n int) []byte {
	switch {
	case n < 0 || n >= 100000:
		return strconv.AppendInt(out, int64(n), 10)
	case n < 10:
		return append(out, byte('0'+n))
	case n < 100:
		return append(out, byte('0'+n/10), byte('0'+n%10))
	case n < 1000:
		return append(out, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
	case n < 10000:
		return append(out, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
	}
	return append(out, byte('0'+n/10000), byte('0'+n/1000%10), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// decodeJSONString decodes one line holding a JSON string. Strings without
// escapes (most tweets) are taken as they are, without encoding/json and
// without a copy; others are decoded into p's buffer. A JSON string is not
// checked for valid UTF-8 here: the caller's scan of the text does it. Either way the
// string shares memory that is reused: it is valid only until the next
// line (batchLine drops it before then).
func (p *parser) decodeJSONString(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", errors.New("empty line (want a JSON string)")
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		if inner := b[1 : len(b)-1]; plainJSON(inner) {
			return bytesToString(inner), nil
		}
	}
	var ok bool
	if p.json, ok = unquoteJSON(p.json[:0], b); ok {
		return bytesToString(p.json), nil // invalid UTF-8 stays invalid: the scan sees it
	}
	if !utf8.Valid(b) {
		return "", errNotUTF8
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

// plainJSON reports whether b holds no control character, '"' or '\\':
// then, quoted, it is a JSON string that means itself. The two bytes are
// looked for with bytes.IndexByte (vectorised); control characters sixteen
// bytes at a time.
func plainJSON(b []byte) bool {
	if bytes.IndexByte(b, '"') >= 0 || bytes.IndexByte(b, '\\') >= 0 {
		return false
	}
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+16 <= len(b); i += 16 {
		w := b[i : i+16 : i+16]
		v, x := binary.LittleEndian.Uint64(w), binary.LittleEndian.Uint64(w[8:])
		// Non-zero iff some byte is below 0x20 (the classic has-less-than
		// test).
		if ((v-0x20*ones)&^v|(x-0x20*ones)&^x)&highs != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return false
		}
	}
	return true
}

// bytesToString is b as a string without a copy: b must not change while
// the string is in use.
func bytesToString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// unquoteJSON appends to out the decoded JSON string literal b, which may
// hold escapes (RFC 8259 §7); it reports false for anything else,
// including malformed escapes. Lone surrogates become U+FFFD, as
// encoding/json makes them.
func unquoteJSON(out, b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return out, false
	}
	b = b[1 : len(b)-1]
	for i := 0; i < len(b); i++ {
		// The plain run up to the next escape, copied at once.
		k := bytes.IndexByte(b[i:], '\\')
		if k < 0 {
			k = len(b) - i
		}
		if run := b[i : i+k]; len(run) > 0 {
			if !plainJSON(run) {
				return out, false // an unescaped '"' or control character
			}
			out = append(out, run...)
			i += k
			if i == len(b) {
				break
			}
		}
		i++ // past the '\\'
		if i >= len(b) {
			return out, false
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
			r, ok := textutil.Hex4(b, i+1)
			if !ok {
				return out, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(-1), false
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					r2, ok2 = textutil.Hex4(b, i+3)
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
			return out, false
		}
	}
	return out, true
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
	if plainJSON(unsafe.Slice(unsafe.StringData(s), len(s))) {
		// Nothing to escape (our messages, mostly): copied at once.
		out = append(out, '"')
		out = append(out, s...)
		return append(out, '"')
	}
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
