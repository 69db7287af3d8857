package oauth

import (
	"errors"
	"fmt"
	"html"
	"net/http"
)

// ServeHTTP is the loopback callback listener of a login. Only GET
// /callback with this login's state ends it; anything else (another path,
// a missing or foreign state, a stray favicon request) gets a 400 page and
// the login keeps waiting. The pages are tiny and static, with no links or
// third-party resources, and send no Referer (the URL carried the code).
func (l *login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
