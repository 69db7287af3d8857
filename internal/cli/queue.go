package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/psnd/psnd/internal/api"
	"github.com/psnd/psnd/internal/slots"
)

func newSlotsCmd(env *Env) *cobra.Command {
	var account string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "slots",
		Short: "List the weekly queue slots (add and remove them)",
		Long: `List the weekly posting slots that 'psnd post --queue' and import's queue field
fill. A slot is days of the week and a time of day, in the time zone it was
added in (your zone: PSN_TZ, else the daemon's PSN_TZ, else the system's).
Add slots with 'psnd slots add', remove one with 'psnd slots remove ID'; see
what fills the coming ones with 'psnd queue'.`,
		Example: `  psnd slots add "mon-fri 09:00,13:30"
  psnd slots
  psnd slots remove 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			ss, err := s.c.Slots(cmd.Context(), account)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, ss)
			}
			if len(ss) == 0 {
				fmt.Fprintln(env.Stdout, `No queue slots yet: add some with psnd slots add "mon-fri 09:00,13:30"`)
				return nil
			}
			printSlots(env, ss)
			return nil
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "only this account's slots, a username or X id")
	_ = cmd.RegisterFlagCompletionFunc("account", completeAccounts(env))
	jsonFlag(cmd, &asJSON, "the slots")
	cmd.AddCommand(newSlotsAddCmd(env), newSlotsRemoveCmd(env))
	return cmd
}

// slotDays writes a slot's days as a spec does ("mon-fri", "daily").
func slotDays(sl api.Slot) string {
	d, err := slots.ParseDays(sl.Days)
	if err != nil {
		return strings.Join(sl.Days, ",")
	}
	return d.String()
}

func printSlots(env *Env, ss []api.Slot) {
	rows := [][]string{{"ID", "ACCOUNT", "DAYS", "TIME", "ZONE"}}
	for _, sl := range ss {
		rows = append(rows, []string{strconv.FormatInt(sl.ID, 10), "@" + sl.Account, slotDays(sl), sl.Time, sl.Zone})
	}
	printColumns(env, rows)
}

// printColumns prints rows as left-aligned columns two spaces apart.
func printColumns(env *Env, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(padRight(c, widths[i]+2))
		}
		fmt.Fprintln(env.Stdout, strings.TrimRight(b.String(), " "))
	}
}

func newSlotsAddCmd(env *Env) *cobra.Command {
	var account string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add SPEC",
		Short: "Add weekly queue slots: days, then times of day",
		Long: `Add weekly queue slots. SPEC is days, then one or more times of day:
"mon-fri 09:00,13:30" (one slot per time), "daily 18:00", "sat,sun 10:00",
"weekdays 08:15", "fri-mon 20:00". Day names are English, three letters or
whole. The times are read in your time zone (PSN_TZ, else the daemon's
PSN_TZ, else the system's), which is stored with the slot. On a clock-change
night a slot in the skipped hour moves forward by the gap, and one in the
repeated hour is the earlier of the two. A slot already there is not added
twice.`,
		Example: `  psnd slots add "mon-fri 09:00,13:30"
  psnd slots add "sat,sun 10:00" --account bob`,
		Args: exactArgs(1, `one SPEC, quoted: "mon-fri 09:00,13:30"`),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Checked here first: a bad spec is a usage error, sent nowhere.
			if _, err := slots.ParseSpec(args[0]); err != nil {
				return usageError{err}
			}
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			added, err := s.c.AddSlots(cmd.Context(), api.AddSlots{Spec: args[0], Zone: zoneName(env, s.loc), Account: account})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, added)
			}
			for _, sl := range added {
				fmt.Fprintf(env.Stdout, "Slot %d: %s %s (%s) for @%s\n", sl.ID, slotDays(sl), sl.Time, sl.Zone, sl.Account)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "the account, a username or X id (default: the default account)")
	_ = cmd.RegisterFlagCompletionFunc("account", completeAccounts(env))
	jsonFlag(cmd, &asJSON, "the slots")
	return cmd
}

func newSlotsRemoveCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a queue slot (posts keep their times)",
		Long: `Remove a weekly queue slot by its ID (see 'psnd slots'). Posts already
scheduled at its times keep them; new queued posts no longer go there.`,
		Example: `  psnd slots remove 3`,
		Args:    exactArgs(1, "one slot ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("slot ID must be a positive number, not %q", args[0])
			}
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			sl, err := s.c.RemoveSlot(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, sl)
			}
			fmt.Fprintf(env.Stdout, "Removed slot %d (%s %s, %s, @%s); posts keep their times.\n", sl.ID, slotDays(sl), sl.Time, sl.Zone, sl.Account)
			return nil
		},
	}
	jsonFlag(cmd, &asJSON, "the removed slot")
	return cmd
}

// zoneName is the IANA name of the user's zone, for the daemon to keep
// with a slot. The system zone (time.Local) is named by TZ or by the
// /etc/localtime link; "Local" when neither names it, which the daemon
// reads as its own zone (the same machine's).
func zoneName(env *Env, loc *time.Location) string {
	if loc.String() != "Local" {
		return loc.String()
	}
	if tz := strings.TrimPrefix(env.Getenv("TZ"), ":"); tz != "" {
		if _, err := time.LoadLocation(tz); err == nil && !filepath.IsAbs(tz) {
			return tz
		}
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok {
			if _, err := time.LoadLocation(name); err == nil {
				return name
			}
		}
	}
	return "Local"
}

func newQueueCmd(env *Env) *cobra.Command {
	var account string
	var days int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "Show the coming queue slots and the post in each",
		Long: `Show the coming queue slots (the next 7 days, or --days N) and the post that
fills each, or "free". A slot is filled by a post, not a draft, scheduled at
exactly its time: 'psnd post --queue' takes the next free one; cancelling or
deleting a post frees its slot and nothing else moves.

On a terminal wide enough the week is drawn as a grid, days as columns and
slot times as rows; otherwise (a narrow terminal, a pipe) as a list, one
slot a line. Times are shown in your time zone.`,
		Example: `  psnd queue
  psnd queue --days 14 --account bob
  psnd queue --json | jq '.slots[] | select(.post_id == null) | .at'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if days < 1 || days > api.QueueMaxDays {
				return usagef("--days must be from 1 to %d, not %d", api.QueueMaxDays, days)
			}
			s, err := connect(cmd.Context(), env)
			if err != nil {
				return err
			}
			q, err := s.c.Queue(cmd.Context(), days, account)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(env, q)
			}
			return printQueue(env, s.loc, q, days)
		},
	}
	cmd.Flags().IntVar(&days, "days", 7, "how many days ahead to show")
	cmd.Flags().StringVar(&account, "account", "", "only this account's slots, a username or X id")
	_ = cmd.RegisterFlagCompletionFunc("account", completeAccounts(env))
	jsonFlag(cmd, &asJSON, "the slots")
	return cmd
}

// terminalWidth is stdout's width in columns, 0 when unknown or not a
// terminal.
func terminalWidth(env *Env) int {
	if !env.StdoutIsTerminal {
		return 0
	}
	if env.Width != nil {
		if w := env.Width(); w > 0 {
			return w
		}
	}
	w, _ := strconv.Atoi(env.Getenv("COLUMNS"))
	return max(w, 0)
}

func printQueue(env *Env, loc *time.Location, q api.Queue, days int) error {
	if len(q.Slots) == 0 {
		fmt.Fprintf(env.Stdout, "No queue slots in the next %s (see psnd slots; add some with psnd slots add \"mon-fri 09:00,13:30\")\n", plural(days, "day", "days"))
		return nil
	}
	if g, ok := queueGrid(q, loc, zoneName(env, loc), terminalWidth(env)); ok {
		for _, l := range g {
			fmt.Fprintln(env.Stdout, strings.TrimRight(l, " "))
		}
	} else {
		printQueueList(env, loc, q, terminalWidth(env))
	}
	free := 0
	for _, sl := range q.Slots {
		if sl.PostID == nil {
			free++
		}
	}
	fmt.Fprintf(env.Stdout, "%s, %d free\n", plural(len(q.Slots), "slot", "slots"), free)
	return nil
}

// printQueueList prints the slots one a line; on a terminal (width > 0)
// the text is cut to fit the line, so that a narrow terminal — the reason
// for the list — does not wrap every filled slot.
func printQueueList(env *Env, loc *time.Location, q api.Queue, width int) {
	rows := [][]string{{"WHEN", "ACCOUNT", "POST", "TEXT"}}
	for _, sl := range q.Slots {
		r := []string{sl.At.In(loc).Format("Mon 2006-01-02 15:04 MST"), "@" + sl.Account, "free", ""}
		if sl.PostID != nil {
			r[2], r[3] = strconv.FormatInt(*sl.PostID, 10), sl.Excerpt
		}
		rows = append(rows, r)
	}
	textW := 50
	if width > 0 {
		used := 0
		for c := range 3 {
			w := 0
			for _, r := range rows {
				w = max(w, displayWidth(r[c]))
			}
			used += w + 2
		}
		textW = max(min(textW, width-used), 10)
	}
	for _, r := range rows[1:] {
		r[3] = truncate(r[3], textW)
	}
	printColumns(env, rows)
}

// Grid layout: a row label column, then one column a day.
const (
	gridMinCell = 12 // narrower cells say too little: the list is better
	gridMaxCell = 24
)

// queueGrid draws the slots as weeks: days as columns, slot times (per
// account when there are several) as rows; a cell is "#ID excerpt",
// "free", or blank where no slot falls. ok is false when width cannot fit
// a week of readable cells. zone is loc's IANA name (zoneName: loc may be
// time.Local, named "Local", while slots carry the name).
func queueGrid(q api.Queue, loc *time.Location, zone string, width int) ([]string, bool) {
	if width <= 0 {
		return nil, false
	}
	type rowKey struct{ account, hm string }
	accounts := map[string]bool{}
	var dates []string // "2006-01-02", in order
	cells := map[rowKey]map[string]api.QueueSlot{}
	var rows []rowKey
	for _, sl := range q.Slots {
		l := sl.At.In(loc)
		d := l.Format(time.DateOnly)
		if len(dates) == 0 || dates[len(dates)-1] != d {
			dates = append(dates, d)
		}
		// A slot in the user's zone keeps its row on a clock-change
		// night, its cell saying the time it moved to; unless it moved
		// past midnight (Nuuk springs forward at 23:00), where the next
		// day's own occurrence holds that row's cell: it then has the
		// row of the time it moved to.
		hm := l.Format("15:04")
		if (sl.Zone == zone || sl.Zone == loc.String()) && sl.Time != "" && sl.Time <= hm {
			hm = sl.Time
		}
		k := rowKey{sl.Account, hm}
		if cells[k] == nil {
			cells[k] = map[string]api.QueueSlot{}
			rows = append(rows, k)
		}
		cells[k][d] = sl
		accounts[sl.Account] = true
	}
	slices.SortFunc(rows, func(a, b rowKey) int {
		if c := strings.Compare(a.account, b.account); c != 0 {
			return c
		}
		return strings.Compare(a.hm, b.hm)
	})
	label := func(k rowKey) string {
		if len(accounts) > 1 {
			return k.hm + " @" + k.account
		}
		return k.hm
	}
	labelW := len("00:00")
	for _, k := range rows {
		labelW = max(labelW, displayWidth(label(k)))
	}
	cols := min(len(dates), 7)
	cell := min((width-labelW)/cols-2, gridMaxCell)
	if cell < gridMinCell {
		return nil, false
	}
	var out []string
	for start := 0; start < len(dates); start += 7 {
		week := dates[start:min(start+7, len(dates))]
		if start > 0 {
			out = append(out, "")
		}
		head := padRight("", labelW)
		for _, d := range week {
			// A date, not an instant: read in loc, a date whose midnight
			// a clock change skips (Santiago, Havana) would be the day
			// before's 23:00.
			t, _ := time.Parse(time.DateOnly, d)
			head += "  " + padRight(t.Format("Mon 02 Jan"), cell)
		}
		out = append(out, head)
		for _, k := range rows {
			line := padRight(label(k), labelW)
			filled := false
			for _, d := range week {
				c := ""
				if sl, ok := cells[k][d]; ok {
					filled = true
					c = "free"
					if sl.PostID != nil {
						c = fmt.Sprintf("#%d %s", *sl.PostID, sl.Excerpt)
					}
					if at := sl.At.In(loc).Format("15:04"); at != k.hm {
						c = at + " " + c
					}
					c = truncate(c, cell)
				}
				line += "  " + padRight(c, cell)
			}
			if filled {
				out = append(out, line)
			}
		}
	}
	if len(accounts) == 1 {
		for a := range accounts {
			out = append([]string{"@" + a + "'s queue"}, out...)
		}
	}
	return out, true
}
