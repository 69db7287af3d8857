// Package e2e holds end-to-end tests that run the real psnd binary as a
// subprocess against a fake X on loopback: the crash test (kill -9 at random
// moments, restart, and check every thread landed exactly once) and the
// command paths a user takes. It has no non-test code.
package e2e
