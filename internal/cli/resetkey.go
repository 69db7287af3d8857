package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
)

func newAuthResetKeyCmd(env *Env) *cobra.Command {
	var yes, asJSON bool
	cmd := &cobra.Command{
		Use:   "reset-key",
		Short: "Start over when the keyring lost the key: discard undecryptable tokens",
		Long: `When the keyring no longer holds the key that encrypted this database (a new
machine, a wiped keyring, another PSN_KEYRING), psnd cannot decrypt the stored
tokens and X app secret, and says so. reset-key discards them and binds the
keyring's current key; your accounts, the app's client id and all posts stay.
Then run 'psnd setup' (or 'psnd auth login') to log in again.`,
		Example: `  psnd auth reset-key
  psnd auth reset-key --yes && psnd setup`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			if s.health.Status != api.HealthKeyError {
				return fmt.Errorf("the data key is fine (daemon status %q); nothing to reset", s.health.Status)
			}
			if !yes {
				if !env.StdinIsTerminal {
					return errors.New("this discards the stored tokens and client secret; pass --yes to confirm")
				}
				fmt.Fprint(env.Stderr, "Discard the stored tokens and X app secret (they cannot be decrypted) and log in again afterwards? [y/N] ")
				line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					// Declining is an answer, not an error (as for delete).
					fmt.Fprintln(env.Stdout, "Nothing changed.")
					return nil
				}
			}
			h, err := s.c.ResetKey(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, resetKeyResult{Reset: true, Keyring: h.Keyring})
			}
			fmt.Fprintln(env.Stdout, "Key reset. Log in again with `psnd setup` (or `psnd auth login`).")
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask")
	jsonFlag(cmd, &asJSON, "the result (reset, and the keyring's state now)")
	return cmd
}

// resetKeyResult is `psnd auth reset-key --json`: that the key was reset,
// and the keyring's state now (mode, state "ready").
type resetKeyResult struct {
	Reset   bool        `json:"reset"`
	Keyring api.Keyring `json:"keyring"`
}
