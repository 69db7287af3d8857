package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/config"
	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/testutil"
)

// shortHome returns a data dir under /tmp: t.TempDir paths can exceed the
// Unix socket path limit on macOS.
func shortHome(t *testing.T) string {
	t.Helper()
	return filepath.Join(testutil.ShortDir(t), "home")
}

type running struct {
	cfg    Config
	client *apiclient.Client
	cancel context.CancelFunc
	done   chan error
}

func testConfig(t *testing.T, home string, kr secrets.Keyring) Config {
	t.Helper()
	env, err := config.Load(func(k string) string {
		switch k {
		case "PSN_HOME":
			return home
		case "PSN_NOTIFY":
			// No test shows notifications on the desktop it runs on
			// (macOS needs no bus); notify_test.go turns them on.
			return "0"
		}
		return ""
	}, "linux")
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Env:        env,
		Version:    "test",
		Keyring:    kr,
		KeyBackoff: secrets.Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond},
	}
}

// start runs the daemon in-process and waits until its socket is ready.
func start(t *testing.T, cfg Config) *running {
	t.Helper()
	ready := make(chan struct{})
	cfg.Ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Run(ctx, cfg) }()
	select {
	case <-ready:
	case err := <-r.done:
		cancel()
		t.Fatalf("daemon did not start: %v", err)
	}
	r.client = apiclient.New(cfg.Env.SocketPath(), "test")
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("daemon exited with %v", err)
	}
}

// waitHealth polls the health endpoint until cond holds (or fails after a
// generous deadline; this is a wait, not a timing assertion).
func waitHealth(t *testing.T, c *apiclient.Client, cond func(api.Health) bool) api.Health {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var h api.Health
	var err error
	for time.Now().Before(deadline) {
		h, err = c.Health(context.Background())
		if err == nil && cond(h) {
			return h
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("health never reached the expected state; last %+v, err %v", h, err)
	return h
}

func TestServeListShowHealth(t *testing.T) {
	home := shortHome(t)
	r := start(t, testConfig(t, home, &secrets.Memory{}))
	ctx := context.Background()

	h := waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
	if h.Version != "test" || h.Home != home || h.Keyring.State != "ready" {
		t.Errorf("health = %+v", h)
	}
	posts, err := r.client.ListPosts(ctx, "")
	if err != nil || len(posts) != 0 {
		t.Fatalf("list = %v, %v; want empty", posts, err)
	}
	_, err = r.client.GetPost(ctx, 42)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeNotFound {
		t.Fatalf("show missing: err = %v, want not_found", err)
	}
	if _, err := r.client.ListPosts(ctx, "bogus"); !errors.As(err, &ae) || ae.Code != api.CodeBadRequest {
		t.Fatalf("bad status: err = %v, want bad_request", err)
	}

	// File modes of SPEC §2.
	assertMode(t, home, 0o700)
	assertMode(t, filepath.Join(home, "psn.db"), 0o600)
	assertMode(t, filepath.Join(home, "psnd.sock"), 0o600)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s mode %v, want %v", filepath.Base(path), got, want)
	}
}

func TestListAndShowPosts(t *testing.T) {
	home := shortHome(t)
	cfg := testConfig(t, home, &secrets.Memory{})
	// Seed the database before the daemon starts, as a previous run would.
	seedPosts(t, cfg)
	r := start(t, cfg)
	posts, err := r.client.ListPosts(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 2 {
		t.Fatalf("got %d posts", len(posts))
	}
	th := posts[0]
	if th.Status != "scheduled" || len(th.Tweets) != 2 || th.Tweets[1].Text != "second" || th.Account != "alice" {
		t.Errorf("first = %+v", th)
	}
	got, err := r.client.GetPost(context.Background(), th.ID)
	if err != nil || got.ID != th.ID || len(got.Tweets) != 2 {
		t.Errorf("show = %+v, %v", got, err)
	}
	drafts, err := r.client.ListPosts(context.Background(), "draft")
	if err != nil || len(drafts) != 1 || drafts[0].Tweets[0].Text != "draft" {
		t.Errorf("drafts = %+v, %v", drafts, err)
	}
}

func seedPosts(t *testing.T, cfg Config) {
	t.Helper()
	ctx := context.Background()
	if err := os.MkdirAll(cfg.Env.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(ctx, cfg.Env.DBPath(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	at := now.Add(time.Hour)
	err = s.Update(ctx, func(tx *sqlstore.Tx) error {
		if err := tx.UpsertAccount(post.Account{ID: "7", Username: "alice"}, now); err != nil {
			return err
		}
		if _, err := tx.CreatePost(sqlstore.NewPost{AccountID: "7", Status: post.StatusScheduled, ScheduledAt: &at,
			Tweets: []sqlstore.NewTweet{{Text: "first"}, {Text: "second"}}}, now); err != nil {
			return err
		}
		_, err := tx.CreatePost(sqlstore.NewPost{AccountID: "7", Status: post.StatusDraft,
			Tweets: []sqlstore.NewTweet{{Text: "draft"}}}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSecondDaemonRefused(t *testing.T) {
	home := shortHome(t)
	kr := &secrets.Memory{}
	start(t, testConfig(t, home, kr))
	err := Run(context.Background(), testConfig(t, home, kr))
	if !errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("second daemon: err = %v, want ErrAlreadyRunning naming pid", err)
	}
}

// TestLockSurvivesDeletedFiles deletes the files a user might clean up
// under a running daemon: a second daemon on the same home must still be
// refused, before it opens the database, naming the running one's pid.
func TestLockSurvivesDeletedFiles(t *testing.T) {
	for _, files := range [][]string{{"psnd.lock"}, {"psnd.lock", "psnd.sock"}} {
		t.Run(strings.Join(files, "+"), func(t *testing.T) {
			home := shortHome(t)
			kr := &secrets.Memory{}
			start(t, testConfig(t, home, kr))
			for _, f := range files {
				if err := os.Remove(filepath.Join(home, f)); err != nil {
					t.Fatal(err)
				}
			}
			cfg := testConfig(t, home, kr)
			ready := make(chan struct{})
			cfg.Ready = func() { close(ready) }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Run(ctx, cfg) }()
			var err error
			select {
			case err = <-done:
			case <-ready:
				cancel()
				<-done
				t.Fatal("a second daemon started on the same data directory")
			}
			if !errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
				t.Fatalf("second daemon: err = %v, want ErrAlreadyRunning naming pid %d", err, os.Getpid())
			}
		})
	}
}

func TestStaleSocketRemoved(t *testing.T) {
	home := shortHome(t)
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	// A socket file left by a crashed daemon: bound, then closed without
	// unlinking.
	sock := filepath.Join(home, "psnd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	r := start(t, testConfig(t, home, &secrets.Memory{}))
	if _, err := r.client.Health(context.Background()); err != nil {
		t.Fatalf("daemon not serving after stale socket: %v", err)
	}
}

func TestShutdownCleansUp(t *testing.T) {
	home := shortHome(t)
	cfg := testConfig(t, home, &secrets.Memory{})
	r := start(t, cfg)
	waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
	r.stop(t)
	if _, err := os.Lstat(cfg.Env.SocketPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after shutdown: %v", err)
	}
	if _, err := r.client.Health(context.Background()); !errors.Is(err, apiclient.ErrDaemonNotRunning) {
		t.Errorf("after shutdown: err = %v, want ErrDaemonNotRunning", err)
	}
	// The lock is released: a new daemon starts on the same home.
	r2 := start(t, cfg)
	if _, err := r2.client.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestNotADatabaseRefusedUnchanged(t *testing.T) {
	home := shortHome(t)
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(home, "psn.db")
	junk := bytes.Repeat([]byte("not sqlite at all "), 300)
	os.WriteFile(db, junk, 0o600)
	err := Run(context.Background(), testConfig(t, home, &secrets.Memory{}))
	if !errors.Is(err, sqlstore.ErrNotADatabase) {
		t.Fatalf("err = %v, want ErrNotADatabase", err)
	}
	if got, _ := os.ReadFile(db); !bytes.Equal(got, junk) {
		t.Fatal("refused file changed")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	home := shortHome(t)
	cfg := testConfig(t, home, &secrets.Memory{})
	seedPosts(t, cfg)
	s, err := sqlstore.Open(context.Background(), cfg.Env.DBPath(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.DB().Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (1000, 1)`)
	s.Close()
	before, _ := os.ReadFile(cfg.Env.DBPath())
	err = Run(context.Background(), cfg)
	if !errors.Is(err, sqlstore.ErrSchemaTooNew) {
		t.Fatalf("err = %v, want ErrSchemaTooNew", err)
	}
	if after, _ := os.ReadFile(cfg.Env.DBPath()); !bytes.Equal(before, after) {
		t.Fatal("database changed although refused")
	}
}

func TestHomeNotADirectory(t *testing.T) {
	home := shortHome(t)
	os.MkdirAll(filepath.Dir(home), 0o700)
	os.WriteFile(home, []byte("x"), 0o600)
	err := Run(context.Background(), testConfig(t, home, &secrets.Memory{}))
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("err = %v", err)
	}
}

// TestUnreadableHome runs the real binary against a data directory it may
// not enter: as an ordinary user a chmod 000 directory; as root (CI), as
// the user nobody against root's 0700 directory.
func TestUnreadableHome(t *testing.T) {
	bin := buildPsnd(t)
	home := shortHome(t)
	os.MkdirAll(home, 0o700)
	os.WriteFile(filepath.Join(home, "marker"), []byte("keep"), 0o600)
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PSN_HOME=" + home, "PSN_KEYRING=file", "HOME=/nonexistent"}
	if os.Getuid() == 0 {
		setUser(cmd, 65534, 65534) // nobody
	} else {
		os.Chmod(home, 0)
		defer os.Chmod(home, 0o700)
	}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("serve: err = %v, output %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "permission denied") || !strings.Contains(last, home) {
		t.Errorf("error line = %q, want a permission error naming %s", last, home)
	}
	os.Chmod(home, 0o700)
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 {
		t.Errorf("data dir changed: %v", entries)
	}
}

func buildPsnd(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "psnd-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // runnable by the unprivileged user too
	bin := filepath.Join(dir, "psnd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/psnd/psnd/cmd/psnd").CombinedOutput()
	if err != nil {
		t.Fatalf("build psnd: %v\n%s", err, out)
	}
	return bin
}

func TestKeyringLockedThenUnlocked(t *testing.T) {
	home := shortHome(t)
	kr := &secrets.Memory{}
	kr.FailWith(fmt.Errorf("%w: collection is locked", secrets.ErrUnavailable))
	r := start(t, testConfig(t, home, kr))
	h := waitHealth(t, r.client, func(h api.Health) bool { return h.Keyring.LastError != "" })
	if h.Status != api.HealthWaitingForKeyring || h.Keyring.State != "waiting_for_keyring" ||
		!strings.Contains(h.Keyring.LastError, "locked") {
		t.Fatalf("health while locked = %+v", h)
	}
	// The local API keeps working while waiting.
	if _, err := r.client.ListPosts(context.Background(), ""); err != nil {
		t.Fatalf("list while waiting: %v", err)
	}
	kr.FailWith(nil)
	waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
}

func TestWrongKeyRefusedNothingOverwritten(t *testing.T) {
	home := shortHome(t)
	kr := &secrets.Memory{}
	cfg := testConfig(t, home, kr)
	r := start(t, cfg)
	waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
	r.stop(t)
	check := readKeyCheck(t, cfg)

	// Replace the key in the keyring with another valid one.
	id, _ := secrets.EntryID(home)
	other := &secrets.Memory{}
	if _, _, err := secrets.LoadOrCreateKey(context.Background(), other, id); err != nil {
		t.Fatal(err)
	}
	v, _ := other.Get(context.Background(), "psnd", id)
	kr.Set(context.Background(), "psnd", id, v)

	r = start(t, cfg)
	h := waitHealth(t, r.client, func(h api.Health) bool { return h.Status != api.HealthWaitingForKeyring })
	if h.Status != api.HealthKeyError || !strings.Contains(h.Keyring.LastError, "log in again") {
		t.Fatalf("health with wrong key = %+v", h)
	}
	r.stop(t)
	if got := readKeyCheck(t, cfg); !bytes.Equal(got, check) {
		t.Fatal("key check overwritten by a wrong key")
	}
}

func TestTamperedKeyCheckRefused(t *testing.T) {
	home := shortHome(t)
	cfg := testConfig(t, home, &secrets.Memory{})
	r := start(t, cfg)
	waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
	r.stop(t)
	check := readKeyCheck(t, cfg)
	check[len(check)-1] ^= 0x01
	s, _ := sqlstore.Open(context.Background(), cfg.Env.DBPath(), sqlstore.Options{})
	s.DB().Exec(`UPDATE settings SET key_check = ?`, check)
	s.Close()

	r = start(t, cfg)
	h := waitHealth(t, r.client, func(h api.Health) bool { return h.Status != api.HealthWaitingForKeyring })
	if h.Status != api.HealthKeyError {
		t.Fatalf("health with tampered key check = %+v", h)
	}
	r.stop(t)
	if got := readKeyCheck(t, cfg); !bytes.Equal(got, check) {
		t.Fatal("tampered key check was overwritten")
	}
}

func readKeyCheck(t *testing.T, cfg Config) []byte {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), cfg.Env.DBPath(), sqlstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var set sqlstore.Settings
	s.View(context.Background(), func(tx *sqlstore.Tx) error {
		set, err = tx.Settings()
		return err
	})
	if len(set.KeyCheck) == 0 {
		t.Fatal("no key check recorded")
	}
	return set.KeyCheck
}

func TestPeerWithOtherUIDRejected(t *testing.T) {
	home := shortHome(t)
	os.MkdirAll(home, 0o700)
	sock := filepath.Join(home, "s.sock")
	ln, err := listenSocket(sock, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pl := ln.(*peerListener)
	pl.uid = os.Getuid() + 1 // every peer (us) now counts as another user
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1)
	if _, err := c.Read(buf); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("foreign peer not disconnected: %v", err)
	}
	select {
	case <-accepted:
		t.Fatal("foreign peer was accepted")
	default:
	}
}

func TestResetKeyAfterMismatch(t *testing.T) {
	home := shortHome(t)
	kr := &secrets.Memory{}
	cfg := testConfig(t, home, kr)
	r := start(t, cfg)
	waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
	// A reset is refused while the key is fine.
	if _, err := r.client.ResetKey(context.Background()); err == nil {
		t.Fatal("reset accepted with a good key")
	}
	r.stop(t)
	// Seed a sealed secret and a token row, then lose the key.
	s, _ := sqlstore.Open(context.Background(), cfg.Env.DBPath(), sqlstore.Options{})
	s.DB().Exec(`INSERT INTO accounts (id, username, created_at, updated_at) VALUES ('5', 'bob', 'x', 'x')`)
	s.DB().Exec(`INSERT INTO oauth_tokens (account_id, access_token_enc, updated_at) VALUES ('5', x'00', 'x')`)
	s.DB().Exec(`UPDATE settings SET x_client_id = 'cid', x_client_secret_enc = x'0102'`)
	s.Close()
	id, _ := secrets.EntryID(home)
	kr.Delete(context.Background(), "psnd", id)

	r = start(t, cfg)
	h := waitHealth(t, r.client, func(h api.Health) bool { return h.Status != api.HealthWaitingForKeyring })
	if h.Status != api.HealthKeyError || !strings.Contains(h.Keyring.LastError, "missing") {
		t.Fatalf("health with a lost key = %+v", h)
	}
	h, err := r.client.ResetKey(context.Background())
	if err != nil || h.Status != api.HealthOK {
		t.Fatalf("reset: %+v, %v", h, err)
	}
	r.stop(t)
	s, _ = sqlstore.Open(context.Background(), cfg.Env.DBPath(), sqlstore.Options{ReadOnly: true})
	defer s.Close()
	var tokens, accounts int
	var secret []byte
	var clientID string
	s.DB().QueryRow(`SELECT count(*) FROM oauth_tokens`).Scan(&tokens)
	s.DB().QueryRow(`SELECT count(*) FROM accounts`).Scan(&accounts)
	s.DB().QueryRow(`SELECT x_client_id, x_client_secret_enc FROM settings`).Scan(&clientID, &secret)
	if tokens != 0 || secret != nil || accounts != 1 || clientID != "cid" {
		t.Fatalf("after reset: tokens %d secret %v accounts %d client %q", tokens, secret, accounts, clientID)
	}
}
