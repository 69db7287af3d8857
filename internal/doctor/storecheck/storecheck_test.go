package storecheck_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/doctor/doctortest"
	"github.com/psnd/psnd/internal/doctor/storecheck"
	"github.com/psnd/psnd/internal/secrets"
)

var now = time.Now().UTC().Truncate(time.Second)

func env(t *testing.T, home string, vars ...string) config.Config {
	t.Helper()
	m := map[string]string{"PSN_HOME": home}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	cfg, err := config.Load(func(k string) string { return m[k] }, "linux")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func offline(t *testing.T, cfg config.Config, kr secrets.Keyring) map[string]api.DoctorCheck {
	t.Helper()
	checks := storecheck.Offline(context.Background(), storecheck.Options{Env: cfg, Keyring: kr, Now: func() time.Time { return now }})
	out := map[string]api.DoctorCheck{}
	for _, c := range checks {
		if _, dup := out[c.Name]; dup {
			t.Fatalf("check %q reported twice", c.Name)
		}
		out[c.Name] = c
	}
	return out
}

// notOK lists the checks that are not ok, as "name=status".
func notOK(checks map[string]api.DoctorCheck) []string {
	var out []string
	for _, name := range []string{"database", "schema", "keyring", "data_key", "x_app", "accounts", "account @alice", "failed_posts"} {
		if c, ok := checks[name]; ok && c.Status != api.CheckOK {
			out = append(out, name+"="+c.Status)
		}
	}
	return out
}

func want(t *testing.T, c api.DoctorCheck, status string, msgParts ...string) {
	t.Helper()
	if c.Status != status {
		t.Errorf("%s: status %q, want %q (%s)", c.Name, c.Status, status, c.Message)
	}
	for _, p := range msgParts {
		if !strings.Contains(c.Message+" | "+c.Fix, p) {
			t.Errorf("%s: %q / fix %q lacks %q", c.Name, c.Message, c.Fix, p)
		}
	}
	if status != api.CheckOK && status != api.CheckSkip && c.Fix == "" {
		t.Errorf("%s: %s without a fix", c.Name, status)
	}
}

func TestOfflineHealthyHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	kr := &secrets.Memory{}
	doctortest.Healthy(t, home, kr, now)
	db := filepath.Join(home, "psn.db")
	before, _ := os.ReadFile(db)
	calls := kr.Calls()

	checks := offline(t, env(t, home), kr)
	if bad := notOK(checks); len(bad) > 0 {
		t.Fatalf("healthy home has problems %v: %+v", bad, checks)
	}
	for _, name := range []string{"database", "schema", "keyring", "data_key", "x_app", "account @alice", "failed_posts"} {
		if _, ok := checks[name]; !ok {
			t.Errorf("no %s check", name)
		}
	}
	want(t, checks["x_app"], api.CheckOK, doctortest.ClientID, "confidential", "stored")
	want(t, checks["account @alice"], api.CheckOK, "valid for 2h")
	// Doctor only looks: the database is unchanged, the keyring only read.
	if after, _ := os.ReadFile(db); !bytes.Equal(before, after) {
		t.Error("the database changed")
	}
	if n := kr.Calls() - calls; n != 1 {
		t.Errorf("%d keyring calls, want one Get", n)
	}
}

func TestOfflineBrokenHomes(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(t *testing.T, home string, kr *secrets.Memory)
		vars   []string
		check  string
		want   string
		parts  []string
		// also lists the other checks expected to be off as a consequence.
		also []string
	}{
		{name: "corrupt database", check: "database", want: api.CheckFail, parts: []string{"is damaged", ".recover"},
			break_: func(t *testing.T, home string, _ *secrets.Memory) { doctortest.CorruptPage(t, home, now) }},
		{name: "newer schema", check: "schema", want: api.CheckFail, parts: []string{"schema version 99", "newer than this psnd"},
			break_: func(t *testing.T, home string, _ *secrets.Memory) { doctortest.NewerSchema(t, home, 99) }},
		{name: "keyring unavailable", check: "keyring", want: api.CheckFail, parts: []string{"locked or unavailable", "collection is locked", "unlock"},
			also: []string{"data_key=skip"},
			break_: func(t *testing.T, _ string, kr *secrets.Memory) {
				kr.FailWith(fmt.Errorf("%w: collection is locked", secrets.ErrUnavailable))
			}},
		{name: "key missing", check: "data_key", want: api.CheckFail, parts: []string{"missing from memory keyring", "psnd auth reset-key"},
			break_: func(t *testing.T, home string, kr *secrets.Memory) { doctortest.DropKey(t, home, kr) }},
		{name: "wrong key", check: "data_key", want: api.CheckFail, parts: []string{"not the one this database was sealed with", "psnd auth reset-key"},
			break_: func(t *testing.T, home string, kr *secrets.Memory) { doctortest.ReplaceKey(t, home, kr) }},
		{name: "malformed key entry", check: "data_key", want: api.CheckFail, parts: []string{"not one psnd wrote", "will not replace it"},
			break_: func(t *testing.T, home string, kr *secrets.Memory) {
				id, _ := secrets.EntryID(home)
				kr.Set(context.Background(), secrets.Service, id, "hunter2")
			}},
		{name: "no app", check: "x_app", want: api.CheckFail, parts: []string{"no X app credentials", "psnd setup"},
			break_: func(t *testing.T, home string, _ *secrets.Memory) { doctortest.RemoveApp(t, home, now) }},
		{name: "app only in the shell", check: "x_app", want: api.CheckWarn, parts: []string{"only in this shell's X_CLIENT_ID", "psnd setup"},
			vars:   []string{"X_CLIENT_ID", "shell-client"},
			break_: func(t *testing.T, home string, _ *secrets.Memory) { doctortest.RemoveApp(t, home, now) }},
		{name: "needs reauth", check: "account @alice", want: api.CheckFail,
			parts: []string{"@alice needs to log in again", "invalid_request", "psnd auth login"},
			break_: func(t *testing.T, home string, _ *secrets.Memory) {
				doctortest.NeedsReauth(t, home, doctortest.AliceID, "X refused the refresh token (invalid_request: Value passed for the token was invalid.)", now)
			}},
		{name: "failed posts", check: "failed_posts", want: api.CheckWarn, parts: []string{"1 failed post waits", "#1 @alice (duplicate content)", "psnd retry"},
			break_: func(t *testing.T, home string, _ *secrets.Memory) {
				doctortest.FailedPost(t, home, doctortest.AliceID, "hello", "duplicate content", now)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			home := filepath.Join(t.TempDir(), "home")
			kr := &secrets.Memory{}
			doctortest.Healthy(t, home, kr, now)
			tc.break_(t, home, kr)
			checks := offline(t, env(t, home, tc.vars...), kr)
			want(t, checks[tc.check], tc.want, tc.parts...)
			expect := append([]string{tc.check + "=" + tc.want}, tc.also...)
			got := notOK(checks)
			if strings.Join(got, " ") != strings.Join(sortedLike(got, expect), " ") || len(got) != len(expect) {
				t.Errorf("checks off: %v, want exactly %v", got, expect)
			}
		})
	}
}

// sortedLike returns want in got's order when both hold the same items.
func sortedLike(got, want []string) []string {
	var out []string
	for _, g := range got {
		for _, w := range want {
			if g == w {
				out = append(out, w)
			}
		}
	}
	return out
}

func TestOfflineWithoutDatabase(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	os.MkdirAll(home, 0o700)
	kr := &secrets.Memory{}
	checks := offline(t, env(t, home), kr)
	want(t, checks["database"], api.CheckWarn, "no database yet", "psnd setup")
	want(t, checks["keyring"], api.CheckOK)
	want(t, checks["data_key"], api.CheckWarn, "no data key", "creates the key")
	want(t, checks["schema"], api.CheckSkip)
	if kr.Calls() != 1 {
		t.Errorf("keyring calls = %d", kr.Calls())
	}
	if _, err := kr.Get(context.Background(), secrets.Service, "datakey:"+home); err == nil {
		t.Error("doctor created a key")
	}
	if _, err := os.Stat(filepath.Join(home, "psn.db")); err == nil {
		t.Error("doctor created a database")
	}
}

func TestOfflineNotADatabase(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	os.MkdirAll(home, 0o700)
	junk := bytes.Repeat([]byte("not sqlite "), 500)
	os.WriteFile(filepath.Join(home, "psn.db"), junk, 0o600)
	checks := offline(t, env(t, home), &secrets.Memory{})
	want(t, checks["database"], api.CheckFail, "is not a SQLite database", "restore a backup")
	if got, _ := os.ReadFile(filepath.Join(home, "psn.db")); !bytes.Equal(got, junk) {
		t.Error("the file changed")
	}
}

func TestOfflineKeyFile(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	kr := secrets.NewFile(home)
	doctortest.Healthy(t, home, kr, now)
	cfg := env(t, home, "PSN_KEYRING", "file")
	checks := offline(t, cfg, nil) // the keyring PSN_KEYRING selects
	want(t, checks["keyring"], api.CheckOK, "master.key is readable")
	want(t, checks["data_key"], api.CheckOK, "matches this database")

	os.Chmod(filepath.Join(home, "master.key"), 0o644)
	checks = offline(t, cfg, nil)
	want(t, checks["keyring"], api.CheckFail, "mode 0644", "chmod 600")
	want(t, checks["data_key"], api.CheckSkip)
}

// TestOfflineDatabaseMissing: psn.db gone from a directory whose marker
// says it had one is a failure (the daemon refuses to start), not "no
// database yet".
func TestOfflineDatabaseMissing(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	os.MkdirAll(home, 0o700)
	marker := filepath.Join(home, "psnd.initialized")
	os.WriteFile(marker, []byte("2026-03-01T09:00:00Z psnd created psn.db in this directory.\n"), 0o600)
	checks := offline(t, env(t, home), &secrets.Memory{})
	want(t, checks["database"], api.CheckFail, "is missing", "restore", "remove "+marker)
	if _, err := os.Stat(filepath.Join(home, "psn.db")); err == nil {
		t.Error("doctor created a database")
	}
}
