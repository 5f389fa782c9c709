package report

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileAtomicReadable: a report written through a temporary file is readable by all
// (0644), not the temporary file's 0600.
func TestWriteFileAtomicReadable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "summary.txt")
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "ok\n"); return err }); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o644 {
		t.Errorf("mode %v, want 0644", got)
	}
}
