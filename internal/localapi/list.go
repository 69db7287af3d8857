package localapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
)

// listChunk is how many posts one read transaction of a streamed list
// reads: the daemon holds at most this many posts (and their JSON) at a
// time, and no read transaction stays open while a slow client reads.
const listChunk = 1024

// wholeChunk is listChunk for the whole list read from runs
// (sqlstore.ListWireRuns). Its pages go to the socket as they were read,
// with no second buffer, so twice the posts take the memory listChunk's
// did; and each page begins with a seek, which in post_wire_run reads
// whole runs (7 to 10 of them). Its pages are read into one buffer of
// wholeBuf bytes, made at that size at once: grown from nothing it left
// about 4 MB of garbage per list, and the collections that take it. A
// page of posts of about 660 bytes (sqlstoretest.ListSpec) fills 1.4 MB;
// a buffer of 2 MB, live all through the list, raised the daemon's peak
// RSS over a 100k list by about 1 MB more.
const (
	wholeChunk = 2 * listChunk
	wholeBuf   = 3 << 19 // 1.5 MB
)

// listParams are the query parameters GET /v1/posts knows.
var listParams = map[string]bool{"status": true, "account": true, "from": true, "to": true, "limit": true, "cursor": true}

// listRequest is a parsed GET /v1/posts.
type listRequest struct {
	q       sqlstore.ListQuery
	account string // as given, resolved inside the read
	after   *sqlstore.ListCursor
	limit   int // 0: everything, streamed
}

// parseListRequest reads the query; every bad value is a one-line 400.
func parseListRequest(v url.Values) (listRequest, error) {
	var lr listRequest
	for k := range v {
		if !listParams[k] {
			return lr, badRequest(fmt.Sprintf("unknown query parameter %q (GET /v1/posts takes status, account, from, to, limit, cursor)", k))
		}
	}
	for _, s := range v["status"] {
		for _, one := range strings.Split(s, ",") {
			st, err := post.ParseStatus(strings.TrimSpace(one))
			if err != nil {
				return lr, badRequest(err.Error())
			}
			lr.q.Statuses = append(lr.q.Statuses, st)
		}
	}
	lr.account = v.Get("account")
	for _, b := range []struct {
		name string
		dst  **time.Time
	}{{"from", &lr.q.From}, {"to", &lr.q.To}} {
		if s := v.Get(b.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return lr, badRequest(fmt.Sprintf("%s must be an RFC 3339 time such as 2026-11-27T09:00:00Z, not %q", b.name, s))
			}
			*b.dst = &t
		}
	}
	if lr.q.From != nil && lr.q.To != nil && !lr.q.From.Before(*lr.q.To) {
		return lr, badRequest("from must be before to")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > api.ListMaxLimit {
			return lr, badRequest(fmt.Sprintf("limit must be a number from 1 to %d, not %q", api.ListMaxLimit, s))
		}
		lr.limit = n
	}
	if s := v.Get("cursor"); s != "" {
		c, err := decodeCursor(s)
		if err != nil {
			return lr, badRequest(fmt.Sprintf("cursor %q is not one this daemon gave (pass X-Next-Cursor as it came)", s))
		}
		lr.after = &c
	}
	return lr, nil
}

// encodeCursor makes a cursor opaque: clients pass it back as it came.
func encodeCursor(c sqlstore.ListCursor) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "1|%d|%s|%d", c.Rank, c.At, c.ID))
}

func decodeCursor(s string) (sqlstore.ListCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return sqlstore.ListCursor{}, err
	}
	f := strings.Split(string(b), "|")
	if len(f) != 4 || f[0] != "1" {
		return sqlstore.ListCursor{}, errors.New("bad cursor")
	}
	// The time is compared as stored text, so it is not parsed: a row a
	// person edited with sqlite3 may hold another RFC 3339 form.
	rank, err1 := strconv.Atoi(f[1])
	id, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil || rank < sqlstore.RankAttention || rank > sqlstore.RankOther || id <= 0 || f[2] == "" || len(f[2]) > 64 {
		return sqlstore.ListCursor{}, errors.New("bad cursor")
	}
	return sqlstore.ListCursor{Rank: rank, At: f[2], ID: id}, nil
}

// handleListPosts answers GET /v1/posts: a JSON array of posts in list
// order (docs/api.md). With limit, one page whose successor is named in
// X-Next-Cursor; without, every matching post, read listChunk posts
// (wholeChunk for the whole list) per read transaction and written as
// each chunk is read, so the daemon's memory does not grow with the
// number of posts.
func (s *Server) handleListPosts(w http.ResponseWriter, r *http.Request) {
	lr, err := parseListRequest(r.URL.Query())
	if err != nil {
		s.fail(w, "list posts", err)
		return
	}
	page := lr.limit
	if page == 0 {
		page = listChunk
	}
	aw := postArrayWriter{}
	cursor := lr.after
	sent, staleSeen := 0, 0
	var wbuf []byte // the stored forms of a chunk, reused by the next
	// The whole list with no filter reads runs of stored forms
	// (sqlstore.ListWireRuns): a row per run, not per post.
	whole := lr.limit == 0 && lr.account == "" && len(lr.q.Statuses) == 0 && lr.q.From == nil && lr.q.To == nil
	for {
		var wp sqlstore.WirePage
		// Upload progress is added to a post's own form; a run holds
		// several, so a chunk read while uploads run is read post by post.
		uploads := s.changes.uploadsNow()
		err := s.store.View(r.Context(), func(tx *sqlstore.Tx) error {
			if lr.account != "" && lr.q.AccountID == "" {
				a, err := tx.Account(lr.account)
				if errors.Is(err, sqlstore.ErrNotFound) {
					return badRequest(fmt.Sprintf("no connected account %q (see `psnd auth status`)", lr.account))
				}
				if err != nil {
					return err
				}
				lr.q.AccountID = a.ID
			}
			if !whole || len(uploads) > 0 {
				var err error
				wp, err = tx.ListWirePage(lr.q, cursor, page, wbuf[:0])
				return err
			}
			// With posts stale ListWireRuns reads post by post, and
			// stale ones from their columns: in pages of listChunk.
			unstored, err := tx.CountStaleWire()
			if err != nil {
				return err
			}
			n := listChunk
			if unstored == 0 {
				n = wholeChunk
				if cap(wbuf) < wholeBuf {
					wbuf = make([]byte, 0, wholeBuf)
				}
			}
			wp, err = tx.ListWireRuns(cursor, n, wbuf[:0])
			return err
		})
		if err != nil {
			if !aw.started {
				s.fail(w, "list posts", err)
			} else {
				// Too late for a status: the client sees a cut answer
				// (no closing bracket), never a complete-looking one.
				s.log.Error("list posts", "err", err)
			}
			return
		}
		stale := 0
		if wp.Joined != nil {
			// Read from runs, every item a stored form: the page goes
			// out as the store read it, not copied.
			aw.addJoined(wp.Joined, wp.Posts)
		} else {
			for _, it := range wp.Items {
				if it.Post != nil {
					stale++
					aw.add(s.wire(it.Post))
					continue
				}
				u, uploading := uploads[it.ID]
				if !uploading {
					aw.addJSON(it.JSON)
					continue
				}
				// The upload's progress lives in memory, not in the stored
				// form: it is the last field, so it goes before the final brace.
				aw.addJSON(it.JSON[:len(it.JSON)-1])
				aw.buf = appendUploadJSON(aw.buf, &u)
				aw.buf = append(aw.buf, '}')
			}
		}
		sent += wp.Posts
		staleSeen += stale
		if !aw.started {
			if lr.limit > 0 && wp.More {
				w.Header().Set(api.NextCursorHeader, encodeCursor(wp.Last))
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
		}
		if lr.limit > 0 || !wp.More {
			aw.finish()
		}
		if err := aw.flush(w); err != nil {
			return // the client went away
		}
		if lr.limit > 0 || !wp.More {
			break
		}
		wbuf = wp.Buf
		last := wp.Last
		cursor = &last
	}
	if sent >= bigList || staleSeen >= wireRefillAfter {
		// Either way the release runs FillWire first, so the next list
		// finds these posts' wire forms stored.
		s.mem.bigRequestDone()
	}
}

// wireRefillAfter is how many stale posts a list meets before it has the
// daemon store their wire forms at once rather than when it goes quiet.
const wireRefillAfter = 256

// bigList is the size of a list after which the daemon returns the memory
// it used to the OS at once rather than when it next goes quiet (memQuiet
// later). A release closes pooled connections, which the next command
// may open again, and hands back pages the next list faults in again:
// after lists of 10,000 posts, which leave a few MB, it cost each next
// one about a third of its daemon CPU (BENCHMARKS.md).
const bigList = 20_000

// postArrayWriter writes a JSON array of posts in pieces; the bytes are
// those json.Encoder writes for the whole slice.
type postArrayWriter struct {
	buf      []byte
	joined   []byte // posts written after buf as they are (addJoined)
	n        int
	finished bool
	started  bool
}

// sep begins the next post: the array, or a comma after the last post.
func (a *postArrayWriter) sep() {
	if a.n == 0 {
		a.buf = append(a.buf, '[')
	} else {
		a.buf = append(a.buf, ',')
	}
}

func (a *postArrayWriter) add(p api.Post) {
	a.sep()
	a.n++
	a.buf = appendPostJSON(a.buf, &p)
}

// addJSON adds a post already in its wire form.
func (a *postArrayWriter) addJSON(j []byte) {
	a.sep()
	a.n++
	a.buf = append(a.buf, j...)
}

// addJoined adds n posts in their wire forms joined by commas
// (sqlstore.WirePage.Joined). They are written as they are, not copied:
// nothing but finish may follow before the next flush.
func (a *postArrayWriter) addJoined(j []byte, n int) {
	a.sep()
	a.n += n
	a.joined = j
}

func (a *postArrayWriter) finish() {
	if a.n == 0 {
		a.buf = append(a.buf, '[')
	}
	a.finished = true
}

// flush sends what is buffered and empties the buffer, keeping at most
// a chunk's capacity (about 1 MB: 1,024 posts of a few hundred bytes,
// grown by doubling).
func (a *postArrayWriter) flush(w http.ResponseWriter) error {
	a.started = true
	_, err := w.Write(a.buf)
	if err == nil && a.joined != nil {
		_, err = w.Write(a.joined)
	}
	if err == nil && a.finished {
		_, err = io.WriteString(w, "]\n")
	}
	a.joined = nil
	if cap(a.buf) > 4<<20 {
		a.buf = nil
	} else {
		a.buf = a.buf[:0]
	}
	return err
}
