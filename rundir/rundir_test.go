package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/journal"
)

// TestOpenRefusesLeftOpen: a run's directory gets its interval log and journal; a directory
// (or a search's step) whose journal records a conversation opened and not closed is refused,
// naming the journal and cleanup, before a file is touched.
func TestOpenRefusesLeftOpen(t *testing.T) {
	dir := t.TempDir()
	step := filepath.Join(dir, Step(1))
	f, err := Open(step)
	if err != nil {
		t.Fatal(err)
	}
	h := journal.Header{RunID: "r1", Close: true, Targets: []journal.Target{{Name: "t", Account: "1", Kind: "live"}}}
	if err := f.Journal.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	f.Journal.Opened(0, "c-1", "conv-1")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, hlog := range []string{filepath.Join(step, HlogName)} {
		if _, err := os.Stat(hlog); err != nil {
			t.Errorf("no interval log: %v", err)
		}
	}
	for name, open := range map[string]func() error{
		"Open":    func() error { _, err := Open(step); return err },
		"Prepare": func() error { return Prepare(dir) },
	} {
		err := open()
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "lpbench cleanup") {
			t.Errorf("%s: %v, want a usage error naming cleanup", name, err)
		}
	}
}
