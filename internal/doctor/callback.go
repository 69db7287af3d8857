package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/textutil"
)

// Callback is what probing the login callback address found.
type Callback struct {
	Addr      string // PSN_CALLBACK_ADDR
	AddrErr   error  // the setting itself is unusable
	Free      bool   // psnd could listen there now
	ListenErr error  // why it could not
	// PsndLogin: what listens there answers like a psnd login's callback
	// listener, so a login is in progress.
	PsndLogin bool
}

// validCallbackAddr mirrors oauth.ParseCallbackAddr (which the CLI cannot
// import): a loopback IP and a fixed port, since X matches the registered
// redirect URI exactly.
func validCallbackAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("PSN_CALLBACK_ADDR %q is not host:port", addr)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("PSN_CALLBACK_ADDR %q is not a loopback IP address", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("PSN_CALLBACK_ADDR %q needs a fixed port", addr)
	}
	return nil
}

// loginPageMark is in every page of a psnd login's callback listener
// (internal/oauth's page titles); a daemon test keeps the two in step.
const loginPageMark = "<title>psnd: "

// ProbeCallback tries to listen on the callback address and, when that
// fails, asks what is there whether it is a psnd login. The listener is
// closed at once; a login starting in that instant would find the port
// busy and fall back to a pasted URL, never fail.
func ProbeCallback(ctx context.Context, addr string) Callback {
	c := Callback{Addr: addr}
	if c.AddrErr = validCallbackAddr(addr); c.AddrErr != nil {
		return c
	}
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		c.Free = true
		return c
	}
	c.ListenErr = err
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		return c
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return c
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	c.PsndLogin = strings.Contains(string(body), loginPageMark)
	return c
}

// CheckCallback judges the login callback address (PSN_CALLBACK_ADDR).
func CheckCallback(c Callback) api.DoctorCheck {
	_, port, _ := net.SplitHostPort(c.Addr)
	switch {
	case c.AddrErr != nil:
		return fail(NameCallback, errLine(c.AddrErr),
			"set PSN_CALLBACK_ADDR to a loopback address with a fixed port, such as 127.0.0.1:18923, and register http://ADDRESS/callback in your X app")
	case c.Free:
		return okc(NameCallback, "%s is free for the login callback", c.Addr)
	case c.PsndLogin:
		return okc(NameCallback, "%s is held by a psnd login in progress (the daemon listens there until the login ends)", c.Addr)
	}
	why := ""
	if c.ListenErr != nil {
		why = " (" + listenReason(c.ListenErr) + ")"
	}
	return warn(NameCallback, c.Addr+" is taken by another program"+why+": after `psnd auth login` X's redirect cannot reach psnd, and you will have to paste the URL",
		fmt.Sprintf("find it with `ss -ltnp 'sport = :%s'` (Linux) or `lsof -nP -iTCP:%s -sTCP:LISTEN` (macOS) and stop it, "+
			"or set PSN_CALLBACK_ADDR to a free port for the daemon and register http://127.0.0.1:PORT/callback in your X app", port, port))
}

func listenReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return textutil.FirstLine(oe.Err.Error())
	}
	return errLine(err)
}
