package cli

import (
	"fmt"

	"github.com/psnd/psnd/internal/api"
)

// Colour follows one rule, here and in the spinner: only on a terminal,
// never when NO_COLOR is set to anything (https://no-color.org) or TERM is
// "dumb". Piped output, logs and --json are always plain.

// stylesAllowed reports whether the environment permits colour and
// animation at all; each stream still needs to be a terminal.
func stylesAllowed(env *Env) bool {
	return env.Getenv("NO_COLOR") == "" && env.Getenv("TERM") != "dumb"
}

// palette paints text for one output stream; its zero value paints
// nothing, so callers write the same code with or without colour.
type palette struct{ on bool }

// stdoutColors is the palette for what a command prints on stdout.
func stdoutColors(env *Env) palette {
	return palette{on: env.StdoutIsTerminal && stylesAllowed(env)}
}

// stderrColors is the palette for notices and warnings on stderr.
func stderrColors(env *Env) palette {
	return palette{on: env.StderrIsTerminal && stylesAllowed(env)}
}

// SGR sequences.
const (
	sgrReset  = "\x1b[0m"
	sgrBold   = "\x1b[1m"
	sgrDim    = "\x1b[2m"
	sgrRed    = "\x1b[31m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
	sgrCyan   = "\x1b[36m"
)

func (p palette) paint(sgr, s string) string {
	if !p.on || s == "" {
		return s
	}
	return sgr + s + sgrReset
}

func (p palette) red(s string) string    { return p.paint(sgrRed, s) }
func (p palette) green(s string) string  { return p.paint(sgrGreen, s) }
func (p palette) yellow(s string) string { return p.paint(sgrYellow, s) }
func (p palette) dim(s string) string    { return p.paint(sgrDim, s) }
func (p palette) bold(s string) string   { return p.paint(sgrBold, s) }

// status paints s (a status as shown, maybe padded or with its
// sub-status) by the post or tweet status st: failed red, published
// green, scheduled cyan, in progress or waiting to retry yellow, draft
// dim.
func (p palette) status(st, s string) string {
	switch st {
	case api.StatusFailed:
		return p.paint(sgrRed, s)
	case api.StatusPublished:
		return p.paint(sgrGreen, s)
	case api.StatusScheduled:
		return p.paint(sgrCyan, s)
	case api.StatusPublishing, api.StatusRetry:
		return p.paint(sgrYellow, s)
	case api.StatusDraft:
		return p.paint(sgrDim, s)
	}
	return s
}

// warn prints one warning line on stderr.
func warn(env *Env, msg string) {
	fmt.Fprintln(env.Stderr, "psnd: "+stderrColors(env).yellow("warning:")+" "+msg)
}
