package publishing

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/post"
	"github.com/psnd/psnd/internal/xapi"
)

// panickyUpload panics while uploading, as a bug in reading an answer or
// a file would.
type panickyUpload struct {
	XClient
	n int
}

func (x *panickyUpload) Upload(context.Context, string, xapi.MediaFile, func(int64, int64)) (xapi.Media, error) {
	x.n++
	panic("cannot read the upload's answer")
}

// TestPreflightPanicIsOnePostAtRisk: a panic while pre-flighting one post
// puts that post at risk with the reason and lets the pass go on to the
// next. It used to kill the daemon, and the pass at the next start
// (posts in the window are pre-flighted first) killed it again: no post
// of any account went out.
func TestPreflightPanicIsOnePostAtRisk(t *testing.T) {
	var x *panickyUpload
	r := newPreflightRig(t, nil)
	x = &panickyUpload{XClient: r.pf.x}
	r.pf.x = x
	bad := r.schedule(t, "with a picture 🌸", t0.Add(5*time.Minute), pngMedia(t, t.TempDir()))
	good := r.schedule(t, "words only İ", t0.Add(6*time.Minute))
	if n := r.pass(t); n != 2 {
		t.Fatalf("%d verdicts, want both posts", n)
	}
	p := r.get(t, bad.ID)
	if p.Status != post.StatusScheduled || p.SubStatus != post.SubAtRisk || !strings.Contains(p.FailReason, "internal error") {
		t.Fatalf("post with the panic: %s/%s %q", p.Status, p.SubStatus, p.FailReason)
	}
	if g := r.get(t, good.ID); g.SubStatus != post.SubNone {
		t.Fatalf("the next post: %s %q", g.SubStatus, g.FailReason)
	}
	if r.pf.holding() != 0 {
		t.Fatal("the post stays held from the scheduler after the panic")
	}
	r.clock.Advance(recheckEvery)
	r.pass(t)
	if x.n != 1 {
		t.Fatalf("%d uploads tried, want 1: a recheck does the same again", x.n)
	}
}
