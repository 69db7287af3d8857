package api

import "time"

// Queue slot routes (SPEC §8).
const (
	// PathSlots is GET (list, ?account=) and POST (add, AddSlots).
	PathSlots = "/v1/slots"
	// PathSlot is DELETE: remove one slot.
	PathSlot = "/v1/slots/{id}"
	// PathQueue is GET: the coming slot instants and the post in each
	// (?days=N, default 7, at most QueueMaxDays; ?account=).
	PathQueue = "/v1/queue"
)

// QueueMaxDays is the most days GET /v1/queue looks ahead.
const QueueMaxDays = 366

// Slot is one weekly queue slot (SPEC §7 `slots --json`): days of the
// week and a time of day, read in Zone (an IANA name).
type Slot struct {
	ID        int64    `json:"id"`
	Account   string   `json:"account"`
	AccountID string   `json:"account_id"`
	Days      []string `json:"days"` // "mon" ... "sun", Monday first
	Time      string   `json:"time"` // "09:00"
	Zone      string   `json:"zone"`
}

// AddSlots is the body of POST /v1/slots: a spec such as "mon-fri
// 09:00,13:30" (one slot per time), read in Zone, the user's IANA time
// zone ("" or "Local": the daemon's).
type AddSlots struct {
	Spec    string `json:"spec"`
	Zone    string `json:"zone,omitempty"`
	Account string `json:"account,omitempty"` // username or X id; default account when empty
}

// Queue is the answer to GET /v1/queue (SPEC §7 `queue --json`).
type Queue struct {
	From  time.Time   `json:"from"`
	Until time.Time   `json:"until"`
	Slots []QueueSlot `json:"slots"`
}

// QueueSlot is one coming slot instant: PostID is the post filling it
// (a post that is not a draft, scheduled at that instant) or null.
type QueueSlot struct {
	At         time.Time `json:"at"`
	Account    string    `json:"account"`
	SlotID     int64     `json:"slot_id"`
	Time       string    `json:"time"` // the slot's time of day as written; At may differ on a clock-change night
	Zone       string    `json:"zone"`
	PostID     *int64    `json:"post_id"`
	PostStatus string    `json:"post_status,omitempty"`
	Excerpt    string    `json:"excerpt,omitempty"` // the start of the post's first tweet
}
