// Package archtest holds the architecture tests: which of psnd's packages
// may depend on which (docs/architecture.md). It has no code of its own.
package archtest
