package main

import (
	"strings"
	"testing"

	"github.com/lpbench/lpbench/exitcode"
)

// TestRelayFlags: bounds the relay cannot work with are refused (exit 2), naming the flag.
func TestRelayFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-queue", "0"}, "-queue must be ≥ 1, got 0"},
		{[]string{"-queue-bytes", "1000"}, "-queue-bytes must be ≥ 1048576"},
		{[]string{"-max-targets", "0"}, "-max-targets must be ≥ 1, got 0"},
	} {
		code, _, stderr := runCLI(append([]string{"relay", "-listen", "127.0.0.1:0"}, tc.args...)...)
		if code != exitcode.Usage || !strings.Contains(stderr, tc.want) {
			t.Errorf("relay %q: exit %d, stderr %q; want %d with %q", tc.args, code, stderr, exitcode.Usage, tc.want)
		}
	}
}
