package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/apiclient"
)

// Setup step names and statuses (SPEC §4: `--json` prints one object per
// step and line).
const (
	stepDataDir = "data_dir"
	stepKeyring = "keyring"
	stepApp     = "x_app"
	stepLogin   = "login"
	stepCheck   = "check"

	statusSuccess   = "success"
	statusSkipped   = "skipped"
	statusNeedInput = "need_input"
	statusError     = "error"
)

// SetupStep is one line of `psnd setup --json`.
type SetupStep struct {
	Step    string `json:"step"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

type setupOptions struct {
	noBrowser bool
	asJSON    bool
	timeout   time.Duration
}

func newSetupCmd(env *Env) *cobra.Command {
	var o setupOptions
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Set psnd up step by step: daemon, keyring, X app, login, check",
		Long: `Walk through everything psnd needs, in order, skipping what is already done:

  data_dir  the daemon is running and has its data directory and database
  keyring   the data key that encrypts tokens is readable
  x_app     your X app's client id (and secret) are stored, the secret encrypted
  login     an X account is logged in
  check     X answers GET /2/users/me with the account's token

Run it again at any time: it resumes where it stopped. The X app credentials
come from X_CLIENT_ID / X_CLIENT_SECRET, or a prompt on a terminal. Without a
terminal nothing waits for input: the step reports need_input and psnd setup
exits non-zero.

Against the sandbox (psnd serve --sandbox), setup checks the sandbox's own data
directory ($PSN_HOME/sandbox) and key file, skips x_app and login, which the
sandbox does not need (nothing is stored), and checks with its built-in X.

` + portalSteps("http://127.0.0.1:18923/callback"),
		Example: `  psnd setup
  X_CLIENT_ID=... X_CLIENT_SECRET=... psnd setup --json
  psnd setup --no-browser          # headless: paste the redirect URL`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSetup(cmd.Context(), env, o)
		},
	}
	cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false, "do not open a browser to log in; paste the redirect URL instead")
	jsonFlag(cmd, &o.asJSON, "each step (one object per line)")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 0, "how long to wait for the browser's redirect when logging in (default 2m)")
	return cmd
}

// portalSteps are the X Developer Console instructions for psnd's app.
func portalSteps(callback string) string {
	return `Creating the X app (once):
  1. Open https://console.x.com (X's Developer Console; formerly the developer
     portal at developer.x.com) and sign in with your X account.
  2. Create an app (or open an existing one), then open its user
     authentication settings and set up OAuth 2.0.
  3. App permissions: Read and write.
  4. Type of app: "Web App, Automated App or Bot" (a confidential client,
     which gets a Client Secret: recommended), or "Native App" (a public
     client without a secret).
  5. Callback URI / Redirect URL: exactly ` + callback + `
     (same host, port and path, no trailing slash; PSN_CALLBACK_ADDR changes it).
  6. Website URL: any https URL of yours (X requires one; psnd does not use it).
  7. Save, then copy the OAuth 2.0 Client ID and, for a Web/Automated app, the
     Client Secret from the app's "Keys and tokens" page. X shows the secret
     only once; regenerate it there if you lost it.
  8. Give them to psnd: run psnd setup in a terminal and paste them, or set
     X_CLIENT_ID and X_CLIENT_SECRET and run psnd setup.`
}

// setupRun prints steps as they finish.
type setupRun struct {
	env    *Env
	asJSON bool
	failed bool
	code   int
}

func (s *setupRun) emit(step, status, msg string) {
	s.emitMark(step, status, "", msg)
}

// emitMark is emit with the text mark given (for a skipped step that was
// not needed rather than done); "" means the status's own.
func (s *setupRun) emitMark(step, status, mark, msg string) {
	if status == statusError || status == statusNeedInput {
		s.failed = true
	}
	if s.asJSON {
		b, _ := json.Marshal(SetupStep{Step: step, Status: status, Message: msg})
		fmt.Fprintf(s.env.Stdout, "%s\n", b)
		return
	}
	label := map[string]string{stepDataDir: "data directory", stepKeyring: "keyring", stepApp: "X app",
		stepLogin: "login", stepCheck: "check"}[step]
	if mark == "" {
		mark = map[string]string{statusSuccess: "ok", statusSkipped: "done", statusNeedInput: "needed", statusError: "FAILED"}[status]
	}
	c := stdoutColors(s.env)
	paint := map[string]func(string) string{statusSuccess: c.green, statusSkipped: c.green, statusNeedInput: c.yellow, statusError: c.red}[status]
	fmt.Fprintf(s.env.Stdout, "%s %-15s %s\n", paint(fmt.Sprintf("%-7s", mark)), label, msg)
}

// info prints guidance: to stderr with --json (stdout is JSON lines), to
// stdout otherwise.
func (s *setupRun) info(msg string) {
	w := s.env.Stdout
	if s.asJSON {
		w = s.env.Stderr
	}
	fmt.Fprintln(w, msg)
}

func (s *setupRun) result() error {
	if !s.failed {
		return nil
	}
	if s.code == 0 {
		s.code = ExitError
	}
	return silentError{s.code}
}

func runSetup(ctx context.Context, env *Env, o setupOptions) error {
	s := &setupRun{env: env, asJSON: o.asJSON}
	c, err := client(env)
	if err != nil {
		s.emit(stepDataDir, statusError, err.Error())
		return s.result()
	}

	// 1. The daemon owns the data directory and database: it must run.
	h, err := c.Health(ctx)
	if err != nil {
		if errors.Is(err, apiclient.ErrDaemonNotRunning) {
			s.code = ExitNoDaemon
			s.emit(stepDataDir, statusError, "the psnd daemon is not running: start it with `psnd serve` (or install it as a service with `psnd service install`), then run `psnd setup` again")
			return s.result()
		}
		s.emit(stepDataDir, statusError, err.Error())
		return s.result()
	}
	failureNotice(env, h) // the keyring's state is the next step's
	dir := h.DataDir
	if dir == "" { // an older daemon
		dir = h.Home
		if h.Sandbox {
			dir = filepath.Join(h.Home, "sandbox")
		}
	}
	what := dir
	if h.Sandbox {
		what += " (the sandbox's own data directory)"
	}
	s.emit(stepDataDir, statusSuccess, fmt.Sprintf("%s with database psn.db (daemon %s, pid %d)", what, h.Version, h.PID))

	// 2. The data key.
	h = waitKeyring(ctx, c, h)
	where := "the OS keyring"
	switch {
	case h.Sandbox:
		where = "the sandbox's key file " + filepath.Join(dir, "master.key")
	case h.Keyring.Mode == "file":
		where = "the key file " + filepath.Join(dir, "master.key") + " (PSN_KEYRING=file)"
	}
	switch h.Keyring.State {
	case "ready":
		s.emit(stepKeyring, statusSuccess, "data key ready in "+where)
	case "error":
		s.emit(stepKeyring, statusError, h.Keyring.LastError)
		return s.result()
	default:
		msg := "the daemon cannot read its data key from " + where + " yet (keyring locked or unreachable"
		if h.Keyring.LastError != "" {
			msg += ": " + h.Keyring.LastError
		}
		s.emit(stepKeyring, statusError, msg+"); unlock the keyring (the daemon retries by itself), or on a machine without one run the daemon with PSN_KEYRING=file, then run `psnd setup` again")
		return s.result()
	}

	if h.Sandbox {
		return setupSandbox(ctx, c, s)
	}

	// 3. The X app.
	if !setupApp(ctx, env, c, s) {
		return s.result()
	}

	// 4. Login, unless an account already has a good token.
	st, err := c.AuthStatus(ctx)
	if err != nil {
		s.emit(stepLogin, statusError, err.Error())
		return s.result()
	}
	var ready *api.AccountStatus
	for i := range st.Accounts {
		if a := st.Accounts[i]; a.LoggedIn && !a.NeedsReauth && (ready == nil || a.Default) {
			ready = &st.Accounts[i]
		}
	}
	checkAccount := ""
	switch {
	case ready != nil:
		checkAccount = ready.ID
		s.emit(stepLogin, statusSkipped, "logged in as "+describeAccount(ready.Account)+"; add another account with `psnd auth login`")
	case !env.StdinIsTerminal && o.noBrowser:
		s.emit(stepLogin, statusNeedInput, "log in with `psnd auth login --no-browser` in a terminal: the redirect URL must be pasted and there is no terminal here")
		return s.result()
	default:
		acct, err := runLogin(ctx, env, c, loginOptions{noBrowser: o.noBrowser, timeout: o.timeout})
		switch {
		case errors.Is(err, errLoginCancelled):
			if o.asJSON {
				s.emit(stepLogin, statusError, "login cancelled")
			}
			return cancelledLogin(env)
		case errors.Is(err, errNeedInput):
			s.emit(stepLogin, statusNeedInput, strings.TrimPrefix(err.Error(), errNeedInput.Error()+": "))
			return s.result()
		case err != nil:
			s.emit(stepLogin, statusError, err.Error())
			return s.result()
		}
		checkAccount = acct.ID
		s.emit(stepLogin, statusSuccess, "logged in as "+describeAccount(acct)+"."+defaultNote(acct))
	}

	// 5. Ask X.
	a, err := c.VerifyAccount(ctx, checkAccount)
	if err != nil {
		s.emit(stepCheck, statusError, err.Error())
		return s.result()
	}
	s.emit(stepCheck, statusSuccess, fmt.Sprintf("X answers for @%s (id %s, subscription %s): psnd is ready to post", a.Username, a.ID, a.SubscriptionType))
	return s.result()
}

// setupSandbox ends setup against a sandbox daemon: its built-in offline X
// needs no app credentials (none are stored, even from X_CLIENT_ID) and no
// login (@sandbox is always logged in); the check asks that X.
func setupSandbox(ctx context.Context, c *apiclient.Client, s *setupRun) error {
	const real = "stop it and run `psnd serve`, then `psnd setup`, to set up the real X"
	s.emitMark(stepApp, statusSkipped, "skipped", "not needed in the sandbox: it publishes to psnd's built-in offline X; nothing stored ("+real+")")
	s.emitMark(stepLogin, statusSkipped, "skipped", "not needed in the sandbox: @sandbox is always logged in")
	a, err := c.VerifyAccount(ctx, "")
	if err != nil {
		s.emit(stepCheck, statusError, err.Error())
		return s.result()
	}
	s.emit(stepCheck, statusSuccess, fmt.Sprintf("the sandbox's offline X answers for @%s (id %s): psnd is ready to post there", a.Username, a.ID))
	return s.result()
}

// waitKeyring gives a daemon that has just started a moment to read and
// check its key.
func waitKeyring(ctx context.Context, c *apiclient.Client, h api.Health) api.Health {
	for i := 0; i < 50 && h.Keyring.State != "ready" && h.Keyring.State != "error" && h.Keyring.LastError == ""; i++ {
		select {
		case <-ctx.Done():
			return h
		case <-time.After(100 * time.Millisecond):
		}
		if nh, err := c.Health(ctx); err == nil {
			h = nh
		}
	}
	return h
}

// setupApp stores the X app credentials from the environment or a prompt,
// or reports what is missing. It returns whether setup may go on.
func setupApp(ctx context.Context, env *Env, c *apiclient.Client, s *setupRun) bool {
	a, err := c.App(ctx)
	if err != nil {
		s.emit(stepApp, statusError, err.Error())
		return false
	}
	if a.CallbackError != "" {
		s.emit(stepApp, statusError, a.CallbackError)
		return false
	}
	id, secret := strings.TrimSpace(env.Getenv("X_CLIENT_ID")), strings.TrimSpace(env.Getenv("X_CLIENT_SECRET"))
	switch {
	case id != "":
		res, err := c.SetApp(ctx, api.SetAppRequest{ClientID: id, ClientSecret: secret})
		if err != nil {
			s.emit(stepApp, statusError, "store the X app credentials from X_CLIENT_ID/X_CLIENT_SECRET: "+err.Error())
			return false
		}
		if !res.Changed {
			s.emit(stepApp, statusSkipped, fmt.Sprintf("X app %s (%s) already stored; callback URL %s", res.ClientID, res.ClientType, res.CallbackURL))
			return true
		}
		s.emit(stepApp, statusSuccess, fmt.Sprintf("stored X app %s (%s) from X_CLIENT_ID/X_CLIENT_SECRET, the secret encrypted; its callback URL must be %s", res.ClientID, res.ClientType, res.CallbackURL))
		return true
	case a.Configured && a.Source == "stored":
		s.emit(stepApp, statusSkipped, fmt.Sprintf("X app %s (%s) already stored; callback URL %s", a.ClientID, a.ClientType, a.CallbackURL))
		return true
	case a.Configured:
		s.emit(stepApp, statusSkipped, fmt.Sprintf("X app %s (%s) from the daemon's own X_CLIENT_ID; callback URL %s", a.ClientID, a.ClientType, a.CallbackURL))
		return true
	case !env.StdinIsTerminal:
		s.info(portalSteps(a.CallbackURL))
		s.emit(stepApp, statusNeedInput, fmt.Sprintf("X app credentials needed: set X_CLIENT_ID (and X_CLIENT_SECRET for a Web App or Automated App) and run `psnd setup` again, or run it in a terminal to paste them; the app's callback URL must be exactly %s", a.CallbackURL))
		return false
	}
	s.info(portalSteps(a.CallbackURL) + "\n")
	in := &promptReader{env: env}
	for {
		id, err := in.line("OAuth 2.0 Client ID: ")
		if err != nil {
			s.emit(stepApp, statusNeedInput, "X app credentials needed: no client id entered")
			return false
		}
		if id == "" {
			continue
		}
		secret, err := in.secret("Client Secret (leave empty for a Native App): ")
		if err != nil {
			s.emit(stepApp, statusNeedInput, "X app credentials needed: no client secret entered")
			return false
		}
		res, err := c.SetApp(ctx, api.SetAppRequest{ClientID: id, ClientSecret: secret})
		var ae *api.Error
		if errors.As(err, &ae) && ae.Code == api.CodeBadRequest {
			fmt.Fprintf(env.Stderr, "psnd: %s; try again\n", ae.Message)
			continue
		}
		if err != nil {
			s.emit(stepApp, statusError, err.Error())
			return false
		}
		s.emit(stepApp, statusSuccess, fmt.Sprintf("stored X app %s (%s), the secret encrypted; its callback URL must be %s", res.ClientID, res.ClientType, res.CallbackURL))
		return true
	}
}

// promptReader asks questions on stderr and reads answers from stdin one
// byte at a time, so that nothing beyond the answer is consumed (a later
// login prompt reads the same stdin).
type promptReader struct {
	env *Env
}

func (p *promptReader) line(prompt string) (string, error) {
	fmt.Fprint(p.env.Stderr, prompt)
	var buf []byte
	b := make([]byte, 1)
	for {
		n, err := p.env.Stdin.Read(b)
		if n > 0 {
			if b[0] == '\n' {
				return strings.TrimSpace(string(buf)), nil
			}
			buf = append(buf, b[0])
		}
		if err != nil {
			if len(buf) > 0 && err == io.EOF {
				return strings.TrimSpace(string(buf)), nil
			}
			return "", err
		}
	}
}

// secret reads without echo when stdin is a real terminal.
func (p *promptReader) secret(prompt string) (string, error) {
	if f, ok := p.env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(p.env.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.env.Stderr)
		return strings.TrimSpace(string(b)), err
	}
	return p.line(prompt)
}
