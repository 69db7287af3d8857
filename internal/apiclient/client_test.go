package apiclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
	"github.com/psnd/psnd/internal/testutil"
)

// serve runs h as a daemon would, on a Unix socket in a short directory
// (long temp paths exceed the socket path limit on macOS), and returns the
// socket's path.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	sock := filepath.Join(testutil.ShortDir(t), "psnd.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return sock
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// TestTypedErrorFromBody: a non-2xx answer with an error body comes back
// as the *api.Error the daemon sent, with the HTTP status, so callers can
// act on the code; its text is the daemon's one line.
func TestTypedErrorFromBody(t *testing.T) {
	cases := []struct {
		status int
		body   api.Error
	}{
		{http.StatusNotFound, api.Error{Code: api.CodeNotFound, Message: "post 9 not found"}},
		{http.StatusConflict, api.Error{Code: api.CodeConflict, Message: "post 9 changed since you read it; nothing was changed"}},
		{http.StatusUnprocessableEntity, api.Error{Code: api.CodeInvalidText, Message: "tweet 1 is 300 characters long; the limit is 280 — 東京"}},
		{http.StatusServiceUnavailable, api.Error{Code: api.CodeDatabaseGone, Message: "the database was replaced; restart psnd"}},
		{http.StatusUnauthorized, api.Error{Code: api.CodeNeedsReauth, Message: "@alice must log in again"}},
	}
	for _, c := range cases {
		sock := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply(w, c.status, api.ErrorBody{Error: c.body})
		}))
		_, err := apiclient.New(sock, "1").GetPost(context.Background(), 9)
		var ae *api.Error
		if !errors.As(err, &ae) {
			t.Fatalf("%d: error %T %v, want *api.Error", c.status, err, err)
		}
		if ae.Code != c.body.Code || ae.Message != c.body.Message || ae.Status != c.status {
			t.Errorf("%d: got %+v, want code %s, status %d, message %q", c.status, *ae, c.body.Code, c.status, c.body.Message)
		}
		if err.Error() != c.body.Message {
			t.Errorf("%d: Error() = %q, want the daemon's line", c.status, err.Error())
		}
	}
}

// TestUntypedErrorBody: an answer that is not psnd's error JSON (a proxy's
// page, an empty body, JSON without a message) still gives a typed error,
// saying what the daemon answered, never the body itself.
func TestUntypedErrorBody(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
	}{
		{http.StatusBadGateway, "<html>Bad Gateway</html>"},
		{http.StatusInternalServerError, ""},
		{http.StatusBadRequest, `{"error":{"code":"bad_request"}}`},
		{http.StatusTeapot, `{"message":"not ours"}`},
	} {
		sock := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}))
		err := apiclient.New(sock, "1").Do(context.Background(), http.MethodGet, api.PathHealth, nil, nil)
		var ae *api.Error
		if !errors.As(err, &ae) {
			t.Fatalf("%d: error %T %v, want *api.Error", c.status, err, err)
		}
		want := "psnd daemon answered " + http.StatusText(c.status)
		if ae.Code != api.CodeInternal || ae.Status != c.status || !strings.HasPrefix(ae.Message, "psnd daemon answered ") ||
			!strings.Contains(ae.Message, http.StatusText(c.status)) {
			t.Errorf("%d %q: got %+v, want code internal and %q", c.status, c.body, *ae, want)
		}
	}
}

// TestDaemonNotRunning: no socket, or a socket nobody listens on (a daemon
// that died), gives the one line that says where psnd looked and how to
// start it, and matches ErrDaemonNotRunning.
func TestDaemonNotRunning(t *testing.T) {
	dir := testutil.ShortDir(t)
	missing := filepath.Join(dir, "none.sock")
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false) // leave the file, as a killed daemon does
	ln.Close()
	for _, sock := range []string{missing, stale} {
		_, err := apiclient.New(sock, "1").Health(context.Background())
		if !errors.Is(err, apiclient.ErrDaemonNotRunning) {
			t.Fatalf("%s: error %v, want ErrDaemonNotRunning", sock, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, sock) || !strings.Contains(msg, "`psnd serve`") {
			t.Errorf("%s: %q, want one line naming the socket and `psnd serve`", sock, msg)
		}
	}
}

// TestVersionMismatch: a daemon of another version is reported once per
// client, whatever the number of requests; the same version, or a daemon
// that does not say, is not.
func TestVersionMismatch(t *testing.T) {
	var mu sync.Mutex
	version := "2.0.0"
	sock := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if version != "" {
			w.Header().Set(api.VersionHeader, version)
		}
		mu.Unlock()
		reply(w, http.StatusOK, api.Health{Status: api.HealthOK})
	}))
	setVersion := func(v string) { mu.Lock(); version = v; mu.Unlock() }
	ctx := context.Background()
	var got []string
	c := apiclient.New(sock, "1.0.0")
	c.OnVersionMismatch = func(v string) { got = append(got, v) }
	for range 3 {
		if _, err := c.Health(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0] != "2.0.0" {
		t.Errorf("mismatch reported %q, want once with 2.0.0", got)
	}
	for _, v := range []string{"1.0.0", ""} {
		setVersion(v)
		got = nil
		c := apiclient.New(sock, "1.0.0")
		c.OnVersionMismatch = func(v string) { got = append(got, v) }
		if _, err := c.Health(ctx); err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("daemon version %q: mismatch reported %q", v, got)
		}
	}
	// Also on an error answer: the warning explains odd errors.
	setVersion("3.0.0")
	got = nil
	errSock := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.VersionHeader, "3.0.0")
		reply(w, http.StatusNotFound, api.ErrorBody{Error: api.Error{Code: api.CodeNotFound, Message: "no such route"}})
	}))
	c = apiclient.New(errSock, "1.0.0")
	c.OnVersionMismatch = func(v string) { got = append(got, v) }
	if _, err := c.GetPost(ctx, 1); err == nil {
		t.Fatal("no error")
	}
	if len(got) != 1 || got[0] != "3.0.0" {
		t.Errorf("mismatch on an error answer reported %q", got)
	}
}

// TestRequestShape: the client sends JSON with its content type and its
// version, to the route's path, and the list query as docs/api.md says.
func TestRequestShape(t *testing.T) {
	type seen struct {
		method, path, query, ctype, ua, body string
	}
	var mu sync.Mutex
	var reqs []seen
	sock := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), string(b)})
		mu.Unlock()
		if r.Method == http.MethodGet && r.URL.Path == api.PathPosts {
			w.Header().Set(api.NextCursorHeader, "c2")
			reply(w, http.StatusOK, []api.Post{{ID: 4, Status: api.StatusFailed}})
			return
		}
		reply(w, http.StatusOK, api.Post{ID: 12, Status: api.StatusScheduled})
	}))
	c := apiclient.New(sock, "1.2.3")
	ctx := context.Background()
	p, err := c.EditPost(ctx, 12, api.EditPost{Text: ptr("東京 🪁")})
	if err != nil || p.ID != 12 || p.Status != api.StatusScheduled {
		t.Fatalf("edit: %+v %v", p, err)
	}
	posts, next, err := c.ListPage(ctx, apiclient.ListQuery{Statuses: []string{api.StatusFailed, api.StatusRetry}, Limit: 5})
	if err != nil || len(posts) != 1 || posts[0].ID != 4 || next != "c2" {
		t.Fatalf("list page: %+v %q %v", posts, next, err)
	}
	if _, _, err := c.ListPage(ctx, apiclient.ListQuery{Limit: api.ListMaxLimit + 1}); err == nil {
		t.Error("a page over ListMaxLimit was asked for")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []seen{
		{"PATCH", "/v1/posts/12", "", "application/json", "psnd/1.2.3", `{"text":"東京 🪁"}`},
		{"GET", "/v1/posts", "limit=5&status=failed%2Cretry", "", "psnd/1.2.3", ""},
	}
	if len(reqs) != len(want) {
		t.Fatalf("requests %+v, want %+v", reqs, want)
	}
	for i := range want {
		if reqs[i] != want[i] {
			t.Errorf("request %d = %+v\nwant %+v", i, reqs[i], want[i])
		}
	}
}

func ptr[T any](v T) *T { return &v }
