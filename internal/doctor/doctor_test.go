package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/service"
	"github.com/psnd/psnd/internal/testutil"
)

var now = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// expect checks a result's status and that its message and fix contain the
// given parts; every non-ok, non-skip result must carry a fix.
func expect(t *testing.T, c api.DoctorCheck, name, status string, parts ...string) {
	t.Helper()
	if c.Name != name {
		t.Errorf("name %q, want %q", c.Name, name)
	}
	if c.Status != status {
		t.Errorf("%s: status %q, want %q: %s", name, c.Status, status, c.Message)
	}
	for _, p := range parts {
		if !strings.Contains(c.Message+" | fix: "+c.Fix, p) {
			t.Errorf("%s: %q (fix %q) lacks %q", name, c.Message, c.Fix, p)
		}
	}
	if (status == api.CheckWarn || status == api.CheckFail) && c.Fix == "" {
		t.Errorf("%s: %s without a fix", name, status)
	}
	if status == api.CheckOK && c.Fix != "" {
		t.Errorf("%s: ok with a fix %q", name, c.Fix)
	}
}

func TestReportOrderAndOK(t *testing.T) {
	checks := []api.DoctorCheck{
		{Name: NameService, Status: api.CheckOK}, {Name: "account @b", Status: api.CheckWarn},
		{Name: NameDataDir, Status: api.CheckOK}, {Name: "account @a", Status: api.CheckOK}, {Name: NameDaemon, Status: api.CheckOK},
	}
	r := Report(checks)
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "data_dir,daemon,account @b,account @a,service" {
		t.Errorf("order %s", got)
	}
	if !r.OK {
		t.Error("a warning failed the report")
	}
	if Report(append(checks, api.DoctorCheck{Name: NameClock, Status: api.CheckFail})).OK {
		t.Error("a failure passed the report")
	}
	if r := Report(nil); r.Checks == nil || !r.OK {
		t.Errorf("empty report %+v", r)
	}
}

func TestHumanDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 12 * time.Minute: "12m", 3 * time.Hour: "3h", 190 * time.Minute: "3h10m",
		-2 * time.Hour: "2h", 50 * time.Hour: "2d2h", 48 * time.Hour: "2d",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestDataDirAndFileModes(t *testing.T) {
	uid := os.Getuid()
	root := t.TempDir()
	home := filepath.Join(root, "home")

	h := ObserveHome(home)
	expect(t, CheckDataDir(h, uid), NameDataDir, api.CheckFail, "does not exist", "psnd setup")
	expect(t, CheckFileModes(h, uid), NameFileModes, api.CheckSkip)

	os.MkdirAll(filepath.Join(home, "media"), 0o700)
	os.Chmod(home, 0o700)
	for _, f := range []string{"psn.db", "psn.db-wal", "master.key", "media/a.png"} {
		os.WriteFile(filepath.Join(home, f), []byte("x"), 0o600)
	}
	h = ObserveHome(home)
	expect(t, CheckDataDir(h, uid), NameDataDir, api.CheckOK, "mode 0700")
	expect(t, CheckFileModes(h, uid), NameFileModes, api.CheckOK, "5 entries")

	os.Chmod(home, 0o755)
	os.Chmod(filepath.Join(home, "psn.db"), 0o644)
	os.Chmod(filepath.Join(home, "media", "a.png"), 0o640)
	h = ObserveHome(home)
	expect(t, CheckDataDir(h, uid), NameDataDir, api.CheckFail, "mode 0755", "chmod 700 "+home)
	expect(t, CheckFileModes(h, uid), NameFileModes, api.CheckFail, "2 entries are open to other users",
		"psn.db (0644)", "media/a.png (0640)", "chmod -R go-rwx "+home)

	// Another owner, as after `sudo psnd serve`: judged on observations.
	h.Entries = append(h.Entries, Entry{Rel: "psn.db-shm", Mode: 0o600, UID: uid + 1})
	expect(t, CheckFileModes(h, uid), NameFileModes, api.CheckFail, "psn.db-shm (uid", "with sudo", "sudo chown -R $(id -un) "+home)
	h.Dir.UID = uid + 1
	expect(t, CheckDataDir(h, uid), NameDataDir, api.CheckFail, "not to you", "sudo chown -R")

	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o600)
	expect(t, CheckDataDir(ObserveHome(file), uid), NameDataDir, api.CheckFail, "is not a directory")

	spaced := filepath.Join(root, "my home")
	os.MkdirAll(spaced, 0o750)
	expect(t, CheckDataDir(ObserveHome(spaced), uid), NameDataDir, api.CheckFail, "chmod 700 '"+spaced+"'")
}

func TestDaemon(t *testing.T) {
	sock := "/h/psnd.sock"
	h := api.Health{Version: "1.2.0", PID: 42, StartedAt: now.Add(-3 * time.Hour), Home: "/h"}
	expect(t, CheckDaemon(Daemon{Socket: sock, Running: true, Health: h}, "1.2.0", "linux", now), NameDaemon, api.CheckOK,
		"running, version 1.2.0, pid 42, up 3h")
	expect(t, CheckDaemon(Daemon{Socket: sock}, "1.2.0", "linux", now), NameDaemon, api.CheckFail,
		"not running", sock, "psnd service install", "psnd serve")
	expect(t, CheckDaemon(Daemon{Socket: sock, Running: true, Health: h}, "1.3.0", "linux", now), NameDaemon, api.CheckFail,
		"runs psnd 1.2.0, but this psnd is 1.3.0", "systemctl --user restart psnd")
	expect(t, CheckDaemon(Daemon{Socket: sock, Running: true, Health: h}, "1.3.0", "darwin", now), NameDaemon, api.CheckFail,
		"launchctl kickstart -k gui/$(id -u)/dev.psnd.psnd")
	expect(t, CheckDaemon(Daemon{Socket: sock, Running: true, Err: errors.New("decode daemon response: EOF")}, "1.2.0", "linux", now),
		NameDaemon, api.CheckFail, "not properly: decode daemon response")
	// doctor --sandbox: the sandbox not running is no failure; another
	// daemon is not the sandbox.
	expect(t, CheckDaemon(Daemon{Socket: sock, ForSandbox: true}, "1.2.0", "linux", now), NameDaemon, api.CheckWarn,
		"not running", "psnd serve --sandbox")
	expect(t, CheckDaemon(Daemon{Socket: sock, Running: true, Health: h, ForSandbox: true}, "1.2.0", "linux", now), NameDaemon,
		api.CheckOK, "not the sandbox")
	h.Sandbox = true
	expect(t, CheckDaemon(Daemon{Socket: sock, Running: true, Health: h}, "1.2.0", "linux", now), NameDaemon, api.CheckWarn,
		"sandbox mode", "without --sandbox", "/h/sandbox")
	h.DataDir = "/d/sandbox"
	expect(t, CheckDaemon(Daemon{Socket: sock, Running: true, Health: h}, "1.2.0", "linux", now), NameDaemon, api.CheckWarn,
		"checks below are of /d/sandbox")
}

func TestSandboxKey(t *testing.T) {
	k := Key{Mode: KeySandbox, Where: "key file /h/sandbox/master.key", Read: KeyFound, Match: MatchOK}
	expect(t, CheckKeyring(k), NameKeyring, api.CheckOK, "/h/sandbox/master.key", "the sandbox keeps its key in a file")
	k.Read, k.Err = KeyReadError, errors.New("permission denied")
	expect(t, CheckKeyring(k), NameKeyring, api.CheckFail, "permission denied", "chmod 600 /h/sandbox/master.key")
	for _, c := range CheckDaemonKey(DaemonKey{Mode: KeySandbox, State: "ready", Bound: true}) {
		if c.Status != api.CheckOK || !strings.Contains(c.Message, "the sandbox's key file") {
			t.Errorf("daemon's sandbox key: %+v", c)
		}
	}
	for _, c := range SandboxSkips() {
		if c.Status != api.CheckSkip || !strings.Contains(c.Message, "not needed in the sandbox") {
			t.Errorf("sandbox skip: %+v", c)
		}
	}
}

func TestDatabaseAndSchema(t *testing.T) {
	db := "/h/psn.db"
	expect(t, CheckIntegrity(db, []string{"ok"}, nil), NameDatabase, api.CheckOK, "passes")
	expect(t, CheckIntegrity(db, []string{"*** in database main ***\nPage 7: btreeInitPage() returns error code 11", "x"}, nil),
		NameDatabase, api.CheckFail, "is damaged: *** in database main ***", "1 more", "sqlite3 /h/psn.db .recover")
	expect(t, CheckIntegrity(db, nil, errors.New("disk I/O error")), NameDatabase, api.CheckFail, "could not run: disk I/O error")
	expect(t, CheckOpen(db, nil, true), NameDatabase, api.CheckFail, "not a SQLite database", "restore a backup")
	expect(t, CheckOpen(db, errors.New("permission denied"), false), NameDatabase, api.CheckFail, "permission denied", "ls -l /h/psn.db")
	expect(t, NoDatabase(db), NameDatabase, api.CheckWarn, "no database yet", "psnd setup")

	expect(t, CheckSchema(4, 4, nil), NameSchema, api.CheckOK, "schema version 4")
	expect(t, CheckSchema(99, 4, nil), NameSchema, api.CheckFail, "version 99, newer than this psnd knows (4)", "never downgrades")
	expect(t, CheckSchema(2, 4, nil), NameSchema, api.CheckWarn, "version 2 of 4", "psnd serve")
	expect(t, CheckSchema(0, 4, errors.New("no such table")), NameSchema, api.CheckFail, "no such table")
}

func TestKeyChecks(t *testing.T) {
	base := Key{Mode: "system", Where: "the OS keyring"}
	k := base
	k.Match = MatchOK
	expect(t, CheckKeyring(k), NameKeyring, api.CheckOK, "the OS keyring answers")
	expect(t, CheckDataKey(k, true), NameDataKey, api.CheckOK, "matches this database")

	k = base
	k.Read, k.Err = KeyUnavailable, errors.New("collection is locked")
	expect(t, CheckKeyring(k), NameKeyring, api.CheckFail, "locked or unavailable: collection is locked", "unlock your login keyring")
	expect(t, CheckDataKey(k, true), NameDataKey, api.CheckSkip)

	k = base
	k.Read = KeyMissing
	expect(t, CheckDataKey(k, true), NameDataKey, api.CheckFail, "missing from the OS keyring", "psnd auth reset-key", "PSN_KEYRING")
	k.Match = MatchNoRecord
	expect(t, CheckDataKey(k, true), NameDataKey, api.CheckWarn, "no data key", "creates the key")
	expect(t, CheckDataKey(Key{Read: KeyMissing, Where: "x"}, false), NameDataKey, api.CheckWarn)

	k = base
	k.Match = MatchWrong
	expect(t, CheckDataKey(k, true), NameDataKey, api.CheckFail, "not the one this database was sealed with", "psnd auth reset-key")
	k.Match = MatchBadRecord
	expect(t, CheckDataKey(k, true), NameDataKey, api.CheckFail, "key-check record is damaged")
	k.Match = MatchNoRecord
	expect(t, CheckDataKey(k, true), NameDataKey, api.CheckOK, "binds it")

	k = base
	k.Read, k.Err = KeyMalformed, errors.New("malformed: not a psnd data key")
	expect(t, CheckDataKey(k, true), NameDataKey, api.CheckFail, "not one psnd wrote", "delete the entry")

	f := Key{Mode: "file", Where: "key file /h/master.key", Read: KeyReadError, Err: errors.New("mode 0644 lets others read it")}
	expect(t, CheckKeyring(f), NameKeyring, api.CheckFail, "mode 0644", "chmod 600 /h/master.key")
	f.Read, f.Err = KeyFound, nil
	expect(t, CheckKeyring(f), NameKeyring, api.CheckOK, "key file /h/master.key is readable")
}

func TestDaemonKey(t *testing.T) {
	names := func(cs []api.DoctorCheck) (api.DoctorCheck, api.DoctorCheck) {
		if len(cs) != 2 {
			t.Fatalf("%d checks", len(cs))
		}
		return cs[0], cs[1]
	}
	kr, dk := names(CheckDaemonKey(DaemonKey{Mode: "system", State: "ready", Bound: true}))
	expect(t, kr, NameKeyring, api.CheckOK)
	expect(t, dk, NameDataKey, api.CheckOK, "matches this database")

	kr, dk = names(CheckDaemonKey(DaemonKey{Mode: "system", State: "waiting_for_keyring", LastError: "collection is locked"}))
	expect(t, kr, NameKeyring, api.CheckFail, "waiting for the OS keyring", "collection is locked", "unlock")
	expect(t, dk, NameDataKey, api.CheckSkip)

	kr, dk = names(CheckDaemonKey(DaemonKey{Mode: "file", State: "ready", BindError: "the data key does not match this database"}))
	expect(t, kr, NameKeyring, api.CheckOK, "the key file is readable")
	expect(t, dk, NameDataKey, api.CheckFail, "does not match", "psnd auth reset-key")

	_, dk = names(CheckDaemonKey(DaemonKey{Mode: "system", State: "error", LastError: "malformed entry"}))
	expect(t, dk, NameDataKey, api.CheckFail, "unusable: malformed entry")

	_, dk = names(CheckDaemonKey(DaemonKey{Mode: "system", State: "ready"}))
	expect(t, dk, NameDataKey, api.CheckWarn, "checking it")
}

func TestApp(t *testing.T) {
	expect(t, CheckApp(api.App{}), NameApp, api.CheckFail, "no X app credentials", "psnd setup")
	expect(t, CheckApp(api.App{Configured: true, ClientID: "abc", ClientType: "confidential", HasClientSecret: true, Source: AppStored}),
		NameApp, api.CheckOK, "client id abc (confidential client), stored")
	expect(t, CheckApp(api.App{Configured: true, ClientID: "abc", Source: AppDaemonEnv}), NameApp, api.CheckOK, "public client", "daemon's X_CLIENT_ID")
	expect(t, CheckApp(api.App{Configured: true, ClientID: "abc", Source: AppShellEnv}), NameApp, api.CheckWarn, "only in this shell", "psnd setup")
}

func TestAccounts(t *testing.T) {
	all := []string{"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"}
	in := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	alice := Account{ID: "1", Username: "alice", LoggedIn: true, HasRefresh: true, ExpiresAt: in(90 * time.Minute), Scopes: all}
	name := "account @alice"
	cases := []struct {
		edit   func(a *Account)
		status string
		parts  []string
	}{
		{func(a *Account) {}, api.CheckOK, []string{"valid for 1h30m, renewed automatically"}},
		{func(a *Account) { a.ExpiresAt = in(-3 * time.Hour) }, api.CheckOK, []string{"expired 3h ago and is renewed at the next use"}},
		{func(a *Account) { a.ExpiresAt = nil }, api.CheckOK, []string{"no expiry"}},
		{func(a *Account) { a.HasRefresh = false; a.ExpiresAt = in(3 * time.Hour) }, api.CheckWarn,
			[]string{"expires in 3h and cannot be renewed", "offline.access", "psnd auth login"}},
		{func(a *Account) { a.HasRefresh = false; a.ExpiresAt = in(-time.Hour) }, api.CheckFail,
			[]string{"expired 1h ago and cannot be renewed"}},
		{func(a *Account) { a.HasRefresh = false; a.ExpiresAt = in(48 * time.Hour) }, api.CheckOK, []string{"valid for 2d"}},
		{func(a *Account) {
			a.NeedsReauth, a.ReauthReason, a.ReauthAt = true, "X refused the refresh token (invalid_request)", in(-time.Hour)
		}, api.CheckFail, []string{"@alice needs to log in again: X refused the refresh token (invalid_request) (since 2026-11-27T08:00:00Z)",
			"psnd auth login", "as @alice"}},
		{func(a *Account) { *a = Account{ID: "1", Username: "alice"} }, api.CheckWarn, []string{"logged out", "psnd auth login"}},
		{func(a *Account) { a.Scopes = []string{"tweet.read", "tweet.write"} }, api.CheckWarn,
			[]string{"did not grant users.read media.write offline.access", "approving every permission"}},
		{func(a *Account) { a.RefreshFailures, a.LastError = 2, "could not reach X's token endpoint: timeout" }, api.CheckWarn,
			[]string{"has failed 2 times: could not reach X's token endpoint"}},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			a := alice
			tc.edit(&a)
			expect(t, CheckAccount(a, all, now), name, tc.status, tc.parts...)
		})
	}
	cs := CheckAccounts(nil, all, now)
	if len(cs) != 1 {
		t.Fatalf("%d checks for no accounts", len(cs))
	}
	expect(t, cs[0], NameAccounts, api.CheckWarn, "no X account", "psnd auth login")
	if cs := CheckAccounts([]Account{alice, {Username: "bob"}}, all, now); len(cs) != 2 || cs[1].Name != "account @bob" {
		t.Errorf("two accounts: %+v", cs)
	}
}

func TestFailedPosts(t *testing.T) {
	expect(t, CheckFailedPosts(nil, nil), NameFailedPosts, api.CheckOK, "no failed posts")
	var ps []FailedPost
	for i := range 6 {
		ps = append(ps, FailedPost{ID: int64(i + 1), Account: "alice", Reason: "X said no\nmore"})
	}
	expect(t, CheckFailedPosts(ps[:1], nil), NameFailedPosts, api.CheckWarn, "1 failed post waits: #1 @alice (X said no)", "psnd retry ID")
	expect(t, CheckFailedPosts(ps, nil), NameFailedPosts, api.CheckWarn, "6 failed posts wait", "and 2 more", "psnd list --status failed")
	expect(t, CheckFailedPosts(nil, errors.New("boom")), NameFailedPosts, api.CheckSkip, "boom")
}

func TestCallback(t *testing.T) {
	ctx := context.Background()
	addr := testutil.FreeLoopbackAddr(t)
	c := ProbeCallback(ctx, addr)
	expect(t, CheckCallback(c), NameCallback, api.CheckOK, addr+" is free")
	if ln, err := net.Listen("tcp", addr); err != nil {
		t.Fatalf("the probe left the port taken: %v", err)
	} else {
		ln.Close()
	}

	// Another program: a bare TCP listener that never speaks HTTP.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(addr)
	expect(t, CheckCallback(ProbeCallback(ctx, addr)), NameCallback, api.CheckWarn,
		addr+" is taken by another program", "address already in use", "paste the URL", "sport = :"+port, "lsof -nP -iTCP:"+port)
	ln.Close()

	// A psnd login's listener answers with its own page.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, "<!doctype html>\n<html><head><title>psnd: not found</title></head></html>")
	}))
	srv.Listener.Close()
	if srv.Listener, err = net.Listen("tcp", addr); err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer srv.Close()
	expect(t, CheckCallback(ProbeCallback(ctx, addr)), NameCallback, api.CheckOK, "held by a psnd login in progress")

	for _, bad := range []string{"localhost:18923", "192.0.2.1:18923", "127.0.0.1:0", "127.0.0.1"} {
		expect(t, CheckCallback(ProbeCallback(ctx, bad)), NameCallback, api.CheckFail, "PSN_CALLBACK_ADDR", "127.0.0.1:18923")
	}
}

func TestClock(t *testing.T) {
	var date time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			t.Errorf("method %s", r.Method)
		}
		if !date.IsZero() {
			w.Header().Set("Date", date.UTC().Format(http.TimeFormat))
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	ctx := context.Background()
	probe := func(local time.Time) Clock {
		return ProbeClock(ctx, srv.Client(), srv.URL, func() time.Time { return local })
	}
	real := time.Now()
	expect(t, CheckClock(probe(real), "linux"), NameClock, api.CheckOK, "within")

	date = real.Add(-2 * time.Hour) // X says two hours ago: we are ahead
	expect(t, CheckClock(probe(real), "linux"), NameClock, api.CheckFail, "2h ahead of X's", "timedatectl set-ntp true")
	date = real.Add(3 * time.Minute)
	expect(t, CheckClock(probe(real), "darwin"), NameClock, api.CheckWarn, "behind X's", "Set time and date automatically")
	date = time.Time{}

	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	expect(t, CheckClock(Clock{URL: "https://api.x.com", Local: past, Err: errors.New("offline")}, "linux"), NameClock, api.CheckFail,
		"2001-01-01T00:00:00Z, which is in the past")

	off := ProbeClock(ctx, srv.Client(), "http://127.0.0.1:1", time.Now)
	expect(t, CheckClock(off, "linux"), NameClock, api.CheckWarn, "could not reach http://127.0.0.1:1", "offline")

	expect(t, CheckClock(Clock{URL: "u", Local: real, Remote: time.Time{}}, "linux"), NameClock, api.CheckWarn, "no Date header")

	// TLS refusing X's certificate because of this machine's date.
	tsrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tsrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tsrv.Certificate())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		Time: func() time.Time { return real.Add(100 * 365 * 24 * time.Hour) }}}}
	c := ProbeClock(ctx, hc, tsrv.URL, time.Now)
	expect(t, CheckClock(c, "linux"), NameClock, api.CheckFail, "expired or not yet valid", "timedatectl")
}

func TestService(t *testing.T) {
	bin := "/usr/local/bin/psnd"
	st := service.Status{Flavour: service.Systemd, Installed: true, UnitPath: "/u/psnd.service", Enabled: true, Running: true,
		Binary: bin, MatchesThisBinary: true, Detail: "enabled, active"}
	s := Service{Status: st, ThisBinary: bin}
	expect(t, CheckService(s), NameService, api.CheckOK, "installed (/u/psnd.service), enabled, running /usr/local/bin/psnd")

	other := s
	other.Status.Binary, other.Status.MatchesThisBinary = "/opt/old/psnd", false
	expect(t, CheckService(other), NameService, api.CheckFail, "runs /opt/old/psnd, not this psnd (/usr/local/bin/psnd)", "psnd service install")
	gorun := other
	gorun.ThisBinary = "/tmp/go-build123/b001/exe/psnd"
	expect(t, CheckService(gorun), NameService, api.CheckOK, "temporary build")
	other.Status.Detail += "; binary /opt/old/psnd is missing; run `psnd service install` again"
	expect(t, CheckService(other), NameService, api.CheckFail, "no longer exists")

	none := Service{Status: service.Status{Flavour: service.Systemd, UnitPath: "/u/psnd.service", Detail: "not-found, inactive"}}
	expect(t, CheckService(none), NameService, api.CheckWarn, "not installed as a service", "psnd service install")

	disabled := s
	disabled.Status.Enabled, disabled.Status.Detail = false, "disabled, active"
	expect(t, CheckService(disabled), NameService, api.CheckWarn, "not enabled", "psnd service install")
	stopped := s
	stopped.Status.Running, stopped.Status.Detail = false, "enabled, failed"
	expect(t, CheckService(stopped), NameService, api.CheckWarn, "not running (enabled, failed)", "systemctl --user start psnd", "journalctl")
	stopped.Status.Flavour = service.Launchd
	expect(t, CheckService(stopped), NameService, api.CheckWarn, "launchctl kickstart", "psnd.log")

	unavailable := Service{Err: fmt.Errorf("wrapped: %w", service.ErrUnavailable)}
	expect(t, CheckService(unavailable), NameService, api.CheckSkip)
	expect(t, CheckService(Service{Err: errors.New("systemctl: exit status 1")}), NameService, api.CheckWarn, "could not ask")
	broken := s
	broken.Err = errors.New("systemctl --user is-enabled psnd.service: Failed to connect to bus")
	expect(t, CheckService(broken), NameService, api.CheckWarn, "did not answer")
}

func TestObserveHomeSkipsSymlinksAndBounds(t *testing.T) {
	home := t.TempDir()
	os.Chmod(home, 0o700)
	os.Symlink("/etc/passwd", filepath.Join(home, "link"))
	h := ObserveHome(home)
	if len(h.Entries) != 1 || h.Entries[0].Mode&fs.ModeSymlink == 0 {
		t.Fatalf("entries %+v", h.Entries)
	}
	expect(t, CheckFileModes(h, os.Getuid()), NameFileModes, api.CheckOK)
}
