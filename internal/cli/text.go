package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/tweettext"
)

// maxTextInput bounds what check and split read from stdin.
const maxTextInput = 64 << 20

// readLocalText is readText for the offline commands, which accept much
// larger input (a whole book to split, say).
func readLocalText(env *Env, args []string) (string, error) {
	if len(args) > 1 {
		return "", usagef("give the text as one argument (quote it) or on stdin with -")
	}
	if len(args) == 1 && args[0] != "-" {
		return args[0], nil
	}
	if len(args) == 0 && env.StdinIsTerminal {
		return "", usagef("give the text as an argument, or pipe it in with -")
	}
	b, err := io.ReadAll(io.LimitReader(env.Stdin, maxTextInput+1))
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if len(b) > maxTextInput {
		return "", fmt.Errorf("input on stdin is larger than %d MB", maxTextInput>>20)
	}
	// One trailing newline is the shell's, not the post's.
	return strings.TrimSuffix(string(b), "\n"), nil
}

func newCheckCmd(env *Env) *cobra.Command {
	var asJSON, batch bool
	var max int
	cmd := &cobra.Command{
		Use:   "check [TEXT | -]",
		Short: "Check a tweet's text: its length as X counts it, errors and warnings",
		Long: `Check one tweet's text without the daemon: its weighted length exactly as X
counts it (twitter-text v3: URLs count 23, emoji 2, CJK 2), whether it can be
posted, and warnings (many mentions or hashtags; a URL, which X bills at a
dearer rate: --json adds contains_url and cost_usd, the estimated cost of
posting it, from $PSN_HOME/prices.json or X's published prices). Exit status 4
when the text cannot be posted as one tweet.

--batch reads JSON Lines (one JSON string per line) from stdin and writes one
result object per line, in order, streaming: a malformed line gets an object
with "error" and the rest continue.`,
		Example: `  psnd check "Hello, X"
  psnd check --json - < draft.txt
  psnd check --batch < texts.jsonl > results.jsonl
  psnd check --max 25000 - < long.txt       # a Premium account's limit`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if max < 0 {
				return usagef("--max must be positive")
			}
			opts := tweettext.CheckOptions{MaxLength: max}
			if batch {
				if len(args) > 0 && !(len(args) == 1 && args[0] == "-") {
					return usagef("--batch reads stdin; give no text argument")
				}
				w := bufio.NewWriterSize(env.Stdout, 64<<10)
				if err := tweettext.CheckBatch(cmd.Context(), env.Stdin, w, opts); err != nil {
					w.Flush()
					return fmt.Errorf("check batch: %w", err)
				}
				return w.Flush()
			}
			text, err := readLocalText(env, args)
			if err != nil {
				return err
			}
			r := tweettext.Check(text, opts)
			cost := costOf(env, []string{text})
			if asJSON {
				if err := writeJSON(env, struct {
					tweettext.Result
					textCost
				}{r, cost}); err != nil {
					return err
				}
			} else {
				if err := tweettext.FormatCheck(env.Stdout, r); err != nil {
					return err
				}
				cost.notice(env, 1)
			}
			if !r.Valid {
				return silentError{ExitInvalidText}
			}
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "the result")
	cmd.Flags().BoolVar(&batch, "batch", false, "check JSON Lines from stdin, one result per line")
	cmd.Flags().IntVar(&max, "max", 0, "length limit (default 280; 25000 for Premium accounts)")
	return cmd
}

func newSplitCmd(env *Env) *cobra.Command {
	var asJSON, number bool
	var max int
	cmd := &cobra.Command{
		Use:   "split [TEXT | -]",
		Short: "Preview how a long text splits into a thread",
		Long: `Split a text into tweets without the daemon, the way 'psnd post --thread' will:
at paragraph, then sentence, then word boundaries, never inside a word, URL,
mention, hashtag or emoji. A line holding only --- forces a split there.
--number appends " i/n" to every tweet of a thread of two or more; its room is
reserved before splitting. A text that fits in one tweet stays one tweet, and
gets no number. The tweets shown are exactly those 'psnd post --thread' stores.
A tweet containing a URL gets a warning with what X charges for it (--json:
contains_url and cost_usd, the estimated cost of posting every tweet).`,
		Example: `  psnd split - < essay.txt
  psnd split --number --json - < essay.txt`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if max < 0 {
				return usagef("--max must be positive")
			}
			text, err := readLocalText(env, args)
			if err != nil {
				return err
			}
			if !utf8.ValidString(text) {
				return exitError{ExitInvalidText, errors.New("the text is not valid UTF-8")}
			}
			res, err := tweettext.Split(text, tweettext.SplitOptions{MaxLength: max, Number: number})
			if err != nil {
				return exitError{ExitInvalidText, err}
			}
			texts := make([]string, len(res.Tweets))
			for i, tw := range res.Tweets {
				texts[i] = tw.Text
			}
			cost := costOf(env, texts)
			if asJSON {
				return writeJSON(env, struct {
					tweettext.SplitResult
					textCost
				}{res, cost})
			}
			if err := tweettext.FormatSplit(env.Stdout, res); err != nil {
				return err
			}
			cost.notice(env, len(texts))
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "the tweets")
	cmd.Flags().BoolVar(&number, "number", false, "append \" i/n\" to each tweet of a thread (a single tweet gets no number)")
	cmd.Flags().IntVar(&max, "max", 0, "length limit per tweet (default 280; 25000 for Premium accounts)")
	return cmd
}
