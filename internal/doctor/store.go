package doctor

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/psnd/psnd/internal/api"

	"github.com/psnd/psnd/internal/textutil"
)

// keyResetFix is the way out when the database's data key is gone for good
// (SPEC §3: never overwrite; the user logs in again).
const keyResetFix = "if PSN_HOME or PSN_KEYRING changed since psnd last worked, set them back so psnd finds its key; " +
	"if the key is truly lost, start the daemon and run `psnd auth reset-key`, then `psnd setup` to store the X app secret and log in again"

// recoverFix says how to get a usable database back from a damaged one.
func recoverFix(db string) string {
	q := shellQuote(db)
	return "stop the daemon, keep a copy (`cp " + q + " " + shellQuote(db+".damaged") + "`), then restore a backup, or salvage what is left: " +
		"`sqlite3 " + q + " .recover | sqlite3 " + shellQuote(filepath.Join(filepath.Dir(db), "psn-recovered.db")) + "` and move the result to " + q
}

// NoDatabase is the database check of a data directory without psn.db.
func NoDatabase(db string) api.DoctorCheck {
	return warn(NameDatabase, "no database yet ("+db+" does not exist)",
		"run `psnd setup` (or start the daemon with `psnd serve`), which creates it")
}

// MissingDatabase is the database check when psn.db is missing (or empty)
// although marker records that this directory had one: the daemon refuses
// to start rather than create an empty database.
func MissingDatabase(db, marker string) api.DoctorCheck {
	return fail(NameDatabase, db+" is missing, but "+marker+" records that a database was created here: the daemon refuses to start with an empty one",
		"restore "+shellQuote(db)+" from a backup (with its -wal file if there is one); to start afresh with an empty database instead, remove "+shellQuote(marker))
}

// DatabaseGone is the database check of a daemon whose database file was
// deleted (removed) or replaced while it ran: it refuses every change.
// rescued is where the daemon saved the data it still had open ("" if it
// could not).
func DatabaseGone(db string, removed bool, rescued, goos string) api.DoctorCheck {
	keep := ""
	if rescued != "" {
		keep = "; to keep the data the daemon had (saved as " + rescued + "), stop it first and move that file to " + shellQuote(db)
	}
	if removed {
		return fail(NameDatabase, db+" was deleted while the daemon was running: it refuses every change, since changes would be lost",
			"restore "+shellQuote(db)+" from a backup, then "+restartHint(goos)+keep)
	}
	return fail(NameDatabase, db+" was replaced while the daemon was running: it still has the old file open and refuses every change",
		restartHint(goos)+", to use the file now there"+keep)
}

// CheckOpen reports a database that could not even be opened; notADB says
// SQLite found no database in the file.
func CheckOpen(db string, err error, notADB bool) api.DoctorCheck {
	if notADB {
		return fail(NameDatabase, db+" is not a SQLite database (damaged or overwritten)", recoverFix(db))
	}
	return fail(NameDatabase, "cannot open "+db+": "+errLine(err),
		"make sure the file is yours and readable (`ls -l "+shellQuote(db)+"`); if it is damaged: "+recoverFix(db))
}

// CheckIntegrity judges the rows of PRAGMA integrity_check ("ok" alone when
// the file is sound).
func CheckIntegrity(db string, rows []string, err error) api.DoctorCheck {
	if err != nil {
		return fail(NameDatabase, "integrity check of "+db+" could not run: "+errLine(err), recoverFix(db))
	}
	if len(rows) == 1 && rows[0] == "ok" {
		return okc(NameDatabase, "%s passes SQLite's integrity check", db)
	}
	if len(rows) == 0 {
		return fail(NameDatabase, "integrity check of "+db+" gave no answer", recoverFix(db))
	}
	more := ""
	if len(rows) > 1 {
		more = fmt.Sprintf(" (and %d more problems)", len(rows)-1)
	}
	return fail(NameDatabase, db+" is damaged: "+textutil.FirstLine(rows[0])+more, recoverFix(db))
}

// CheckSchema compares the database's migration version with the newest
// this psnd knows.
func CheckSchema(current, known int64, err error) api.DoctorCheck {
	switch {
	case err != nil:
		return fail(NameSchema, "cannot read the schema version: "+errLine(err),
			"if the database check above failed, fix that first; otherwise start the daemon (`psnd serve`), which migrates the database")
	case current > known:
		return fail(NameSchema, fmt.Sprintf("the database is at schema version %d, newer than this psnd knows (%d): a newer psnd has used it", current, known),
			"install the newer psnd again (psnd never downgrades a database); `psnd version` shows which one runs")
	case current < known:
		return warn(NameSchema, fmt.Sprintf("the database is at schema version %d of %d: the newer migrations are applied when the daemon starts", current, known),
			"start the daemon (`psnd serve` or `psnd service install`)")
	}
	return okc(NameSchema, "schema version %d, the newest this psnd knows", current)
}

// KeyRead is the outcome of reading the data key from the keyring.
type KeyRead int

const (
	KeyFound       KeyRead = iota // a well-formed key
	KeyMissing                    // the keyring answered: no such entry
	KeyUnavailable                // locked, no Secret Service, timed out
	KeyMalformed                  // an entry psnd did not write
	KeyReadError                  // anything else (e.g. a key file others can read)
)

// KeyMatch is how the key compares with the database's key-check record.
type KeyMatch int

const (
	MatchUnknown   KeyMatch = iota // not compared (no key, or no database)
	MatchOK                        // the key made this database's record
	MatchWrong                     // another key made it
	MatchNoRecord                  // the database has no record yet
	MatchBadRecord                 // the record is damaged
)

// KeySandbox is the key mode of the sandbox's home, whose key is always a
// file of its own (whatever PSN_KEYRING says).
const KeySandbox = "sandbox"

// SandboxSkips are the checks that do not apply to the sandbox's home: it
// publishes to psnd's built-in offline X, which needs no X app, no login
// and so no callback port.
func SandboxSkips() []api.DoctorCheck {
	const why = "not needed in the sandbox: @sandbox is always logged in to psnd's built-in offline X"
	return []api.DoctorCheck{skip(NameApp, why), skip(NameAccounts, why), skip(NameCallback, why)}
}

// Key is what reading the data key found while the daemon is not running.
type Key struct {
	Mode  string  // "system", "file" or KeySandbox
	Where string  // "the OS keyring", "key file /…/master.key"
	Read  KeyRead //
	Err   error   // the read error, for the message
	Match KeyMatch
}

// CheckKeyring says whether the keyring could be asked at all.
func CheckKeyring(k Key) api.DoctorCheck {
	switch k.Read {
	case KeyUnavailable:
		return fail(NameKeyring, k.Where+" is locked or unavailable: "+errLine(k.Err), unlockFix(k.Mode))
	case KeyReadError:
		return fail(NameKeyring, "cannot read the data key from "+k.Where+": "+errLine(k.Err), readFix(k))
	}
	return keyringOK(k.Where, k.Mode)
}

func keyringOK(where, mode string) api.DoctorCheck {
	switch mode {
	case KeySandbox:
		return okc(NameKeyring, "%s is readable (the sandbox keeps its key in a file)", where)
	case "file":
		return okc(NameKeyring, "%s is readable (PSN_KEYRING=file)", where)
	}
	return okc(NameKeyring, "%s answers (PSN_KEYRING=%s)", where, mode)
}

func unlockFix(mode string) string {
	if mode == "file" || mode == KeySandbox {
		return "make the key file readable by you alone: `chmod 600` it"
	}
	return "unlock your login keyring (log in to your desktop session) and run `psnd doctor` again; " +
		"on a machine without a keyring use PSN_KEYRING=file from the start (the daemon waits for the keyring meanwhile)"
}

func readFix(k Key) string {
	if k.Mode == "file" || k.Mode == KeySandbox {
		if p, ok := strings.CutPrefix(k.Where, "key file "); ok {
			return "the key file must be a regular file of yours with mode 0600: `chmod 600 " + shellQuote(p) + "`"
		}
	}
	return "see the error; `psnd serve --verbose` logs the keyring's answers"
}

// CheckDataKey says whether the data key exists and belongs to this
// database. withDB is false when there is no database to compare with.
func CheckDataKey(k Key, withDB bool) api.DoctorCheck {
	switch k.Read {
	case KeyUnavailable, KeyReadError:
		return skip(NameDataKey, "the keyring could not be read (see keyring)")
	case KeyMalformed:
		return fail(NameDataKey, "the data key entry in "+k.Where+" is not one psnd wrote: "+errLine(k.Err)+"; psnd will not replace it",
			"if you edited or replaced it, restore it; otherwise delete the entry (service \"psnd\") and then "+keyResetFix)
	case KeyMissing:
		if !withDB || k.Match == MatchNoRecord {
			return warn(NameDataKey, "no data key in "+k.Where+" yet",
				"start the daemon (`psnd serve`); it creates the key on first start")
		}
		return fail(NameDataKey, "the data key of this database is missing from "+k.Where+": stored tokens and the X app secret cannot be decrypted",
			keyResetFix)
	}
	switch k.Match {
	case MatchOK:
		return okc(NameDataKey, "present in %s and matches this database", k.Where)
	case MatchWrong:
		return fail(NameDataKey, "the data key in "+k.Where+" is not the one this database was sealed with: stored tokens and the X app secret cannot be decrypted",
			keyResetFix)
	case MatchBadRecord:
		return fail(NameDataKey, "the database's key-check record is damaged, so the key cannot be verified",
			keyResetFix)
	case MatchNoRecord:
		return okc(NameDataKey, "present in %s; the daemon binds it to the database when it starts", k.Where)
	}
	return okc(NameDataKey, "present in %s", k.Where)
}

// DaemonKey is the data key as the running daemon holds it.
type DaemonKey struct {
	Mode      string // "system", "file" or KeySandbox
	State     string // "ready", "waiting_for_keyring" or "error" (secrets.KeyState)
	LastError string // the keyring's last failure
	Bound     bool   // checked against the database and accepted
	BindError string // why it was refused (a key that does not match)
}

// CheckDaemonKey gives the keyring and data_key checks from the daemon's
// view, which is authoritative while it runs: it holds the key in memory.
func CheckDaemonKey(k DaemonKey) []api.DoctorCheck {
	where := "the OS keyring"
	switch k.Mode {
	case "file":
		where = "the key file"
	case KeySandbox:
		where = "the sandbox's key file"
	}
	switch k.State {
	case "waiting_for_keyring":
		msg := "the daemon is waiting for " + where + " (locked or unavailable); nothing is published until it can read the key"
		if k.LastError != "" {
			msg += ": " + textutil.FirstLine(k.LastError)
		}
		return []api.DoctorCheck{fail(NameKeyring, msg, unlockFix(k.Mode)),
			skip(NameDataKey, "the keyring could not be read (see keyring)")}
	case "error":
		return []api.DoctorCheck{
			keyringOK(where, k.Mode),
			fail(NameDataKey, "the data key in "+where+" is unusable: "+textutil.FirstLine(k.LastError), keyResetFix),
		}
	}
	kr := keyringOK(where, k.Mode)
	switch {
	case k.BindError != "":
		return []api.DoctorCheck{kr, fail(NameDataKey, textutil.FirstLine(k.BindError), keyResetFix)}
	case !k.Bound:
		return []api.DoctorCheck{kr, warn(NameDataKey, "the daemon has read the key and is checking it against the database",
			"run `psnd doctor` again in a moment")}
	}
	return []api.DoctorCheck{kr, okc(NameDataKey, "read from %s and matches this database", where)}
}

// App is where the X app's credentials come from.
const (
	AppStored    = "stored"     // in the database (psnd setup)
	AppDaemonEnv = "daemon_env" // the running daemon's X_CLIENT_ID
	AppShellEnv  = "shell_env"  // only this shell's X_CLIENT_ID (no daemon)
)

// CheckApp checks that there are X app credentials to log in with.
func CheckApp(a api.App) api.DoctorCheck {
	if !a.Configured {
		return fail(NameApp, "no X app credentials: psnd cannot log in or renew tokens",
			"run `psnd setup`: it shows how to create the app in the X Developer Portal and stores its client id (and secret)")
	}
	kind := a.ClientType
	if kind == "" {
		kind = "public"
		if a.HasClientSecret {
			kind = "confidential"
		}
	}
	switch a.Source {
	case AppDaemonEnv:
		return okc(NameApp, "client id %s (%s client), from the daemon's X_CLIENT_ID", a.ClientID, kind)
	case AppShellEnv:
		return warn(NameApp, "client id "+a.ClientID+" only in this shell's X_CLIENT_ID: a daemon started elsewhere (the service) will not have it",
			"run `psnd setup` to store it")
	}
	return okc(NameApp, "client id %s (%s client), stored", a.ClientID, kind)
}

// FailedPost is a post that failed and waits for the user.
type FailedPost struct {
	ID      int64
	Account string
	Reason  string
}

// CheckFailedPosts lists failed posts waiting for a retry or a decision.
func CheckFailedPosts(posts []FailedPost, err error) api.DoctorCheck {
	if err != nil {
		return skip(NameFailedPosts, "could not list failed posts: "+errLine(err))
	}
	if len(posts) == 0 {
		return okc(NameFailedPosts, "no failed posts")
	}
	var items []string
	for _, p := range posts {
		s := fmt.Sprintf("#%d", p.ID)
		if p.Account != "" {
			s += " @" + p.Account
		}
		if p.Reason != "" {
			s += " (" + textutil.Truncate(textutil.FirstLine(p.Reason), 80) + ")"
		}
		items = append(items, s)
	}
	return warn(NameFailedPosts, plural(len(posts), "failed post waits", "failed posts wait")+": "+list(items),
		"see them with `psnd list --status failed`; fix the cause, then `psnd retry ID` (or `psnd delete ID`)")
}
