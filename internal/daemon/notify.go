package daemon

import (
	"fmt"
	"runtime"

	"github.com/psnd/psnd/internal/desktop"
	"github.com/psnd/psnd/internal/oauth"
	"github.com/psnd/psnd/internal/publishing"
	"github.com/psnd/psnd/internal/textutil"
)

// setupNotify builds the desktop notifier (SPEC §8): off with PSN_NOTIFY=0
// or without a desktop session. Its goroutine is started with the other
// background work; until then notices wait in its queue.
func (d *Daemon) setupNotify() {
	d.desktop = desktop.New(desktop.Config{Enabled: d.cfg.Env.Notify, GOOS: runtime.GOOS,
		SessionBus: d.cfg.Env.SessionBus, Logger: d.log})
	d.notices = desktopNotices{d.desktop}
}

// desktopNotices shows publishing's notices on the desktop. A notice
// about a post is shown once per post and kind within the desktop's
// window, one about an account once per account and kind.
type desktopNotices struct{ d *desktop.Notifier }

func (n desktopNotices) Notify(no publishing.Notice) {
	key := fmt.Sprintf("%s/account/%s", no.Kind, no.Account)
	if no.PostID != 0 {
		key = fmt.Sprintf("%s/post/%d", no.Kind, no.PostID)
	}
	n.d.Show(desktop.Message{Key: key, Title: no.Title, Body: no.Body,
		Urgent: no.Kind == publishing.NoticeFailed || no.Kind == publishing.NoticeNeedsLogin})
}

// needsLoginNotice is what the user sees when X refused an account's
// refresh token: nothing is published for it until they log in again.
func needsLoginNotice(re *oauth.ReauthError) publishing.Notice {
	who, acct := re.AccountID, re.AccountID
	if re.Username != "" {
		who, acct = "@"+re.Username, re.Username
	}
	return publishing.Notice{Kind: publishing.NoticeNeedsLogin, Account: acct,
		Title: "psnd: " + who + " must log in again",
		Body:  textutil.Truncate(textutil.FirstLine(re.Reason), 200) + "\nRun psnd auth login"}
}
