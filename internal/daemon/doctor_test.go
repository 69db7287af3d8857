package daemon

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/doctor/doctortest"
	"github.com/psnd/psnd/internal/secrets"
	"github.com/psnd/psnd/internal/testutil"
)

// doctorDaemon seeds a healthy home, lets prepare break it, and runs the
// daemon on it with its own callback address.
func doctorDaemon(t *testing.T, kr *secrets.Memory, prepare func(home string)) *running {
	t.Helper()
	home := shortHome(t)
	doctortest.Healthy(t, home, kr, time.Now())
	if prepare != nil {
		prepare(home)
	}
	cfg := testConfig(t, home, kr)
	cfg.Env.CallbackAddr = testutil.FreeLoopbackAddr(t)
	return start(t, cfg)
}

func doctorChecks(t *testing.T, r *running) (api.DoctorReport, map[string]api.DoctorCheck) {
	t.Helper()
	rep, err := r.client.Doctor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]api.DoctorCheck{}
	for _, c := range rep.Checks {
		m[c.Name] = c
	}
	return rep, m
}

func offChecks(rep api.DoctorReport) []string {
	var out []string
	for _, c := range rep.Checks {
		if c.Status != api.CheckOK {
			out = append(out, c.Name+"="+c.Status)
		}
	}
	return out
}

func TestDoctorHealthyDaemon(t *testing.T) {
	r := doctorDaemon(t, &secrets.Memory{}, nil)
	waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
	rep, m := doctorChecks(t, r)
	if !rep.OK || len(offChecks(rep)) > 0 {
		t.Fatalf("healthy daemon reports %v: %+v", offChecks(rep), rep)
	}
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Name)
	}
	want := []string{"database", "schema", "keyring", "data_key", "x_app", "account @alice", "callback_port", "failed_posts"}
	if !slices.Equal(names, want) {
		t.Errorf("checks %v, want %v", names, want)
	}
	if c := m["callback_port"]; !strings.Contains(c.Message, r.cfg.Env.CallbackAddr+" is free") {
		t.Errorf("callback check %+v", c)
	}
}

// TestDoctorDaemonBroken gives each daemon-side check a failing case.
func TestDoctorDaemonBroken(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T, home string, kr *secrets.Memory)
		ready   func(api.Health) bool
		off     []string // "name=status", in report order
		check   string
		parts   []string
	}{
		{name: "keyring locked",
			prepare: func(t *testing.T, home string, kr *secrets.Memory) {
				kr.FailWith(fmt.Errorf("%w: collection is locked", secrets.ErrUnavailable))
			},
			ready: func(h api.Health) bool { return h.Keyring.LastError != "" },
			off:   []string{"keyring=fail", "data_key=skip"}, check: "keyring",
			parts: []string{"waiting for the OS keyring", "collection is locked", "unlock your login keyring"}},
		{name: "wrong key",
			prepare: func(t *testing.T, home string, kr *secrets.Memory) { doctortest.ReplaceKey(t, home, kr) },
			ready:   func(h api.Health) bool { return h.Status == api.HealthKeyError },
			off:     []string{"data_key=fail"}, check: "data_key",
			parts: []string{"does not match this database", "psnd auth reset-key"}},
		{name: "no app",
			prepare: func(t *testing.T, home string, kr *secrets.Memory) { doctortest.RemoveApp(t, home, time.Now()) },
			off:     []string{"x_app=fail"}, check: "x_app", parts: []string{"no X app credentials", "psnd setup"}},
		{name: "needs reauth",
			prepare: func(t *testing.T, home string, kr *secrets.Memory) {
				doctortest.NeedsReauth(t, home, doctortest.AliceID, "X refused the refresh token (invalid_request)", time.Now())
			},
			off: []string{"account @alice=fail"}, check: "account @alice",
			parts: []string{"needs to log in again: X refused the refresh token (invalid_request)", "psnd auth login"}},
		{name: "failed post",
			prepare: func(t *testing.T, home string, kr *secrets.Memory) {
				doctortest.FailedPost(t, home, doctortest.AliceID, "hi", "You are not allowed to create a Tweet with duplicate content.", time.Now())
			},
			off: []string{"failed_posts=warn"}, check: "failed_posts",
			parts: []string{"1 failed post waits: #1 @alice (You are not allowed", "psnd retry"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kr := &secrets.Memory{}
			r := doctorDaemon(t, kr, func(home string) { tc.prepare(t, home, kr) })
			ready := tc.ready
			if ready == nil {
				ready = func(h api.Health) bool { return h.Status == api.HealthOK }
			}
			waitHealth(t, r.client, ready)
			rep, m := doctorChecks(t, r)
			if got := offChecks(rep); !slices.Equal(got, tc.off) {
				t.Errorf("checks off %v, want %v", got, tc.off)
			}
			c := m[tc.check]
			for _, p := range tc.parts {
				if !strings.Contains(c.Message+" | "+c.Fix, p) {
					t.Errorf("%s: %q (fix %q) lacks %q", c.Name, c.Message, c.Fix, p)
				}
			}
			if failed := slices.ContainsFunc(tc.off, func(s string) bool { return strings.HasSuffix(s, "=fail") }); rep.OK == failed {
				t.Errorf("report ok = %v with %v", rep.OK, tc.off)
			}
		})
	}
}

// TestDoctorCallbackPort: a port taken by another program is a warning; a
// port held by the daemon's own login in progress is recognised (this also
// keeps doctor's recognition in step with internal/oauth's pages).
func TestDoctorCallbackPort(t *testing.T) {
	r := doctorDaemon(t, &secrets.Memory{}, nil)
	waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
	addr := r.cfg.Env.CallbackAddr

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rep, m := doctorChecks(t, r)
	if c := m["callback_port"]; c.Status != api.CheckWarn || !strings.Contains(c.Message, addr+" is taken by another program") ||
		!strings.Contains(c.Fix, "PSN_CALLBACK_ADDR") {
		t.Errorf("busy port: %+v", c)
	}
	if !rep.OK {
		t.Error("a busy callback port failed the report")
	}
	ln.Close()

	l, err := r.client.StartLogin(context.Background(), api.LoginRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Listening {
		t.Fatalf("login not listening: %+v", l)
	}
	_, m = doctorChecks(t, r)
	if c := m["callback_port"]; c.Status != api.CheckOK || !strings.Contains(c.Message, "held by a psnd login in progress") {
		t.Errorf("port held by our login: %+v", c)
	}
	// Asking did not disturb the login.
	if l2, err := r.client.WaitLogin(context.Background(), l.ID, 0, 0); err != nil || l2.State != api.LoginWaiting {
		t.Errorf("login after doctor: %+v, %v", l2, err)
	}
}

func TestDoctorSandboxSkipsLogin(t *testing.T) {
	home := shortHome(t)
	cfg := testConfig(t, home, nil)
	cfg.Sandbox = true
	cfg.Keyring = nil
	cfg.Env.CallbackAddr = testutil.FreeLoopbackAddr(t)
	r := start(t, cfg)
	waitHealth(t, r.client, func(h api.Health) bool { return h.Status == api.HealthOK })
	rep, m := doctorChecks(t, r)
	// No X app, login or callback port in the sandbox.
	if got := offChecks(rep); !slices.Equal(got, []string{"x_app=skip", "accounts=skip", "callback_port=skip"}) {
		t.Errorf("sandbox checks off %v", got)
	}
	if want := filepath.Join(home, "sandbox"); rep.Home != want || !rep.Sandbox {
		t.Errorf("report of home %q (sandbox %v), want %s", rep.Home, rep.Sandbox, want)
	}
	if c := m["data_key"]; c.Status != api.CheckOK || !strings.Contains(m["keyring"].Message, "key file") {
		t.Errorf("sandbox key: %+v %+v", m["keyring"], c)
	}
}
