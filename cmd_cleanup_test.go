package main

import (
	"strings"
	"testing"

	"github.com/lpbench/lpbench/exitcode"
)

// TestCleanupUsage: a cleanup without a directory, or of one without a journal, exits 2.
func TestCleanupUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "lpbench cleanup DIR"},
		{[]string{t.TempDir()}, "no journal.jsonl under"},
		{[]string{t.TempDir(), "--sim-ca", "ca.pem"}, "--sim-ca goes with --sim-url"},
	} {
		code, _, stderr := runCLI(append([]string{"cleanup"}, tc.args...)...)
		if code != exitcode.Usage || !strings.Contains(stderr, tc.want) {
			t.Errorf("cleanup %q: exit %d, want %d with %q:\n%s", tc.args, code, exitcode.Usage, tc.want, stderr)
		}
	}
}
