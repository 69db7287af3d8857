package sqlstore

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/psnd/psnd/internal/post"
)

// UpsertAccount inserts or updates an account by X user id. The first
// account connected becomes the default.
func (t *Tx) UpsertAccount(a post.Account, now time.Time) error {
	ts := fmtTime(now)
	sub := a.SubscriptionType
	if sub == "" {
		sub = "None"
	}
	if _, err := t.exec(`INSERT INTO accounts (id, username, display_name, subscription_type, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET username = excluded.username, display_name = excluded.display_name,
			subscription_type = excluded.subscription_type, updated_at = excluded.updated_at`,
		a.ID, a.Username, a.DisplayName, sub, ts, ts); err != nil {
		return fmt.Errorf("save account %s: %w", a.Username, mapErr(err))
	}
	if _, err := t.exec(`UPDATE settings SET default_account_id = ?, updated_at = ?
		WHERE id = 1 AND default_account_id IS NULL`, a.ID, ts); err != nil {
		return fmt.Errorf("set default account: %w", mapErr(err))
	}
	return nil
}

// Accounts lists connected accounts, the default first.
func (t *Tx) Accounts() ([]post.Account, error) {
	rows, err := t.query(`SELECT a.id, a.username, a.display_name, a.subscription_type, a.created_at,
			a.id = COALESCE(s.default_account_id, '')
		FROM accounts a LEFT JOIN settings s ON s.id = 1
		ORDER BY a.id = COALESCE(s.default_account_id, '') DESC, a.username`)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", mapErr(err))
	}
	defer rows.Close()
	var out []post.Account
	for rows.Next() {
		var a post.Account
		var created string
		if err := rows.Scan(&a.ID, &a.Username, &a.DisplayName, &a.SubscriptionType, &created, &a.IsDefault); err != nil {
			return nil, fmt.Errorf("list accounts: %w", mapErr(err))
		}
		if a.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// Account finds an account by X user id or username (case-insensitive,
// with or without a leading @). An empty name means the default account.
func (t *Tx) Account(name string) (post.Account, error) {
	accts, err := t.Accounts()
	if err != nil {
		return post.Account{}, err
	}
	if len(name) > 0 && name[0] == '@' {
		name = name[1:]
	}
	for _, a := range accts {
		if name == "" && a.IsDefault {
			return a, nil
		}
		if name != "" && (a.ID == name || equalFold(a.Username, name)) {
			return a, nil
		}
	}
	if name == "" {
		return post.Account{}, fmt.Errorf("default account: %w", ErrNotFound)
	}
	return post.Account{}, fmt.Errorf("account %q: %w", name, ErrNotFound)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

// Settings is the single row of app settings.
type Settings struct {
	Timezone         string
	DefaultAccountID string
	ClientID         string
	ClientSecretEnc  []byte // sealed; nil for a public client
	KeyCheck         []byte // nil until a data key has been bound to this database
	UpdatedAt        time.Time
}

// Settings reads the settings row.
func (t *Tx) Settings() (Settings, error) {
	var s Settings
	var def sql.NullString
	var updated string
	err := t.queryRow(`SELECT timezone, default_account_id, x_client_id, x_client_secret_enc, key_check, updated_at
		FROM settings WHERE id = 1`).Scan(&s.Timezone, &def, &s.ClientID, &s.ClientSecretEnc, &s.KeyCheck, &updated)
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", mapErr(err))
	}
	s.DefaultAccountID = def.String
	if s.UpdatedAt, err = parseTime(updated); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// SetKeyCheck binds a data key to this database (see secrets.KeyCheck).
func (t *Tx) SetKeyCheck(check []byte, now time.Time) error {
	if _, err := t.exec(`UPDATE settings SET key_check = ?, updated_at = ? WHERE id = 1`, check, fmtTime(now)); err != nil {
		return fmt.Errorf("save key check: %w", mapErr(err))
	}
	return nil
}

// SetTimezone stores the user's IANA timezone ("" = the system's).
func (t *Tx) SetTimezone(tz string, now time.Time) error {
	if _, err := t.exec(`UPDATE settings SET timezone = ?, updated_at = ? WHERE id = 1`, tz, fmtTime(now)); err != nil {
		return fmt.Errorf("save timezone: %w", mapErr(err))
	}
	return nil
}

// SetDefaultAccount makes the account the default.
func (t *Tx) SetDefaultAccount(id string, now time.Time) error {
	if _, err := t.exec(`UPDATE settings SET default_account_id = ?, updated_at = ? WHERE id = 1`, id, fmtTime(now)); err != nil {
		return fmt.Errorf("set default account: %w", mapErr(err))
	}
	return nil
}

// SetClientCredentials stores the X app's client id and the sealed secret
// (nil for a public client).
func (t *Tx) SetClientCredentials(clientID string, secretEnc []byte, now time.Time) error {
	if _, err := t.exec(`UPDATE settings SET x_client_id = ?, x_client_secret_enc = ?, updated_at = ? WHERE id = 1`,
		clientID, secretEnc, fmtTime(now)); err != nil {
		return fmt.Errorf("save client credentials: %w", mapErr(err))
	}
	return nil
}

// ResetSealed discards every value sealed with an old data key (all
// tokens, the client secret) and binds the new key's check, in one
// transaction. Accounts, the client id and posts are kept.
func (t *Tx) ResetSealed(check []byte, now time.Time) error {
	if _, err := t.exec(`DELETE FROM oauth_tokens`); err != nil {
		return fmt.Errorf("discard tokens: %w", mapErr(err))
	}
	if _, err := t.exec(`UPDATE settings SET x_client_secret_enc = NULL, key_check = ?, updated_at = ? WHERE id = 1`,
		check, fmtTime(now)); err != nil {
		return fmt.Errorf("discard client secret: %w", mapErr(err))
	}
	return nil
}
