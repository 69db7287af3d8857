package oauth

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

func TestTokenValidNoRefresh(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	a1, _ := e.opened(testUserID)
	e.clk.Advance(2*time.Hour - 6*time.Minute) // 6 min left: above the 5 min margin
	tok, err := e.src.Token(context.Background(), testUserID)
	if err != nil || tok != a1 {
		t.Fatalf("token %v", err)
	}
	if s := e.x.Stats(); s.Refreshes != 0 {
		t.Fatalf("refreshed early: %+v", s)
	}
}

func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	e := newEnv(t, envOpts{fakex: fakex.Options{RevokeFamilyOnReuse: true}})
	e.login()
	a1, r1 := e.opened(testUserID)
	e.clk.Advance(2*time.Hour - time.Minute) // inside the margin

	const n = 100
	var wg sync.WaitGroup
	toks := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if i%2 == 0 {
				toks[i], errs[i] = e.src.Token(context.Background(), testUserID)
			} else {
				// Callers that just got a 401 with the old token.
				toks[i], errs[i] = e.src.ForceRefresh(context.Background(), testUserID, a1)
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if toks[i] != toks[0] || toks[i] == a1 {
			t.Fatalf("caller %d got a different or stale token", i)
		}
	}
	if s := e.x.Stats(); s.Refreshes != 1 || s.RejectedRefreshes != 0 {
		t.Fatalf("fake stats %+v, want exactly one refresh and none rejected", s)
	}
	a2, r2 := e.opened(testUserID)
	if a2 != toks[0] || r2 == r1 {
		t.Fatal("the rotated tokens were not committed")
	}
	if err := e.me(a2); err != nil {
		t.Fatalf("new token does not work: %v", err)
	}
	m := e.meta(testUserID)
	if m.LastRefreshAt == nil || !m.LastRefreshAt.Equal(e.clk.Now()) {
		t.Fatalf("meta %+v", m)
	}
}

func TestRestartBetweenRefreshes(t *testing.T) {
	e := newEnv(t, envOpts{fakex: fakex.Options{RevokeFamilyOnReuse: true}})
	e.login()
	ctx := context.Background()
	for i := range 3 {
		e.clk.Advance(2 * time.Hour) // expired
		tok, err := e.src.Token(ctx, testUserID)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if err := e.me(tok); err != nil {
			t.Fatalf("refresh %d: token does not work: %v", i, err)
		}
		// "Restart": close the database, open it again, new components.
		e.store.Close()
		e.openStore()
		e.newComponents()
	}
	if s := e.x.Stats(); s.Refreshes != 3 || s.RejectedRefreshes != 0 {
		t.Fatalf("fake stats %+v", s)
	}
}

func TestRefusedRefreshNeedsReauthNoLoop(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	ctx := context.Background()
	e.x.RevokeUserTokens(testUserID) // the user removed the app at X
	e.clk.Advance(2 * time.Hour)
	_, err := e.src.Token(ctx, testUserID)
	var re *ReauthError
	if !errors.Is(err, ErrNeedsReauth) || !errors.As(err, &re) {
		t.Fatalf("err = %v, want needs re-auth", err)
	}
	if !strings.Contains(err.Error(), "@"+testUsername) || !strings.Contains(err.Error(), "psnd auth login") ||
		!strings.Contains(err.Error(), "invalid_request") {
		t.Fatalf("message %q", err)
	}
	for range 5 {
		if _, err := e.src.Token(ctx, testUserID); !errors.Is(err, ErrNeedsReauth) {
			t.Fatalf("again: %v", err)
		}
		if _, err := e.src.ForceRefresh(ctx, testUserID, "x"); !errors.Is(err, ErrNeedsReauth) {
			t.Fatalf("force: %v", err)
		}
	}
	if s := e.x.Stats(); s.RejectedRefreshes != 1 || s.Refreshes != 0 {
		t.Fatalf("fake stats %+v: a refused refresh must not be retried", s)
	}
	if len(e.sleeps) != 0 {
		t.Fatalf("backed off %v for a refused token", e.sleeps)
	}
	// The daemon hears of it once (it tells the user), not at every call.
	if len(e.needsLogin) != 1 || e.needsLogin[0].Username != testUsername || !strings.Contains(e.needsLogin[0].Reason, "refused") {
		t.Fatalf("NeedsLogin calls %+v, want one for @%s", e.needsLogin, testUsername)
	}
	m := e.meta(testUserID)
	if !m.NeedsReauth || !strings.Contains(m.ReauthReason, "refused") || m.ReauthAt == nil {
		t.Fatalf("meta %+v", m)
	}
	all, _ := e.src.Status(ctx)
	if len(all) != 1 || !all[0].NeedsReauth() || len(all[0].Problems) == 0 ||
		!strings.Contains(all[0].Problems[0], "log in again") {
		t.Fatalf("status %+v", all)
	}
	if p, _ := e.src.AccountProblem(ctx, testUserID); !strings.Contains(p, "psnd auth login") {
		t.Fatalf("problem %q", p)
	}
	// Logging in again clears it.
	e.login()
	if _, err := e.src.Token(ctx, testUserID); err != nil {
		t.Fatalf("after re-login: %v", err)
	}
}

func TestTransientRefreshFailuresRetried(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	ctx := context.Background()
	e.x.Inject(fakex.Fault{Path: "/2/oauth2/token", Status: 503, Times: 2})
	e.clk.Advance(2 * time.Hour)
	tok, err := e.src.Token(ctx, testUserID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.me(tok); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; !equalDurations(e.sleeps, want) {
		t.Fatalf("sleeps %v, want %v", e.sleeps, want)
	}
	if m := e.meta(testUserID); m.RefreshFailures != 0 || m.LastError != "" || m.NeedsReauth {
		t.Fatalf("meta after recovery %+v", m)
	}

	// X down for good: give up after the retries, record it, no re-auth.
	e.sleeps = nil
	e.x.Inject(fakex.Fault{Path: "/2/oauth2/token", Status: 502, Times: -1})
	e.clk.Advance(2 * time.Hour)
	_, err = e.src.Token(ctx, testUserID)
	if err == nil || errors.Is(err, ErrNeedsReauth) || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v", err)
	}
	if len(e.sleeps) != 3 {
		t.Fatalf("sleeps %v, want 3 retries", e.sleeps)
	}
	m := e.meta(testUserID)
	if m.RefreshFailures != 4 || !strings.Contains(m.LastError, "502") || m.NeedsReauth {
		t.Fatalf("meta %+v", m)
	}
	all, _ := e.src.Status(ctx)
	if len(all[0].Problems) == 0 || !strings.Contains(all[0].Problems[0], "refresh failing") {
		t.Fatalf("status %+v", all[0])
	}
	// X back: the same refresh token still works (it was never spent).
	e.x.ClearFaults()
	if _, err := e.src.Token(ctx, testUserID); err != nil {
		t.Fatal(err)
	}
	if s := e.x.Stats(); s.RejectedRefreshes != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestNetworkErrorRetriedAndCallerCancelStopsWaiting(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	e.x.Inject(fakex.Fault{Path: "/2/oauth2/token", Kind: fakex.FaultDropBeforeCommit, Times: -1})
	e.clk.Advance(2 * time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	e.src.sleep = func(ctx context.Context, d time.Duration) error {
		cancel() // the caller gives up during the backoff
		return ctx.Err()
	}
	_, err := e.src.Token(ctx, testUserID)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "token endpoint") {
		t.Fatalf("err = %v", err)
	}
	if m := e.meta(testUserID); m.RefreshFailures != 1 || !strings.Contains(m.LastError, "reach X") {
		t.Fatalf("meta %+v", m)
	}
}

func TestCallerCancelDoesNotLoseRotatedToken(t *testing.T) {
	e := newEnv(t, envOpts{fakex: fakex.Options{RevokeFamilyOnReuse: true}})
	e.login()
	e.clk.Advance(2 * time.Hour)
	// The caller gives up the moment the refresh request leaves.
	ctx, cancel := context.WithCancel(context.Background())
	e.src.hc = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		cancel()
		return e.ts.Client().Transport.RoundTrip(r)
	})}
	tok, err := e.src.Token(ctx, testUserID)
	if err != nil {
		t.Fatalf("a refresh in flight must complete and be committed: %v", err)
	}
	if a, _ := e.opened(testUserID); a != tok {
		t.Fatal("returned token not committed")
	}
	e.src.hc = e.ts.Client()
	e.clk.Advance(2 * time.Hour)
	if _, err := e.src.Token(context.Background(), testUserID); err != nil {
		t.Fatal(err)
	}
	if s := e.x.Stats(); s.Refreshes != 2 || s.RejectedRefreshes != 0 {
		t.Fatalf("stats %+v", s)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestKeyWaitingAndNotLoggedIn(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	if _, err := e.src.Token(ctx, testUserID); !errors.Is(err, ErrNeedsReauth) {
		t.Fatalf("never logged in: %v", err)
	}
	e.login()
	e.keys.set(secrets.ErrWaiting)
	_, err := e.src.Token(ctx, testUserID)
	if !errors.Is(err, secrets.ErrWaiting) || errors.Is(err, ErrNeedsReauth) {
		t.Fatalf("err = %v, want ErrWaiting", err)
	}
	// Another key: the tokens cannot be opened; say so, change nothing.
	e.keys.set(nil)
	old := e.keys.key
	e.keys.key = secrets.NewKey()
	_, err = e.src.Token(ctx, testUserID)
	if !errors.Is(err, ErrNeedsReauth) || !errors.Is(err, secrets.ErrDecrypt) {
		t.Fatalf("wrong key: err = %v", err)
	}
	e.keys.key = old
	if _, err := e.src.Token(ctx, testUserID); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAndProfileUpdatedOnRefresh(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	ctx := context.Background()
	e.x.AddUser(fakex.User{ID: testUserID, Username: testUsername, Name: "Psnd Test", SubscriptionType: "Premium"})
	e.clk.Advance(2 * time.Hour)
	if _, err := e.src.Token(ctx, testUserID); err != nil {
		t.Fatal(err)
	}
	all, _ := e.src.Status(ctx)
	if all[0].Account.SubscriptionType != "Premium" {
		t.Fatalf("subscription not refreshed: %+v", all[0].Account)
	}
	// X revoked the access token only: Verify refreshes after the 401.
	e.x.Inject(fakex.Fault{Path: "/2/users/me", Kind: fakex.FaultRevokeToken})
	a, err := e.src.Verify(ctx, "")
	if err != nil || a.ID != testUserID {
		t.Fatalf("verify: %+v %v", a, err)
	}
	if s := e.x.Stats(); s.Refreshes != 2 {
		t.Fatalf("stats %+v", s)
	}
	if _, err := e.src.Verify(ctx, "nobody"); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestLogoutRevokesAndKeepsAccount(t *testing.T) {
	for _, public := range []bool{false, true} {
		e := newEnv(t, envOpts{public: public})
		e.login()
		ctx := context.Background()
		a1, _ := e.opened(testUserID)
		res, err := e.src.Logout(ctx, "@"+testUsername)
		if err != nil || !res.HadTokens || !res.Revoked || res.RevokeError != "" {
			t.Fatalf("logout: %+v %v", res, err)
		}
		if s := e.x.Stats(); s.Revocations < 1 {
			t.Fatalf("stats %+v", s)
		}
		if err := e.me(a1); err == nil {
			t.Fatal("access token still valid at X after logout")
		}
		if _, err := e.src.Token(ctx, testUserID); !errors.Is(err, ErrNeedsReauth) || !strings.Contains(err.Error(), "not logged in") {
			t.Fatalf("after logout: %v", err)
		}
		all, _ := e.src.Status(ctx)
		if len(all) != 1 || all[0].LoggedIn {
			t.Fatalf("status %+v", all)
		}
		res, err = e.src.Logout(ctx, "")
		if err != nil || res.HadTokens {
			t.Fatalf("second logout: %+v %v", res, err)
		}
	}
}

func TestLogoutWhenXUnreachable(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	e.x.Inject(fakex.Fault{Path: "/2/oauth2/revoke", Status: 503, Times: -1})
	res, err := e.src.Logout(context.Background(), "")
	if err != nil || res.Revoked || !strings.Contains(res.RevokeError, "503") {
		t.Fatalf("%+v %v", res, err)
	}
	if all, _ := e.src.Status(context.Background()); all[0].LoggedIn {
		t.Fatal("tokens kept")
	}
}

// TestNothingSecretOnDisk scans the raw bytes of the database, its WAL and
// the logs for every token, the client secret and the PKCE material.
func TestNothingSecretOnDisk(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	st := e.login()
	var secretsSeen []string
	a, r := e.opened(testUserID)
	secretsSeen = append(secretsSeen, a, r)
	e.clk.Advance(2 * time.Hour)
	if _, err := e.src.Token(ctx, testUserID); err != nil {
		t.Fatal(err)
	}
	a, r = e.opened(testUserID)
	secretsSeen = append(secretsSeen, a, r, confSecret)
	u, _ := url.Parse(st.AuthURL)
	secretsSeen = append(secretsSeen, u.Query().Get("state"))

	check := func(when string) {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(e.dbPath + suffix)
			if err != nil {
				if suffix != "" && os.IsNotExist(err) {
					continue
				}
				t.Fatal(err)
			}
			for _, s := range secretsSeen {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s: psn.db%s contains a secret in plaintext", when, suffix)
				}
			}
		}
	}
	check("open")
	logs := e.logs.String()
	for _, s := range secretsSeen {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain a secret")
		}
	}
	if !strings.Contains(logs, "token refreshed") {
		t.Fatalf("logs not captured: %s", logs)
	}
	e.store.Close()
	check("closed")
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// namingIdentifier records, for each GET /2/users/me, the account the
// caller named (WithAccount), so the daemon can count it before sending.
type namingIdentifier struct {
	Identifier
	mu    sync.Mutex
	named []string
}

func (n *namingIdentifier) Me(ctx context.Context, token string) (xapi.User, xapi.RateLimit, error) {
	n.mu.Lock()
	n.named = append(n.named, AccountOf(ctx))
	n.mu.Unlock()
	return n.Identifier.Me(ctx, token)
}

// Issue 14: the profile lookup after a refresh and Verify's lookups name
// their account; a login's (whose account X names in the answer) does not.
func TestIdentifyNamesTheAccount(t *testing.T) {
	e := newEnv(t, envOpts{})
	id := &namingIdentifier{Identifier: e.xc}
	e.xc2 = id
	e.newComponents()
	e.login()
	ctx := context.Background()
	e.clk.Advance(2 * time.Hour)
	if _, err := e.src.Token(ctx, testUserID); err != nil { // refresh, then profile
		t.Fatal(err)
	}
	if _, err := e.src.Verify(ctx, ""); err != nil {
		t.Fatal(err)
	}
	want := []string{"", testUserID, testUserID}
	if !slices.Equal(id.named, want) {
		t.Errorf("accounts named to GET /2/users/me: %q, want %q (login, refresh, verify)", id.named, want)
	}
}

// Concurrent Token calls share reads of the row, but each is answered by
// a read that began after it was made: a change committed before a call
// is never hidden from it by a read already under way.
func TestConcurrentTokenCallsShareFreshReads(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.login()
	a1, _ := e.opened(testUserID)
	ctx := context.Background()

	var mu sync.Mutex
	reads := 0
	first, release := make(chan struct{}), make(chan struct{})
	e.src.readHook = func(string) {
		mu.Lock()
		reads++
		n := reads
		mu.Unlock()
		if n == 1 {
			close(first)
			<-release
		}
	}
	// The first call has read a good token and is held before answering.
	var early string
	var earlyErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		early, earlyErr = e.src.Token(ctx, testUserID)
	}()
	<-first
	// Meanwhile the account is marked as needing a login.
	err := e.store.Update(ctx, func(tx *sqlstore.Tx) error {
		row, err := tx.Token(testUserID)
		if err != nil {
			return err
		}
		m := row.Meta
		m.NeedsReauth, m.ReauthReason = true, "test"
		return tx.SetTokenMeta(testUserID, row.RefreshEnc, m, e.clk.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = e.src.Token(ctx, testUserID) })
	}
	a := e.src.acct(testUserID)
	for {
		a.rmu.Lock()
		joined := a.next != nil && a.next.callers == n
		a.rmu.Unlock()
		if joined {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	<-done
	wg.Wait()
	if earlyErr != nil || early != a1 {
		t.Fatalf("first call: %v", earlyErr)
	}
	for i, err := range errs {
		if !errors.Is(err, ErrNeedsReauth) {
			t.Fatalf("call %d, made after the mark: err = %v, want ErrNeedsReauth", i, err)
		}
	}
	if reads != 2 {
		t.Fatalf("%d reads for %d calls, want 2 (the first, then one shared)", reads, n+1)
	}
}
