package render

import (
	"io"
	"testing"
)

// TestJobSummaryUnset: without $GITHUB_STEP_SUMMARY nothing is rendered nor written anywhere.
func TestJobSummaryUnset(t *testing.T) {
	called := false
	path, err := AppendJobSummary(func(string) string { return "" }, func(io.Writer) error { called = true; return nil })
	if called || path != "" || err != nil {
		t.Errorf("rendered %v, path %q, error %v with $%s empty", called, path, err, StepSummaryEnv)
	}
}
