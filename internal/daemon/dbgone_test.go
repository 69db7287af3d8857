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
			for _, c := range rep.Checks {
				if c.Name == "database" && (c.Status != api.CheckFail || !strings.Contains(c.Message, name) || c.Fix == "") {
					t.Errorf("database check = %+v", c)
				}
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
			// The documented way to start afresh.
			os.Remove(filepath.Join(home, sqlstore.InitializedName))
			r2 := start(t, cfg)
			posts, err := r2.client.ListPosts(ctx, "")
			if err != nil || len(posts) != 0 {
				t.Fatalf("fresh start: posts = %v, %v", posts, err)
			}
			if _, err := os.Stat(filepath.Join(home, sqlstore.InitializedName)); err != nil {
				t.Errorf("fresh start did not record its database: %v", err)
			}
		})
	}
}
