package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/textutil"
)

func newAuthCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Log in to X, show and log out accounts",
		Long: `Connect X accounts to psnd. 'psnd auth login' opens X's consent page in your
browser; psnd catches the redirect on http://127.0.0.1:18923/callback (PSN_CALLBACK_ADDR)
and stores the tokens encrypted. Tokens refresh themselves from then on.`,
		Example: `  psnd auth login
  psnd auth status
  psnd auth logout @alice`,
		Args: exactArgs(0, "a subcommand: login, status, logout or reset-key"),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAuthLoginCmd(env), newAuthStatusCmd(env), newAuthLogoutCmd(env), newAuthResetKeyCmd(env))
	return cmd
}

func newAuthLoginCmd(env *Env) *cobra.Command {
	var o loginOptions
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to an X account in your browser",
		Long: `Log in to an X account: psnd prints X's consent URL and opens it in your
browser; after you approve, X redirects to psnd's loopback callback and the
account is connected. Logging in to an account again replaces its tokens; the
first account connected is the default.

Without a browser on this machine (SSH, a server), use --no-browser: open the
printed URL anywhere, approve, then copy the address your browser was sent to
(it starts with the callback URL and fails to load) and paste it here. psnd
also offers the paste prompt when the callback port is busy or no redirect
arrives in time (--timeout, default 2m). Paste quickly: X's codes expire 30
seconds after you approve.`,
		Example: `  psnd auth login
  psnd auth login --no-browser     # headless: paste the redirect URL`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.timeout < 0 {
				return usagef("--timeout must be positive")
			}
			if max := api.MaxLoginTimeoutMS * time.Millisecond; o.timeout > max {
				return usagef("--timeout must be at most %v", max)
			}
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			o.readStdin = true
			acct, err := runLogin(cmd.Context(), env, s.c, o)
			if errors.Is(err, errLoginCancelled) {
				return cancelledLogin(env)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, acct)
			}
			fmt.Fprintf(env.Stdout, "Logged in to X as %s.%s\n", describeAccount(acct), defaultNote(acct))
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser; paste the redirect URL instead")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 0, "how long to wait for the browser's redirect before asking to paste it (default 2m)")
	jsonFlag(cmd, &asJSON, "the account")
	return cmd
}

func describeAccount(a api.Account) string {
	s := "@" + a.Username
	if a.DisplayName != "" && a.DisplayName != a.Username {
		s += " (" + a.DisplayName + ")"
	}
	return s
}

func defaultNote(a api.Account) string {
	if a.Default {
		return " It is the default account."
	}
	return ""
}

func newAuthStatusCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show connected accounts, token expiry and problems",
		Long: `Show the X app psnd logs in with and every connected account: which is the
default, its subscription (Premium accounts may post long texts), when it
logged in, when its access token expires and was last refreshed (in your
time zone, with a hint such as "in 1h50m"), and any problem with what to do
about it — for example "needs to log in again" when X revoked psnd's access.

In the sandbox (psnd serve --sandbox), @sandbox is always logged in and no X
app is needed; the status says so and where the sandbox's data lives.`,
		Example: `  psnd auth status
  psnd auth status --json | jq '.accounts[] | {username, needs_reauth}'`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			st, err := s.c.AuthStatus(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, st)
			}
			if st.Sandbox || s.health.Sandbox {
				printSandboxStatus(env, s.health, st)
				return nil
			}
			printAuthStatus(env, s.loc, st)
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "every account's status")
	return cmd
}

func printAuthStatus(env *Env, loc *time.Location, st api.AuthStatus) {
	w := env.Stdout
	c := stdoutColors(env)
	switch {
	case !st.App.Configured:
		fmt.Fprintf(w, "X app: %s (run `psnd setup`)\n", c.yellow("not configured"))
	default:
		fmt.Fprintf(w, "X app: client id %s (%s", st.App.ClientID, st.App.ClientType)
		if st.App.Source == "daemon_env" {
			fmt.Fprint(w, ", from the daemon's X_CLIENT_ID")
		}
		fmt.Fprintln(w, ")")
	}
	if st.App.CallbackURL != "" {
		fmt.Fprintf(w, "Callback URL: %s\n", st.App.CallbackURL)
	}
	if st.App.CallbackError != "" {
		fmt.Fprintf(w, "Callback: %s\n", c.red(st.App.CallbackError))
	}
	if len(st.Accounts) == 0 {
		fmt.Fprintln(w, "\nNo X account connected: run `psnd auth login`.")
		return
	}
	for _, a := range st.Accounts {
		printAccountHeader(w, c, a)
		if a.LoggedIn {
			fmt.Fprintf(w, "  logged in:     %s\n", authTime(env, loc, a.LoggedInAt))
			fmt.Fprintf(w, "  token expires: %s\n", authTime(env, loc, a.TokenExpiresAt))
			fmt.Fprintf(w, "  last refresh:  %s\n", authTime(env, loc, a.LastRefreshAt))
		}
		if len(a.Problems) == 0 {
			fmt.Fprintf(w, "  status:        %s\n", c.green("ok"))
		}
		for _, p := range a.Problems {
			fmt.Fprintf(w, "  problem:       %s\n", c.red(p))
		}
	}
}

// printSandboxStatus is auth status in the sandbox, where @sandbox is
// always logged in and there is no X app, login or token expiry to show.
func printSandboxStatus(env *Env, h api.Health, st api.AuthStatus) {
	w := env.Stdout
	c := stdoutColors(env)
	dir := h.DataDir
	if dir == "" { // an older daemon
		dir = filepath.Join(h.Home, "sandbox")
	}
	fmt.Fprintf(w, "Sandbox: this daemon publishes to psnd's built-in offline X, where @sandbox is always logged in;\n"+
		"no X app or login is needed. Its data is in %s.\n", dir)
	for _, a := range st.Accounts {
		printAccountHeader(w, c, a)
		if a.LoggedIn && !a.NeedsReauth {
			fmt.Fprintln(w, "  logged in:     always, in the sandbox")
		}
		if len(a.Problems) == 0 {
			fmt.Fprintf(w, "  status:        %s\n", c.green("ok"))
		}
		for _, p := range a.Problems {
			fmt.Fprintf(w, "  problem:       %s\n", c.red(p))
		}
	}
}

// authTime shows a time in the user's zone with a relative hint.
func authTime(env *Env, loc *time.Location, t *time.Time) string {
	if t == nil {
		return "never"
	}
	return fmtWhen(env, loc, t)
}

func newAuthLogoutCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "logout [ACCOUNT]",
		Short: "Revoke an account's tokens at X and forget them",
		Long: `Revoke the account's tokens at X (best effort) and delete them from psnd.
ACCOUNT is a username (with or without @) or an X user id; without it, the
default account. The account and its posts stay; log in again to use it.`,
		Example: `  psnd auth logout
  psnd auth logout @alice --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s expects at most one ACCOUNT", cmd.CommandPath())
			}
			return nil
		},
		ValidArgsFunction: completeAccountArg(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			res, err := s.c.Logout(cmd.Context(), name)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, res)
			}
			who := "@" + res.Account.Username
			switch {
			case !res.HadTokens:
				fmt.Fprintf(env.Stdout, "%s was not logged in.\n", who)
			case res.Revoked:
				fmt.Fprintf(env.Stdout, "Logged out %s: tokens revoked at X and deleted.\n", who)
			default:
				fmt.Fprintf(env.Stdout, "Logged out %s: tokens deleted.\n", who)
				warn(env, fmt.Sprintf("X did not confirm revoking them (%s); you can remove psnd's access at https://x.com/settings/connected_apps", res.RevokeError))
			}
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "the result")
	return cmd
}

// loginOptions tune the interactive login flow.
type loginOptions struct {
	noBrowser bool
	timeout   time.Duration
	// readStdin lets a non-terminal stdin carry a pasted URL (scripts);
	// setup leaves it off so that it never blocks on a pipe.
	readStdin bool
}

// errNeedInput is a login that cannot finish without the user typing.
var errNeedInput = errors.New("need input")

// errLoginCancelled is a login the user interrupted (Ctrl-C).
var errLoginCancelled = errors.New("Login cancelled.")

// cancelledLogin reports an interrupted login in the words the user
// expects, with the shell's status for Ctrl-C.
func cancelledLogin(env *Env) error {
	fmt.Fprintln(env.Stderr, errLoginCancelled.Error())
	return silentError{ExitInterrupted}
}

// runLogin drives a login in the daemon: it prints the authorize URL
// (always), opens the browser unless told not to, then waits for the
// daemon to catch the redirect — or, with --no-browser, a busy port, a
// browser that failed to open, or no redirect in time, for a pasted
// redirect URL or code, which the daemon checks and exchanges. Messages go
// to stderr; stdout stays for the result.
func runLogin(ctx context.Context, env *Env, c loginClient, o loginOptions) (_ api.Account, err error) {
	defer func() {
		// Ctrl-C ends the context wherever the login was waiting.
		if err != nil && ctx.Err() != nil {
			err = errLoginCancelled
		}
	}()
	l, err := c.StartLogin(ctx, api.LoginRequest{TimeoutMS: o.timeout.Milliseconds()})
	if err != nil {
		return api.Account{}, err
	}
	finished := false
	defer func() {
		if !finished {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_, _ = c.CancelLogin(cctx, l.ID)
		}
	}()

	out := env.Stderr
	fmt.Fprintf(out, "To log in to X, open this URL in a browser and approve psnd:\n\n  %s\n\n", l.AuthURL)

	canRead := env.StdinIsTerminal || o.readStdin
	events := make(chan loginEvent, 4)
	go pollLogin(ctx, c, l, events)

	paste := false
	var lines <-chan lineResult
	startPaste := func(why string) {
		if paste {
			return
		}
		paste = true
		if why != "" {
			fmt.Fprintln(out, why)
		}
		if canRead {
			fmt.Fprintf(out, "Paste the full URL your browser was sent to (it starts with %s), or just the code, and press Enter:\n", l.RedirectURI)
			if lines == nil {
				lines = readLines(env.Stdin)
			}
		}
	}

	var browserDone <-chan error
	switch {
	case !l.Listening:
		startPaste(l.ListenError)
	case o.noBrowser:
		startPaste("")
	case env.OpenBrowser == nil:
		startPaste("This psnd cannot open a browser.")
	default:
		browserDone = openBrowserAsync(env.OpenBrowser, l.AuthURL)
	}
	if l.State == api.LoginAwaitingCode && !canRead {
		return api.Account{}, fmt.Errorf("%w: %s; run `psnd auth login` in a terminal to paste the redirect URL", errNeedInput, l.ListenError)
	}
	stopSpin := func() {}
	if !paste {
		stopSpin = startSpinner(env, "Waiting for you to approve psnd at X…").stop
	}
	defer func() { stopSpin() }()

	for {
		select {
		case <-ctx.Done():
			return api.Account{}, ctx.Err()
		case err := <-browserDone:
			browserDone = nil
			if err != nil {
				stopSpin()
				startPaste("Could not open a browser (" + textutil.FirstLine(err.Error()) + "); open the URL above yourself.")
			}
		case ev := <-events:
			if ev.err != nil {
				return api.Account{}, ev.err
			}
			l = ev.login
			if l.Done() {
				finished = true
				stopSpin()
				return loginResult(l)
			}
			if l.State == api.LoginAwaitingCode && !paste {
				stopSpin()
				why := "No redirect arrived from the browser."
				if l.ListenError != "" {
					why = strings.TrimSuffix(l.ListenError, ": paste the redirect URL instead") + "."
				}
				startPaste(why)
			}
			if l.State == api.LoginAwaitingCode && !canRead {
				return api.Account{}, fmt.Errorf("%w: no redirect from the browser arrived; run `psnd auth login` in a terminal to paste the redirect URL", errNeedInput)
			}
		case r := <-lines:
			if r.err != nil {
				lines = nil
				if o.noBrowser && r.err == errEndOfInput {
					// No browser will deliver the redirect and nothing
					// more can be pasted: waiting would only use up the
					// timeout.
					return api.Account{}, errors.New("stdin ended before a redirect URL was pasted; run `psnd auth login --no-browser` in a terminal, open the URL in any browser, approve, then paste the address it was sent to")
				}
				if l.State == api.LoginAwaitingCode {
					return api.Account{}, fmt.Errorf("no redirect from the browser and nothing pasted (%v); run `psnd auth login` again", r.err)
				}
				canRead = false // keep waiting for the browser
				continue
			}
			if strings.TrimSpace(r.line) == "" {
				continue
			}
			nl, err := c.SubmitLoginCode(ctx, l.ID, r.line)
			var ae *api.Error
			if errors.As(err, &ae) && ae.Code == api.CodeBadRequest {
				fmt.Fprintf(out, "psnd: %s\nPaste again:\n", ae.Message)
				continue
			}
			if err != nil {
				return api.Account{}, err
			}
			if nl.Done() {
				finished = true
				return loginResult(nl)
			}
		}
	}
}

// loginClient is what runLogin needs of the API client.
type loginClient interface {
	StartLogin(ctx context.Context, req api.LoginRequest) (api.Login, error)
	WaitLogin(ctx context.Context, id string, after int, wait time.Duration) (api.Login, error)
	SubmitLoginCode(ctx context.Context, id, input string) (api.Login, error)
	CancelLogin(ctx context.Context, id string) (api.Login, error)
}

func loginResult(l api.Login) (api.Account, error) {
	if l.State == api.LoginSucceeded && l.Account != nil {
		return *l.Account, nil
	}
	msg := "login " + l.State
	if l.Error != nil {
		msg = "login failed: " + l.Error.Message
	}
	return api.Account{}, errors.New(msg)
}

type loginEvent struct {
	login api.Login
	err   error
}

// pollLogin long-polls the daemon and reports every change until the
// login ends or ctx does.
func pollLogin(ctx context.Context, c loginClient, l api.Login, events chan<- loginEvent) {
	version := l.Version
	for {
		nl, err := c.WaitLogin(ctx, l.ID, version, 25*time.Second)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			events <- loginEvent{err: err}
			return
		}
		if nl.Version != version || nl.Done() {
			version = nl.Version
			select {
			case events <- loginEvent{login: nl}:
			case <-ctx.Done():
				return
			}
			if nl.Done() {
				return
			}
		}
	}
}

// errEndOfInput is stdin at its end (a closed pipe, /dev/null).
var errEndOfInput = errors.New("end of input")

type lineResult struct {
	line string
	err  error
}

// readLines reads stdin line by line in the background. The goroutine
// ends with stdin (a terminal read cannot be interrupted; the process
// exits soon after a login anyway).
func readLines(r io.Reader) <-chan lineResult {
	ch := make(chan lineResult)
	go func() {
		var buf []byte
		b := make([]byte, 1)
		for {
			n, err := r.Read(b)
			if n > 0 {
				if b[0] == '\n' {
					ch <- lineResult{line: strings.TrimRight(string(buf), "\r")}
					buf = buf[:0]
					continue
				}
				buf = append(buf, b[0])
			}
			if err != nil {
				if len(buf) > 0 {
					ch <- lineResult{line: string(buf)}
				}
				if err == io.EOF {
					err = errEndOfInput
				}
				ch <- lineResult{err: err}
				return
			}
		}
	}()
	return ch
}

// openBrowserAsync runs the opener without waiting long for it:
// pkg/browser waits for the launcher to exit, which may never happen.
func openBrowserAsync(open func(string) error, url string) <-chan error {
	res := make(chan error, 1)
	go func() {
		done := make(chan error, 1)
		go func() { done <- open(url) }()
		t := time.NewTimer(10 * time.Second)
		defer t.Stop()
		select {
		case err := <-done:
			res <- err
		case <-t.C:
			res <- nil // still running: assume a browser is up
		}
	}()
	return res
}

// printAccountHeader is the first lines of an account in auth status: its
// name, whether it is the default, its id and subscription.
func printAccountHeader(w io.Writer, c palette, a api.AccountStatus) {
	fmt.Fprintf(w, "\n%s", c.bold(describeAccount(a.Account)))
	if a.Default {
		fmt.Fprint(w, " — default")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  id:            %s\n", a.ID)
	fmt.Fprintf(w, "  subscription:  %s\n", a.SubscriptionType)
}
