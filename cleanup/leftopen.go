package cleanup

import (
	"path/filepath"

	"github.com/lpbench/lpbench/journal"
)

// FindLeftOpen returns the first journal in dir, or in the step directories (step-KK) of a
// capacity search there, that records conversations an earlier run may have left open, and how
// many (LeftOpen); "" and 0 when there is none. A run about to write its journal there must not
// lose them.
func FindLeftOpen(dir string) (path string, n int) {
	steps, _ := filepath.Glob(filepath.Join(dir, "step-*", journal.FileName))
	for _, p := range append([]string{filepath.Join(dir, journal.FileName)}, steps...) {
		// A journal that does not read (no header: the run died before sending) has nothing to lose.
		if n, err := LeftOpen(p); err == nil && n > 0 {
			return p, n
		}
	}
	return "", 0
}
