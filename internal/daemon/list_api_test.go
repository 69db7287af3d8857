package daemon

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/sqlstore/sqlstoretest"
)

// seedMixed writes n posts of every status for two accounts before the
// daemon starts: post i is scheduled at base+i minutes.
func seedMixed(t *testing.T, cfg Config, n int, base time.Time) {
	t.Helper()
	s := openStore(t, cfg)
	defer s.Close()
	if _, err := sqlstoretest.SeedPosts(context.Background(), s, sqlstoretest.Spec{
		Posts: n, ThreadEvery: 5, ThreadLen: 2, Status: sqlstoretest.Mix,
		At: func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) },
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx *sqlstore.Tx) error {
		return tx.UpsertAccount(post.Account{ID: "2002", Username: "bob"}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
}

// getRaw asks the daemon directly, for what the typed client never sends.
func getRaw(t *testing.T, socket, path string) (int, string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	resp, err := hc.Get("http://psnd" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// encodeCursor makes a cursor in the daemon's format (internal/localapi's
// encodeCursor) for a position it never gave.
func encodeCursor(c sqlstore.ListCursor) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "1|%d|%s|%d", c.Rank, c.At, c.ID))
}

// Bad query values are one-line 400s naming the parameter.
func TestListBadQuery(t *testing.T) {
	home := shortHome(t)
	r := start(t, testConfig(t, home, &secrets.Memory{}))
	for _, c := range []struct{ q, want string }{
		{"status=bogus", `unknown status "bogus"`},
		{"status=failed,nope", `unknown status "nope"`},
		{"limit=0", "limit must be a number from 1 to 1000"},
		{"limit=1001", "limit must be a number from 1 to 1000"},
		{"limit=ten", "limit must be"},
		{"cursor=abc", "cursor \"abc\" is not one this daemon gave"},
		{"cursor=" + encodeCursor(sqlstore.ListCursor{Rank: 7, At: "2026-01-01T00:00:00.000Z", ID: 1}), "is not one this daemon gave"},
		{"from=yesterday", "from must be an RFC 3339 time"},
		{"to=2026-13-01T00:00:00Z", "to must be an RFC 3339 time"},
		{"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from must be before to"},
		{"account=nobody", `no connected account "nobody"`},
		{"stauts=failed", `unknown query parameter "stauts"`},
	} {
		code, body := getRaw(t, r.cfg.Env.SocketPath(), api.PathPosts+"?"+c.q)
		var eb api.ErrorBody
		_ = json.Unmarshal([]byte(body), &eb)
		if code != http.StatusBadRequest || !strings.Contains(eb.Error.Message, c.want) || eb.Error.Code != api.CodeBadRequest ||
			strings.Contains(eb.Error.Message, "\n") {
			t.Errorf("?%s: %d %s, want 400 bad_request with %q on one line", c.q, code, body, c.want)
		}
	}
}

// A client walking pages with the cursor sees every post once, in the
// order of the unpaged answer, and the filters select what they say.
func TestListPagesAndFilters(t *testing.T) {
	home := shortHome(t)
	cfg := testConfig(t, home, &secrets.Memory{})
	base := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	seedMixed(t, cfg, 230, base)
	r := start(t, cfg)
	ctx := context.Background()

	all, err := r.client.ListPosts(ctx, "")
	if err != nil || len(all) != 230 {
		t.Fatalf("unpaged list: %d posts, %v", len(all), err)
	}
	var ids []int64
	q := apiclient.ListQuery{Limit: 17}
	for pages := 0; ; pages++ {
		page, next, err := r.client.ListPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 17 || (next != "" && len(page) != 17) {
			t.Fatalf("page %d has %d posts, next %q", pages, len(page), next)
		}
		for _, p := range page {
			ids = append(ids, p.ID)
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	if len(ids) != len(all) {
		t.Fatalf("pages gave %d posts, the whole list %d", len(ids), len(all))
	}
	for i := range ids {
		if ids[i] != all[i].ID {
			t.Fatalf("post %d: page walk %d, whole list %d", i, ids[i], all[i].ID)
		}
	}
	// Sections: attention, then scheduled soonest first, then the rest
	// newest first.
	rank := map[string]int{"failed": 0, "retry": 0, "publishing": 0, "scheduled": 1, "draft": 2, "published": 2}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if rank[a.Status] > rank[b.Status] {
			t.Fatalf("post %d (%s) before %d (%s)", a.ID, a.Status, b.ID, b.Status)
		}
		if a.Status == "scheduled" && b.Status == "scheduled" && a.ScheduledAt.After(*b.ScheduledAt) {
			t.Fatalf("scheduled %d at %v before %d at %v", a.ID, a.ScheduledAt, b.ID, b.ScheduledAt)
		}
	}

	count := func(q apiclient.ListQuery, ok func(api.Post) bool) int {
		t.Helper()
		n := 0
		if err := r.client.EachPost(ctx, q, func(p api.Post) error {
			if !ok(p) {
				return fmt.Errorf("post %d (%s, @%s, %v) does not match %+v", p.ID, p.Status, p.Account, p.ScheduledAt, q)
			}
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := map[string]int{}
	for _, p := range all {
		want[p.Status]++
	}
	if n := count(apiclient.ListQuery{Statuses: []string{"failed", "draft"}}, func(p api.Post) bool {
		return p.Status == "failed" || p.Status == "draft"
	}); n != want["failed"]+want["draft"] {
		t.Errorf("failed,draft: %d posts, want %d", n, want["failed"]+want["draft"])
	}
	if n := count(apiclient.ListQuery{Account: "bob"}, func(api.Post) bool { return false }); n != 0 {
		t.Errorf("bob has %d posts, want none", n)
	}
	if n := count(apiclient.ListQuery{Account: "@Alice"}, func(p api.Post) bool { return p.Account == "alice" }); n != 230 {
		t.Errorf("alice has %d posts, want 230", n)
	}
	from, to := base.Add(75*time.Minute), base.Add(180*time.Minute)
	n := count(apiclient.ListQuery{Statuses: []string{"scheduled"}, From: &from, To: &to}, func(p api.Post) bool {
		return !p.ScheduledAt.Before(from) && p.ScheduledAt.Before(to)
	})
	wantN := 0
	for _, p := range all {
		if p.Status == "scheduled" && !p.ScheduledAt.Before(from) && p.ScheduledAt.Before(to) {
			wantN++
		}
	}
	if n != wantN || wantN == 0 {
		t.Errorf("scheduled in [from, to): %d posts, want %d", n, wantN)
	}
	if n := count(apiclient.ListQuery{Limit: 5}, func(api.Post) bool { return true }); n != 5 {
		t.Errorf("limit 5 gave %d", n)
	}
	var ae *api.Error
	if _, _, err := r.client.ListPage(ctx, apiclient.ListQuery{Limit: 3, Statuses: []string{"nope"}}); !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
		t.Errorf("bad status: %v", err)
	}
}
