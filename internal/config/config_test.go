package config

import (
	"strings"
	"testing"
)

// TestRelativeHomeRefused: a relative PSN_HOME would be resolved in each
// process's own working directory (the daemon's and every command's), so
// it is refused with the absolute path it would mean here; an absolute one
// is kept (cleaned).
func TestRelativeHomeRefused(t *testing.T) {
	env := func(home string) Getenv {
		return func(k string) string {
			if k == "PSN_HOME" {
				return home
			}
			return ""
		}
	}
	for _, rel := range []string{"data", "./data", "../psn", "~/psn"} {
		_, err := Load(env(rel), "linux")
		if err == nil || !strings.Contains(err.Error(), "PSN_HOME=\""+rel+"\" is a relative path") || !strings.Contains(err.Error(), "(here: PSN_HOME=/") {
			t.Errorf("PSN_HOME=%s: err = %v, want a refusal naming the absolute path", rel, err)
		}
	}
	c, err := Load(env("/srv/psn/"), "linux")
	if err != nil || c.Home != "/srv/psn" {
		t.Errorf("absolute PSN_HOME: %+v %v", c.Home, err)
	}
}
