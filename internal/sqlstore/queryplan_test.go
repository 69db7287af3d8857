package sqlstore

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/slots"
)

// Issue 12 (scale): a query the daemon runs on every create, scheduler
// round or list must not read a whole table that grows with the posts,
// nor sort or materialise its rows in a temporary B-tree (which spills to
// a temporary file past the 1 MiB page cache). The plans below are those
// SQLite picks without statistics, as in the daemon (it never runs
// ANALYZE): they do not depend on what the tables hold.

// growing are the tables that grow with the posts.
var growing = []string{"posts", "post_wire", "post_wire_run", "media"}

// planAllowed are the hot-path queries (by text, or "trigger name" for a
// trigger's statements) whose plan has a step the check refuses, each
// with why that step stays small.
var planAllowed = map[string]string{
	// A media row's update marks its post stale: the DISTINCT holds the
	// root ids of the row's old and new post, at most two.
	"trigger media_wire_update": "holds at most two ids",
	// A list page with stale wire forms merges in those of its range,
	// found from post_wire_stale (at most wireStaleMax ids, else the page
	// is read from posts_list) and sorted with the page's LIMIT: the
	// temporary B-tree holds at most a page of (list_at, id).
	stalePageAsc:  "sorts at most a page of the stale posts",
	stalePageDesc: "sorts at most a page of the stale posts",
}

// explainPlan returns the details of query's plan, one per step. The
// query's parameters are bound to NULL: a plan does not depend on them.
func explainPlan(t *testing.T, s *Store, query string) []string {
	t.Helper()
	var lastErr error
	// database/sql wants as many arguments as the query has parameters.
	for n := range 32 {
		rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+query, make([]any, n)...)
		if err != nil {
			lastErr = err
			continue
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		return plan
	}
	t.Fatalf("explain %s: %v", query, lastErr)
	return nil
}

var aliasRE = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|UPDATE)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?`)

// notAlias are the words that may follow a table's name and are not an
// alias of it.
var notAlias = []string{"WHERE", "ON", "INDEXED", "NOT", "CROSS", "JOIN", "LEFT", "ORDER", "GROUP", "LIMIT", "SET", "USING"}

// byStatusRE is a search of an index by the status alone: it visits every
// post of that status (published posts grow without bound, scheduled
// ones with the queue), as the health check's counts did.
var byStatusRE = regexp.MustCompile(`^SEARCH \w+ USING (?:COVERING )?INDEX \w+ \((?:\w+\.)?status=\?\)$`)

// scanIndexRE is a scan of a whole index.
var scanIndexRE = regexp.MustCompile(`^SCAN \w+ USING (?:COVERING )?INDEX (\w+)`)

// planProblems lists the steps of plan the check refuses: a full scan of
// a growing table (under any alias query gives it) unless through one of
// the partial indexes named in partial (which hold only the few posts
// the query wants), a search by status alone, and a temporary B-tree in
// a query that reads one. (A query of only the small tables — accounts,
// settings, slots, the usage counts — may sort: they hold rows per
// account, not per post.)
func planProblems(query string, plan []string, partial map[string]bool) []string {
	names := map[string]bool{}
	for _, m := range aliasRE.FindAllStringSubmatch(query, -1) {
		if slices.Contains(growing, strings.ToLower(m[1])) {
			names[m[1]] = true
			if m[2] != "" && !slices.Contains(notAlias, strings.ToUpper(m[2])) {
				names[m[2]] = true
			}
		}
	}
	var bad []string
	for _, step := range plan {
		f := strings.Fields(step)
		switch {
		case len(f) >= 2 && f[0] == "SCAN" && names[f[1]]:
			if m := scanIndexRE.FindStringSubmatch(step); m == nil || !partial[m[1]] {
				bad = append(bad, step)
			}
		case byStatusRE.MatchString(step):
			bad = append(bad, step)
		case strings.Contains(step, "TEMP B-TREE") && len(names) > 0:
			bad = append(bad, step)
		}
	}
	return bad
}

var triggerVarRE = regexp.MustCompile(`\b(?:NEW|OLD)\.\w+`)

// triggerStatements returns the statements of the triggers on posts and
// media, each row value of the firing row (NEW.x, OLD.x) made a
// parameter, so that they can be explained like a query: EXPLAIN QUERY
// PLAN of the statement that fires a trigger does not show its plan.
func triggerStatements(t *testing.T, s *Store) map[string]string {
	t.Helper()
	// The triggers on accounts fire when an account's username changes (a
	// login), which marks its every post stale anyway.
	rows, err := s.DB().Query(`SELECT name, sql FROM sqlite_schema
		WHERE type = 'trigger' AND tbl_name IN ('posts', 'media', 'post_wire') ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			t.Fatal(err)
		}
		body := sql[strings.Index(sql, "BEGIN")+len("BEGIN") : strings.LastIndex(sql, "END")]
		for st := range strings.SplitSeq(body, ";") {
			if st = strings.TrimSpace(st); st != "" {
				out[triggerVarRE.ReplaceAllString(st, "?")] = name
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no trigger statements in the schema")
	}
	return out
}

// TestHotPathQueryPlans explains every query the daemon runs to create a
// post (as the local API does), in its scheduler's rounds (what is due,
// pre-flight, claim, publish, the budget's counts), to store wire forms
// (FillWire) and to list, plus the statements of the triggers those
// writes fire, over a migrated database file; it fails on a full scan of
// a table that grows with the posts or on a temporary B-tree, unless the
// query is in planAllowed. The queries are the store's own: those its
// statement cache holds after the calls.
func TestHotPathQueryPlans(t *testing.T) {
	ctx := context.Background()
	seed := openTemp(t)
	mustAccount(t, seed)
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	// Posts of every kind, some pre-flighted, one at risk, one held by the
	// budget, most with stored wire forms.
	spec, err := slots.ParseSpec("mon-fri 09:00,13:30")
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Update(ctx, func(tx *Tx) error {
		if _, err := tx.AddSlots("1", spec, "UTC", now); err != nil {
			return err
		}
		for i := range 60 {
			at := now.Add(time.Duration(i-10) * time.Minute)
			np := NewPost{AccountID: "1", Status: post.StatusScheduled, ScheduledAt: &at,
				Tweets: []NewTweet{{Text: "seed post"}}}
			if i%7 == 0 {
				np.Status, np.ScheduledAt = post.StatusDraft, nil
			}
			if i%10 == 0 {
				np.Tweets = append(np.Tweets, NewTweet{Text: "seed reply"})
			}
			p, err := tx.CreatePost(np, now)
			if err != nil {
				return err
			}
			if np.Status == post.StatusScheduled && i%3 == 0 {
				reason := ""
				if i == 3 {
					reason = "at risk"
				}
				if _, err := tx.SetPreflight(p.ID, p.RunID, reason, now); err != nil {
					return err
				}
			}
			if i == 1 {
				if err := tx.HoldOverBudget(DueRef{ID: p.ID, RunID: p.RunID}, "over budget", now); err != nil {
					return err
				}
			}
		}
		_, err := tx.FillWire(50, encodeAll)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// A store of its own on the file, so that its statement cache holds
	// only what the calls below run.
	s, err := Open(ctx, seed.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const owner = "plan-test"
	if err := s.Update(ctx, func(tx *Tx) error {
		// The create path of the local API.
		if _, err := tx.Account("alice"); err != nil {
			return err
		}
		if _, err := tx.RecentTexts("1", now.Add(-24*time.Hour), 50); err != nil {
			return err
		}
		pk, err := tx.NewSlotPicker("1", now, 0)
		if err != nil {
			return err
		}
		at, err := pk.Next()
		if err != nil {
			return err
		}
		p, err := tx.CreatePost(NewPost{AccountID: "1", Status: post.StatusScheduled, ScheduledAt: &at,
			Tweets: []NewTweet{{Text: "new post", Media: []post.Media{{Path: "/m/a.png", SHA256: "ab", MimeType: "image/png", Size: 10}}},
				{Text: "its reply"}}}, now)
		if err != nil {
			return err
		}
		if _, err := tx.GetPost(p.ID); err != nil {
			return err
		}
		// A scheduler round: pre-flight, what is due, a claim and a publish.
		if _, _, err := tx.NextPreflight(); err != nil {
			return err
		}
		refs, err := tx.PreflightDue(now.Add(2*time.Hour), 500)
		if err != nil {
			return err
		}
		if len(refs) == 0 {
			t.Error("PreflightDue found nothing: the seed is wrong")
		}
		if _, err := tx.SetPreflight(refs[0].ID, refs[0].RunID, "", now); err != nil {
			return err
		}
		if _, _, err := tx.NextDueExcept([]int64{1}, []string{"2"}); err != nil {
			return err
		}
		due, err := tx.DueAtExcept([]int64{1}, []string{"2"}, now, 100)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			t.Error("DueAtExcept found nothing: the seed is wrong")
		}
		for _, q := range []func() error{
			func() error { _, err := tx.CountHeldOverBudget(); return err },
			func() error { _, err := tx.HeldOverBudget(); return err },
			func() error { _, err := tx.CountAtRisk(); return err },
			func() error { _, err := tx.CountFailedSince(now.Add(-time.Hour)); return err },
			func() error { _, err := tx.MonthCounts("2026-11"); return err },
			func() error { _, err := tx.Started(due[0].ID); return err },
			func() error { _, err := tx.CreatesLeft(due[0].ID); return err },
		} {
			if err := q(); err != nil {
				return err
			}
		}
		c, err := tx.ClaimDueBy(due[0], owner, now, now, now.Add(time.Minute))
		if err != nil {
			return err
		}
		for _, tw := range c.Tweets {
			if err := tx.MarkSending(c.ID, tw.RowID, owner, now); err != nil {
				return err
			}
			if err := tx.RecordTweetID(c.ID, tw.RowID, "x"+time.Duration(tw.RowID).String(), now); err != nil {
				return err
			}
		}
		if err := tx.FinishPublished(c.ID, owner, now); err != nil {
			return err
		}
		// Lists with stale posts to merge in, then the stored forms, then
		// none stale.
		for _, q := range []ListQuery{{}, {Statuses: []post.Status{post.StatusScheduled}, AccountID: "1"}} {
			page, err := tx.ListWirePage(q, nil, 5, nil)
			if err != nil {
				return err
			}
			if _, err := tx.ListWirePage(q, &page.Last, 5, nil); err != nil {
				return err
			}
			if _, _, _, err := tx.ListPage(q, nil, 5); err != nil {
				return err
			}
		}
		if _, err := tx.FillWire(1000, encodeAll); err != nil {
			return err
		}
		if _, err := tx.ListWirePage(ListQuery{}, nil, 5, nil); err != nil {
			return err
		}
		// Runs: built, one deleted by a write, read across the hole.
		if _, err := tx.BuildWireRuns(1000); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM post_wire WHERE id = (SELECT min(id) FROM post_wire)`); err != nil {
			return err
		}
		if _, err := tx.ListWireRuns(nil, 1000, nil); err != nil {
			return err
		}
		_, err = tx.CountStaleWire()
		return err
	}); err != nil {
		t.Fatal(err)
	}

	s.stmtMu.Lock()
	queries := make(map[string]string, len(s.stmts))
	for q := range s.stmts {
		queries[q] = "query"
	}
	s.stmtMu.Unlock()
	for _, q := range []string{nextPreflightQuery, preflightUncheckedQuery, preflightAtRiskQuery} {
		if queries[q] == "" {
			t.Errorf("the calls did not run %q", q)
		}
		t.Logf("pre-flight: %s\n  plan: %s", oneLine(q), strings.Join(explainPlan(t, s, q), " | "))
	}
	for q, trigger := range triggerStatements(t, s) {
		queries[q] = "trigger " + trigger
	}
	partial := partialIndexes(t, s)
	checked := 0
	for q, what := range queries {
		plan := explainPlan(t, s, q)
		bad := planProblems(q, plan, partial)
		if len(bad) == 0 {
			checked++
			continue
		}
		why, ok := planAllowed[q]
		if !ok {
			why, ok = planAllowed[what]
		}
		if ok {
			t.Logf("allowed (%s): %s\n  plan: %s", why, oneLine(q), strings.Join(plan, " | "))
			continue
		}
		t.Errorf("%s: %s\n  plan: %s\n  refused: %s", what, oneLine(q), strings.Join(plan, " | "), strings.Join(bad, "; "))
	}
	t.Logf("%d queries and trigger statements explained", len(queries))
}

// TestPlanProblems: the check refuses a full scan of a growing table
// under its name or an alias, in a query, an update or a delete, and a
// temporary B-tree in a query that reads one; not a search, nor a scan of
// a small table.
func TestPlanProblems(t *testing.T) {
	partial := map[string]bool{"posts_over_budget": true}
	for _, c := range []struct {
		query string
		plan  []string
		bad   int
	}{
		{"SELECT id FROM posts WHERE status = ?", []string{"SCAN posts"}, 1},
		{"SELECT p.id FROM posts p WHERE p.status = ?", []string{"SCAN p"}, 1},
		{"SELECT p.id FROM posts AS p ORDER BY p.id", []string{"SCAN p USING INDEX posts_list"}, 1},
		{"UPDATE posts SET x = 1 WHERE y = ?", []string{"SCAN posts"}, 1},
		{"DELETE FROM post_wire WHERE account_id = ?", []string{"SCAN post_wire"}, 1},
		{"SELECT m.id FROM media m JOIN posts t ON t.id = m.post_id", []string{"SCAN m", "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)"}, 1},
		{"SELECT id FROM posts WHERE status = ? ORDER BY due_at", []string{"SEARCH posts USING INDEX posts_root_status (status=?)", "USE TEMP B-TREE FOR ORDER BY"}, 2},
		{"SELECT count(*) FROM posts WHERE status = ? AND sub_status = ?", []string{"SEARCH posts USING INDEX posts_root_status (status=?)"}, 1},
		{"SELECT count(*) FROM posts p WHERE p.status = ?", []string{"SEARCH p USING COVERING INDEX posts_root_status (status=?)"}, 1},
		{"SELECT count(*) FROM posts WHERE sub_status = ?", []string{"SCAN posts USING INDEX posts_over_budget"}, 0},
		{"SELECT count(*) FROM posts WHERE status = ?", []string{"SCAN posts USING COVERING INDEX posts_root_status"}, 1},
		{"SELECT id FROM posts WHERE status = ? AND scheduled_at < ?", []string{"SEARCH posts USING INDEX posts_root_status (status=? AND scheduled_at<?)"}, 0},
		{"SELECT id FROM posts WHERE id = ?", []string{"SEARCH posts USING INTEGER PRIMARY KEY (rowid=?)"}, 0},
		{"SELECT count(*) FROM post_wire_stale", []string{"SCAN post_wire_stale"}, 0},
		{"SELECT s.id FROM slots s ORDER BY s.minute", []string{"SCAN s", "USE TEMP B-TREE FOR ORDER BY"}, 0},
	} {
		if got := planProblems(c.query, c.plan, partial); len(got) != c.bad {
			t.Errorf("%s with plan %q: refused %q, want %d steps refused", c.query, c.plan, got, c.bad)
		}
	}
}

// partialIndexes names the partial indexes of the growing tables.
func partialIndexes(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	rows, err := s.DB().Query(`SELECT name FROM sqlite_schema
		WHERE type = 'index' AND tbl_name IN ('posts', 'post_wire', 'media') AND sql LIKE '% WHERE %'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out[name] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func oneLine(q string) string { return strings.Join(strings.Fields(q), " ") }
