package api

// PathDoctor is the daemon's half of `psnd doctor`: the checks that need the
// open database, the data key or the daemon's own state (GET).
const PathDoctor = "/v1/doctor"

// Statuses of a doctor check.
const (
	CheckOK   = "ok"   // nothing to do
	CheckWarn = "warn" // works, but worth attention; does not fail `psnd doctor`
	CheckFail = "fail" // broken: `psnd doctor` exits non-zero
	CheckSkip = "skip" // could not be checked (the message says why)
)

// DoctorCheck is one finding of `psnd doctor`: what was checked, how it
// stands, what was found, and the concrete fix ("" when there is nothing to
// do). Name is stable for scripts: data_dir, file_modes, daemon, database,
// schema, keyring, data_key, x_app, accounts or "account @NAME",
// callback_port, failed_posts, clock, service.
type DoctorCheck struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// DoctorReport is the output of `psnd doctor --json` and the body of GET
// /v1/doctor (which holds the daemon's checks only). OK is false when any
// check failed; warnings and skips leave it true.
type DoctorReport struct {
	Checks []DoctorCheck `json:"checks"`
	OK     bool          `json:"ok"`
	// Home is the data directory whose database and key were examined:
	// $PSN_HOME, or $PSN_HOME/sandbox (Sandbox true). Set by the CLI.
	Home    string `json:"home,omitempty"`
	Sandbox bool   `json:"sandbox"`
}
