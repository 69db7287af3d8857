package oauth

import (
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
)

// ServeHTTP is the loopback callback listener of a login. Only GET
// /callback with this login's state ends it; anything else (another path,
// a missing or foreign state, a stray favicon request) gets a 400 page and
// the login keeps waiting. The pages are tiny and static, with no links or
// third-party resources, and send no Referer (the URL carried the code).
//
// A request whose Host is not the callback's own address and port is
// refused before anything else (421), so the login is never consumed by
// it: a web page whose name was rebound to 127.0.0.1 (DNS rebinding)
// reaches this port from the user's browser, but its requests carry the
// page's own host name.
func (l *login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !hostIs(r.Host, l.cb.Addr) {
		l.m.log.Warn("callback request for a foreign host refused", "login", l.id, "host", r.Host)
		page(w, http.StatusMisdirectedRequest, "psnd: wrong address",
			"This address only receives X's redirect for a psnd login, at "+l.cb.RedirectURI+".")
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/callback" {
		page(w, http.StatusBadRequest, "psnd: not found",
			"This address only receives X's redirect for a psnd login.")
		return
	}
	q := r.URL.Query()
	if !l.stateMatches(q.Get("state")) {
		l.m.log.Warn("callback with a missing or foreign state ignored", "login", l.id)
		page(w, http.StatusBadRequest, "psnd: unknown login",
			"This sign-in response does not belong to the login psnd is waiting for (its state does not match). Return to your terminal.")
		return
	}
	st, err := l.complete(r.Context(), q, "callback")
	switch {
	case errors.Is(err, ErrLoginDone):
		page(w, http.StatusBadRequest, "psnd: login already finished",
			"This login has already ended. Return to your terminal.")
	case errors.Is(err, ErrNoCode):
		page(w, http.StatusBadRequest, "psnd: no code",
			"X's redirect carried neither a code nor an error. Return to your terminal.")
	case err != nil:
		page(w, http.StatusInternalServerError, "psnd: login failed", err.Error())
	case st.State == LoginSucceeded && st.Account != nil:
		page(w, http.StatusOK, "psnd: logged in",
			fmt.Sprintf("psnd is now connected to @%s. You can close this tab and return to your terminal.", st.Account.Username))
	default:
		msg := "The login failed."
		if st.Error != nil {
			msg = "The login failed: " + st.Error.Message
		}
		page(w, http.StatusOK, "psnd: login failed", msg+" Return to your terminal.")
	}
}

// page writes a minimal HTML page. Referrer-Policy keeps the callback URL
// (with its code) out of any request the page could cause; the CSP allows
// nothing to load at all.
func page(w http.ResponseWriter, status int, title, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><title>%s</title></head>\n<body><h1>%s</h1><p>%s</p></body></html>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(msg))
}

// hostIs reports whether a request's Host header names addr, the
// callback's loopback IP and port. Browsers omit the default port 80, and
// may spell an IPv6 address differently, so both sides are parsed rather
// than compared as strings; a host name (even "localhost") never matches.
func hostIs(host, addr string) bool {
	wantIP, wantPort, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		// No port: only a bare IP (IPv6 in brackets) means port 80.
		h, p = host, "80"
		if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
			h = h[1 : len(h)-1]
		}
	}
	ip, want := net.ParseIP(h), net.ParseIP(wantIP)
	if ip == nil || want == nil || !ip.Equal(want) {
		return false
	}
	pn, err1 := strconv.Atoi(p)
	wn, err2 := strconv.Atoi(wantPort)
	return err1 == nil && err2 == nil && pn == wn && pn > 0
}
