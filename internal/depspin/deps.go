//go:build tools

// Package depspin pins modules while the packages that import them are being
// written in parallel; it is removed once every import is real.
package depspin

import (
	_ "github.com/creack/pty"
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "github.com/getkin/kin-openapi/routers/gorillamux"
	_ "github.com/pkg/browser"
	_ "github.com/pressly/goose/v3"
	_ "github.com/rivo/uniseg"
	_ "github.com/spf13/cobra"
	_ "github.com/zalando/go-keyring"
	_ "golang.org/x/oauth2"
	_ "golang.org/x/sys/unix"
	_ "golang.org/x/term"
	_ "golang.org/x/text/unicode/norm"
	_ "gopkg.in/yaml.v3"
	_ "modernc.org/sqlite"
)
