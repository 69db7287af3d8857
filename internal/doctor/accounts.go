package doctor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/textutil"
)

// Account is one connected account's login, as stored.
type Account struct {
	ID              string
	Username        string
	LoggedIn        bool // has tokens
	HasRefresh      bool // X issued a refresh token (offline.access)
	ExpiresAt       *time.Time
	Scopes          []string
	NeedsReauth     bool
	ReauthReason    string
	ReauthAt        *time.Time
	RefreshFailures int
	LastError       string
}

// expiringSoon is how close to expiry a token that cannot be renewed
// starts to warn.
const expiringSoon = 24 * time.Hour

// CheckAccounts gives one check per account (or one saying there is none).
// required are the scopes psnd asks for at login.
func CheckAccounts(accts []Account, required []string, now time.Time) []api.DoctorCheck {
	if len(accts) == 0 {
		return []api.DoctorCheck{warn(NameAccounts, "no X account is connected: there is nothing to post as",
			"run `psnd auth login` (or `psnd setup`)")}
	}
	out := make([]api.DoctorCheck, 0, len(accts))
	for _, a := range accts {
		out = append(out, CheckAccount(a, required, now))
	}
	return out
}

// CheckAccount judges one account's tokens: valid, expiring, or needing a
// new login (with X's reason).
func CheckAccount(a Account, required []string, now time.Time) api.DoctorCheck {
	name := NameAccount + " @" + a.Username
	login := "run `psnd auth login` and approve as @" + a.Username + " in the browser"
	switch {
	case !a.LoggedIn:
		return warn(name, "@"+a.Username+" is logged out: its posts cannot be published", login+" (or `psnd auth logout` was meant: then delete its posts)")
	case a.NeedsReauth:
		msg := "@" + a.Username + " needs to log in again"
		if a.ReauthReason != "" {
			msg += ": " + textutil.FirstLine(a.ReauthReason)
		}
		if a.ReauthAt != nil {
			msg += " (since " + a.ReauthAt.UTC().Format(time.RFC3339) + ")"
		}
		return fail(name, msg+"; its posts fail until then", login)
	}
	var missing []string
	for _, s := range required {
		if !slices.Contains(a.Scopes, s) {
			missing = append(missing, s)
		}
	}
	if len(a.Scopes) > 0 && len(missing) > 0 {
		return warn(name, "@"+a.Username+" did not grant "+strings.Join(missing, " ")+": some posts (media, threads, renewal) will be refused",
			login+", approving every permission")
	}
	if a.RefreshFailures > 0 {
		return warn(name, fmt.Sprintf("renewing @%s's token has failed %s: %s", a.Username,
			plural(a.RefreshFailures, "time", "times"), textutil.FirstLine(a.LastError)),
			"check the network and https://api.x.com; psnd keeps trying, and if X refuses the token it says so here: then "+login)
	}
	if a.ExpiresAt == nil {
		return okc(name, "@%s logged in (X gave no expiry)", a.Username)
	}
	left := a.ExpiresAt.Sub(now)
	if !a.HasRefresh {
		switch {
		case left <= 0:
			return fail(name, fmt.Sprintf("@%s's access token expired %s ago and cannot be renewed (no refresh token)", a.Username, human(left)),
				login+" (psnd asks for offline.access so that tokens renew themselves)")
		case left < expiringSoon:
			return warn(name, fmt.Sprintf("@%s's access token expires in %s and cannot be renewed (no refresh token)", a.Username, human(left)),
				login+" (psnd asks for offline.access so that tokens renew themselves)")
		}
		return okc(name, "@%s logged in; token valid for %s", a.Username, human(left))
	}
	if left <= 0 {
		return okc(name, "@%s logged in; the access token expired %s ago and is renewed at the next use", a.Username, human(left))
	}
	return okc(name, "@%s logged in; token valid for %s, renewed automatically", a.Username, human(left))
}
