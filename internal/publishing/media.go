package publishing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/sqlstore"
	"github.com/psnd/psnd/internal/xapi"
)

// ensureMedia uploads the tweet's media unless a still-valid X media id is
// recorded, sets alt text, and returns the ids to attach. Media are uploaded
// at publish time because X media ids expire (typically after 24 hours).
func (p *publisher) ensureMedia(ctx context.Context, xs *xsession, tw *post.Tweet, log *slog.Logger) ([]string, outcome, bool) {
	pst := xs.pst
	if len(tw.Media) == 0 {
		return nil, outcome{}, true
	}
	now := p.clock.Now()
	var ids []string
	uploading := false
	for i := range tw.Media {
		m := &tw.Media[i]
		if m.XMediaID != "" && m.MediaExpiresAt != nil && m.MediaExpiresAt.After(now.Add(mediaMargin)) {
			ids = append(ids, m.XMediaID)
			continue
		}
		if !uploading {
			uploading = true
			if err := p.setSub(ctx, pst.ID, post.SubMediaUploading); err != nil {
				return nil, p.storeFailure(ctx, err), false
			}
		}
		f, err := xapi.InspectMedia(m.Path)
		if err != nil {
			return nil, outcome{kind: outFailed, reason: fmt.Sprintf("media %s: %v", m.Path, err)}, false
		}
		if m.XMediaID != "" {
			log.Info("media id expired; uploading again", "path", m.Path)
		}
		var up xapi.Media
		err = xs.call(ctx, func(token string) error {
			var err error
			up, err = xs.x.Upload(ctx, token, f, func(sent, total int64) {
				if p.progress != nil {
					p.progress(pst.ID, sent, total)
				}
			})
			return err
		})
		if err != nil {
			return nil, p.xFailure(ctx, xs, tw, fmt.Errorf("upload %s: %w", m.Path, err)), false
		}
		if m.AltText != "" {
			err := xs.call(ctx, func(token string) error {
				_, err := xs.x.SetAltText(ctx, token, up.ID, m.AltText)
				return err
			})
			if err != nil {
				return nil, p.xFailure(ctx, xs, tw, fmt.Errorf("set alt text: %w", err)), false
			}
		}
		var exp = &up.ExpiresAt
		if up.ExpiresAt.IsZero() {
			exp = nil // unknown: upload again on any later attempt
		}
		if err := p.store.Update(ctx, func(tx *sqlstore.Tx) error {
			return tx.RecordMediaUpload(m.ID, up.ID, exp)
		}); err != nil {
			return nil, p.storeFailure(ctx, err), false
		}
		m.XMediaID, m.MediaExpiresAt = up.ID, exp
		ids = append(ids, up.ID)
	}
	if uploading {
		if err := p.setSub(ctx, pst.ID, post.SubMediaUploaded); err != nil {
			return nil, p.storeFailure(ctx, err), false
		}
	}
	return ids, outcome{}, true
}

// keptMedia reports whether ensureMedia would send any of the tweet's
// media ids as recorded, without uploading it now.
func keptMedia(tw *post.Tweet, now time.Time) bool {
	for _, m := range tw.Media {
		if m.XMediaID != "" && m.MediaExpiresAt != nil && m.MediaExpiresAt.After(now.Add(mediaMargin)) {
			return true
		}
	}
	return false
}

func (p *publisher) setSub(ctx context.Context, id int64, sub post.SubStatus) error {
	err := p.store.Update(ctx, func(tx *sqlstore.Tx) error {
		return tx.SetSubStatus(id, p.owner, sub, p.clock.Now())
	})
	if err == nil {
		p.changed(id)
	}
	return err
}

// xFailure turns the error of an X call other than the create into an
// outcome.
func (p *publisher) xFailure(ctx context.Context, xs *xsession, tw *post.Tweet, err error) outcome {
	if ctx.Err() != nil {
		return outcome{kind: outAbandoned}
	}
	var te tokenError
	if errors.As(err, &te) {
		return p.tokenFailure(xs.pst, te.err)
	}
	return p.classify(xs.pst, tw, xs.refreshed, err)
}
