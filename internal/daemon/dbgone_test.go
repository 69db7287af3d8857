package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
)

// TestDatabaseGoneUnderDaemon deletes or replaces psn.db while the daemon
// runs: creates are refused with a typed error, health and doctor say so,
// and (deleted) the next start refuses to make an empty database until the
// user removes psnd.initialized.
func TestDatabaseGoneUnderDaemon(t *testing.T) {
	for _, removed := range []bool{true, false} {
		name := map[bool]string{true: "deleted", false: "replaced"}[removed]
		t.Run(name, func(t *testing.T) {
			home := shortHome(t)
			kr := &secrets.Memory{}
			cfg := testConfig(t, home, kr)
			seedAccount(t, cfg)
			r := start(t, cfg)
			ctx := context.Background()
			waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
			if _, err := r.client.CreatePost(ctx, api.CreatePost{Text: "kept: שלום 🐦‍🔥", Account: "alice", Draft: true}); err != nil {
				t.Fatal(err)
			}
			db := cfg.Env.DBPath()
			if removed {
				os.Remove(db)
			} else {
				other := filepath.Join(home, "restored.db")
				os.WriteFile(other, []byte{}, 0o600)
				os.Rename(other, db)
			}

			_, err := r.client.CreatePost(ctx, api.CreatePost{Text: "lost?", Account: "alice", Draft: true})
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Code != api.CodeDatabaseGone || ae.Status != 503 || !strings.Contains(ae.Message, name) {
				t.Fatalf("create after the database was %s: err = %v, want a database_gone error", name, err)
			}
			h, err := r.client.Health(ctx)
			if err != nil || h.Status != api.HealthDatabaseGone || !strings.Contains(h.Problem, db) {
				t.Fatalf("health = %+v, %v; want database_gone naming %s", h, err, db)
			}
			rep, err := r.client.Doctor(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK {
				t.Errorf("doctor ok although the database was %s: %+v", name, rep.Checks)
			}
			var dbCheck api.DoctorCheck
			for _, c := range rep.Checks {
				if c.Name == "database" {
					dbCheck = c
				}
			}
			if dbCheck.Status != api.CheckFail || !strings.Contains(dbCheck.Message, name) || dbCheck.Fix == "" {
				t.Errorf("database check = %+v, want a failure saying %s, with a fix", dbCheck, name)
			}
			// The daemon saved the data it still had open: the post
			// created before the loss is in the copy it names.
			rescued := rescuedCopy(t, home)
			if !strings.Contains(ae.Message, rescued) || !strings.Contains(h.Problem, rescued) || !strings.Contains(dbCheck.Fix, rescued) {
				t.Errorf("the rescued copy %s is not named: error %q, health %q, doctor fix %q", rescued, ae.Message, h.Problem, dbCheck.Fix)
			}
			r.stop(t)
			if !removed {
				return
			}

			err = Run(ctx, cfg)
			if !errors.Is(err, sqlstore.ErrDatabaseMissing) || !strings.Contains(err.Error(), sqlstore.InitializedName) {
				t.Fatalf("restart without the database: err = %v, want ErrDatabaseMissing", err)
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused start created %s: %v", db, err)
			}
			// Moving the rescued copy into place, as the message says, brings
			// everything back.
			if err := os.Rename(rescued, db); err != nil {
				t.Fatal(err)
			}
			r2 := start(t, cfg)
			posts, err := r2.client.ListPosts(ctx, "")
			if err != nil || len(posts) != 1 || posts[0].Tweets[0].Text != "kept: שלום 🐦‍🔥" {
				t.Fatalf("start on the rescued copy: posts = %+v, %v", posts, err)
			}
			r2.stop(t)

			// Removing the marker is the documented way to start afresh.
			os.Remove(db)
			os.Remove(filepath.Join(home, sqlstore.InitializedName))
			r3 := start(t, cfg)
			posts, err = r3.client.ListPosts(ctx, "")
			if err != nil || len(posts) != 0 {
				t.Fatalf("fresh start: posts = %v, %v", posts, err)
			}
			if _, err := os.Stat(filepath.Join(home, sqlstore.InitializedName)); err != nil {
				t.Errorf("fresh start did not record its database: %v", err)
			}
		})
	}
}

// rescuedCopy is the one psn.db.rescued-* file in home.
func rescuedCopy(t *testing.T, home string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(home, "psn.db.rescued-*"))
	if len(m) != 1 {
		t.Fatalf("rescued copies: %v, want one", m)
	}
	return m[0]
}
