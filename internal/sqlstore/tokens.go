package sqlstore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrTokenChanged means an account's token row is no longer the one the
// caller read: a new login replaced it, a logout deleted it, or another
// refresh rotated it. The caller re-reads instead of overwriting.
var ErrTokenChanged = errors.New("token changed since it was read")

// Token is an account's row of oauth_tokens. The store only ever sees the
// tokens sealed (internal/oauth seals them with the data key, the account
// and field named as associated data); it never holds plaintext.
type Token struct {
	AccountID  string
	AccessEnc  []byte
	RefreshEnc []byte // nil when X issued no refresh token
	TokenType  string
	ExpiresAt  *time.Time // nil when X gave no lifetime
	Scopes     string     // space-separated, as X granted them
	Meta       TokenMeta
	UpdatedAt  time.Time
}

// TokenMeta is the metadata JSON column: what `psnd auth status` shows about
// an account's login and what stops refreshing once X has refused it.
type TokenMeta struct {
	// ObtainedAt is when the tokens came from a login (code exchange).
	ObtainedAt *time.Time `json:"obtained_at,omitempty"`
	// LastRefreshAt is the last successful refresh.
	LastRefreshAt *time.Time `json:"last_refresh_at,omitempty"`
	// RefreshFailures counts failed refresh attempts since the last success.
	RefreshFailures int        `json:"refresh_failures,omitempty"`
	LastError       string     `json:"last_error,omitempty"`
	LastErrorAt     *time.Time `json:"last_error_at,omitempty"`
	// NeedsReauth is set when X refused the refresh token (or there is
	// none): nothing refreshes again until the user logs in.
	NeedsReauth  bool       `json:"needs_reauth,omitempty"`
	ReauthReason string     `json:"reauth_reason,omitempty"`
	ReauthAt     *time.Time `json:"reauth_at,omitempty"`
}

const tokenColumns = `account_id, access_token_enc, refresh_token_enc, token_type, expires_at, scopes, metadata, updated_at`

func scanToken(sc interface{ Scan(...any) error }) (Token, error) {
	var tok Token
	var expires sql.NullString
	var meta, updated string
	if err := sc.Scan(&tok.AccountID, &tok.AccessEnc, &tok.RefreshEnc, &tok.TokenType, &expires, &tok.Scopes, &meta, &updated); err != nil {
		return Token{}, err
	}
	var err error
	if tok.ExpiresAt, err = parseTimePtr(expires); err != nil {
		return Token{}, err
	}
	if tok.UpdatedAt, err = parseTime(updated); err != nil {
		return Token{}, err
	}
	if err := json.Unmarshal([]byte(meta), &tok.Meta); err != nil {
		return Token{}, fmt.Errorf("token metadata of account %s: %w", tok.AccountID, err)
	}
	if len(tok.RefreshEnc) == 0 {
		tok.RefreshEnc = nil
	}
	return tok, nil
}

// Token reads an account's tokens; ErrNotFound when it has none (never
// logged in, or logged out).
func (t *Tx) Token(accountID string) (Token, error) {
	tok, err := scanToken(t.queryRow(`SELECT `+tokenColumns+` FROM oauth_tokens WHERE account_id = ?`, accountID))
	if err != nil {
		return Token{}, fmt.Errorf("read token of account %s: %w", accountID, mapErr(err))
	}
	return tok, nil
}

// Tokens reads every account's tokens.
func (t *Tx) Tokens() ([]Token, error) {
	rows, err := t.query(`SELECT ` + tokenColumns + ` FROM oauth_tokens ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", mapErr(err))
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		tok, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", mapErr(err))
		}
		out = append(out, tok)
	}
	return out, mapErr(rows.Err())
}

// PutToken stores the tokens of a login, replacing whatever the account had
// (X invalidates the earlier grant when the same user logs in again), with
// fresh metadata.
func (t *Tx) PutToken(tok Token, now time.Time) error {
	meta, err := json.Marshal(tok.Meta)
	if err != nil {
		return fmt.Errorf("encode token metadata: %w", err)
	}
	if _, err := t.exec(`INSERT INTO oauth_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET access_token_enc = excluded.access_token_enc,
			refresh_token_enc = excluded.refresh_token_enc, token_type = excluded.token_type,
			expires_at = excluded.expires_at, scopes = excluded.scopes, metadata = excluded.metadata,
			updated_at = excluded.updated_at`,
		tok.AccountID, tok.AccessEnc, blob(tok.RefreshEnc), tokenType(tok.TokenType), fmtTimePtr(tok.ExpiresAt),
		tok.Scopes, string(meta), fmtTime(now)); err != nil {
		return fmt.Errorf("save token of account %s: %w", tok.AccountID, mapErr(err))
	}
	return nil
}

// ReplaceToken stores refreshed tokens, but only if the row still holds the
// sealed refresh token prevRefreshEnc that was presented to X (a sealed
// value is unique: every seal draws a fresh nonce). Otherwise a login or
// logout got there first and ErrTokenChanged is returned, so a refresh of a
// grant that has just been replaced can never overwrite the new one.
func (t *Tx) ReplaceToken(prevRefreshEnc []byte, tok Token, now time.Time) error {
	meta, err := json.Marshal(tok.Meta)
	if err != nil {
		return fmt.Errorf("encode token metadata: %w", err)
	}
	res, err := t.exec(`UPDATE oauth_tokens SET access_token_enc = ?, refresh_token_enc = ?, token_type = ?,
			expires_at = ?, scopes = ?, metadata = ?, updated_at = ?
		WHERE account_id = ? AND refresh_token_enc IS ?`,
		tok.AccessEnc, blob(tok.RefreshEnc), tokenType(tok.TokenType), fmtTimePtr(tok.ExpiresAt), tok.Scopes,
		string(meta), fmtTime(now), tok.AccountID, blob(prevRefreshEnc))
	return changedOne(res, err, "save refreshed token of account "+tok.AccountID)
}

// SetTokenMeta updates an account's token metadata under the same condition
// as ReplaceToken: the row must still hold prevRefreshEnc.
func (t *Tx) SetTokenMeta(accountID string, prevRefreshEnc []byte, meta TokenMeta, now time.Time) error {
	b, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encode token metadata: %w", err)
	}
	res, err := t.exec(`UPDATE oauth_tokens SET metadata = ?, updated_at = ?
		WHERE account_id = ? AND refresh_token_enc IS ?`, string(b), fmtTime(now), accountID, blob(prevRefreshEnc))
	return changedOne(res, err, "save token metadata of account "+accountID)
}

// DeleteToken removes an account's tokens (logout); the account row and
// its posts stay. It reports whether there was anything to delete.
func (t *Tx) DeleteToken(accountID string) (bool, error) {
	res, err := t.exec(`DELETE FROM oauth_tokens WHERE account_id = ?`, accountID)
	if err != nil {
		return false, fmt.Errorf("delete token of account %s: %w", accountID, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("delete token of account %s: %w", accountID, err)
	}
	return n > 0, nil
}

func changedOne(res sql.Result, err error, op string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, ErrTokenChanged)
	}
	return nil
}

// blob makes an empty byte slice NULL, so "no refresh token" has one
// representation and `IS ?` compares it correctly.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func tokenType(s string) string {
	if s == "" {
		return "bearer"
	}
	return s
}
