package desktop

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// osascript shows a message in macOS's Notification Center. It runs
// osascript per message: no cgo, and the system's own way to post one.
type osascript struct{}

// script is the AppleScript that shows m.
func (osascript) script(m Message) string {
	return "display notification " + appleScriptString(m.Body) + " with title " + appleScriptString(m.Title)
}

func (o osascript) send(ctx context.Context, m Message) error {
	out, err := exec.CommandContext(ctx, "osascript", "-e", o.script(m)).CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("%w: %w", errNoDesktop, err)
	}
	if err != nil {
		if msg := strings.TrimSpace(string(out)); msg != "" {
			return fmt.Errorf("osascript: %w: %s", err, msg)
		}
		return fmt.Errorf("osascript: %w", err)
	}
	return nil
}

func (osascript) close() {}
