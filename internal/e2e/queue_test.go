package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psnd/psnd/internal/api"
)

// TestPlanAWeek: with the real binary and a sandbox daemon, a user adds
// slots, imports a folder of Markdown posts with queue: true, sees them
// fill consecutive slots in psnd queue, and cancels one to free its slot
// while the others stay where they are.
func TestPlanAWeek(t *testing.T) {
	h := home(t)
	environ := []string{"PSN_HOME=" + h, "HOME=" + filepath.Dir(h), "PATH=" + os.Getenv("PATH"), "PSN_TZ=Europe/Paris"}
	d := startDaemonArgs(t, environ, "serve", "--sandbox")
	defer d.stop(t)

	// Two slots a day, from six hours ahead, so that nothing is published
	// while the test runs.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	first := time.Now().Add(6 * time.Hour).In(paris)
	second := first.Add(3 * time.Hour)
	spec := "daily " + first.Format("15:04") + "," + second.Format("15:04")
	out, errs, code := run(t, environ, "", "slots", "add", spec)
	if code != 0 || strings.Count(out, "(Europe/Paris) for @") != 2 {
		t.Fatalf("slots add: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	out, errs, code = run(t, environ, "", "slots", "add", "someday 25:00")
	if code != 2 || strings.Count(errs, "\n") != 2 || !strings.Contains(errs, `"mon-fri 09:00,13:30"`) {
		t.Fatalf("bad spec: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}

	dir := filepath.Join(t.TempDir(), "week")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	bodies := []string{"Lundi : café ☕", "東京からこんにちは", "Mercredi\n---\nsuite du fil 🧵", "İstanbul, jeudi", "שלום, vendredi"}
	for i, body := range bodies {
		md := fmt.Sprintf("---\nqueue: true\n---\n%s\n", body)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.md", i+1)), []byte(md), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, code = run(t, environ, "", "import", "--dry-run", dir)
	if code != 0 || strings.Count(out, "queue slot ") != 5 || !strings.HasSuffix(out, "5 created (nothing stored)\n") {
		t.Fatalf("import --dry-run: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	out, errs, code = run(t, environ, "", "import", dir)
	if code != 0 || !strings.HasSuffix(out, "5 created\n") {
		t.Fatalf("import: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}

	var q api.Queue
	runJSON(t, environ, &q, "queue", "--json")
	if len(q.Slots) != 14 {
		t.Fatalf("queue: %d slots in 7 days, want 14: %+v", len(q.Slots), q.Slots)
	}
	ids := map[int64]time.Time{}
	for i, s := range q.Slots {
		if filled := s.PostID != nil; filled != (i < 5) {
			t.Fatalf("slot %d (%v) holds %v; want the first 5 filled, in file order", i, s.At, s.PostID)
		}
		if s.PostID != nil {
			ids[*s.PostID] = s.At
			if i > 0 && *s.PostID <= *q.Slots[i-1].PostID {
				t.Errorf("slot %d holds post %d after post %d: not in file order", i, *s.PostID, *q.Slots[i-1].PostID)
			}
		}
	}
	// The human view (not a terminal: the list) shows the same.
	out, errs, code = run(t, environ, "", "queue")
	if code != 0 || !strings.Contains(out, "14 slots, 9 free") || !strings.Contains(out, "東京からこんにちは") {
		t.Fatalf("queue: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}

	// Cancel the second: its slot is free, the others have not moved.
	cancelled := *q.Slots[1].PostID
	if out, errs, code = run(t, environ, "", "cancel", strconv.FormatInt(cancelled, 10)); code != 0 {
		t.Fatalf("cancel: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	var after api.Queue
	runJSON(t, environ, &after, "queue", "--json")
	for i, s := range after.Slots {
		switch {
		case i == 1 && s.PostID != nil:
			t.Errorf("cancelled post's slot holds post %d, want free", *s.PostID)
		case i != 1 && i < 5 && (s.PostID == nil || *s.PostID != *q.Slots[i].PostID):
			t.Errorf("slot %d: %v, want post %d unmoved", i, s.PostID, *q.Slots[i].PostID)
		}
	}
	// The next post --queue takes the freed slot.
	var p api.Post
	runJSON(t, environ, &p, "post", "Remplaçant 🔁", "--queue", "--json")
	if p.ScheduledAt == nil || !p.ScheduledAt.Equal(ids[cancelled]) {
		t.Errorf("post --queue at %v, want the freed slot %v", p.ScheduledAt, ids[cancelled])
	}
}
