package doctor

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// Clock is what comparing this machine's clock with X's found.
type Clock struct {
	URL    string
	Local  time.Time // this machine's time, halfway through the request
	Remote time.Time // X's Date header; zero when there was none
	Err    error     // X could not be reached
	// CertTime: TLS refused X's certificate as expired or not yet valid,
	// which on a sound network means this clock is wrong.
	CertTime bool
}

// Clock thresholds. The Date header has one-second resolution and the
// request takes time, so small differences mean nothing.
const (
	skewWarn = time.Minute
	skewFail = 5 * time.Minute
)

// clockFloor is a time this psnd cannot have been built before: a clock
// showing an earlier time is wrong whatever X says (a dead RTC battery
// resets laptops to 1970 or 2000).
var clockFloor = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// ProbeClock asks X's API base URL for anything (HEAD) and reads the Date
// header of the answer, whatever its status.
func ProbeClock(ctx context.Context, hc *http.Client, baseURL string, now func() time.Time) Clock {
	c := Clock{URL: baseURL, Local: now()}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, strings.TrimSuffix(baseURL, "/")+"/", nil)
	if err != nil {
		c.Err = err
		return c
	}
	start := now()
	resp, err := hc.Do(req)
	end := now()
	if err != nil {
		c.Err = err
		var ce x509.CertificateInvalidError
		c.CertTime = errors.As(err, &ce) && ce.Reason == x509.Expired
		return c
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	c.Local = start.Add(end.Sub(start) / 2)
	if d := resp.Header.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			c.Remote = t
		}
	}
	return c
}

func timeFix(goos string) string {
	switch goos {
	case "linux":
		return "turn on network time: `timedatectl set-ntp true` (or set the time with `sudo date -s ...`)"
	case "darwin":
		return "turn on System Settings > General > Date & Time > Set time and date automatically"
	}
	return "set this machine's clock right and turn on network time"
}

// CheckClock judges this machine's clock: scheduled posts go out by it,
// and token expiry is reckoned with it.
func CheckClock(c Clock, goos string) api.DoctorCheck {
	local := c.Local.UTC().Format(time.RFC3339)
	if c.Local.Before(clockFloor) {
		return fail(NameClock, "this machine's clock says "+local+", which is in the past: posts would go out at the wrong time", timeFix(goos))
	}
	if c.Err != nil {
		if c.CertTime {
			return fail(NameClock, "X's TLS certificate looks expired or not yet valid at this machine's time ("+local+"): the clock is probably wrong",
				timeFix(goos))
		}
		return warn(NameClock, "could not reach "+c.URL+" to compare clocks (offline?): "+errLine(c.Err),
			"nothing to do while offline; run `psnd doctor` again when connected")
	}
	if c.Remote.IsZero() {
		return warn(NameClock, c.URL+" sent no Date header, so the clock could not be compared",
			"nothing to do; check that the time shown by `date` is right")
	}
	skew := c.Local.Sub(c.Remote)
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	abs := skew.Abs()
	msg := fmt.Sprintf("this machine's clock is %s %s X's", human(abs), dir)
	switch {
	case abs > skewFail:
		return fail(NameClock, msg+": scheduled posts go out at the wrong time and token expiry is misjudged", timeFix(goos))
	case abs > skewWarn:
		return warn(NameClock, msg, timeFix(goos))
	}
	return okc(NameClock, "within %s of X's clock", human(max(abs, time.Second)))
}
