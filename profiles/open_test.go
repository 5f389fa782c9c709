package profiles

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenShippedNameBeatsDirectory: a directory (or file) named like a shipped profile in the
// working directory does not hide it; a name with .yaml or a slash is a file. (Not parallel: it
// changes the working directory.)
func TestOpenShippedNameBeatsDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("regions", 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := Open("regions")
	if err != nil || p.Name != "regions" {
		t.Fatalf("Open(regions) with ./regions/ = %q, %v; want the shipped profile", p.Name, err)
	}
	body := "name: mine\ntargets: [{name: a}]\n"
	if err := os.WriteFile(filepath.Join(dir, "smoke.yaml"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := Open("smoke.yaml"); err != nil || p.Name != "mine" {
		t.Errorf("Open(smoke.yaml) = %q, %v; want the file", p.Name, err)
	}
	if _, err := Open("./regions"); err == nil {
		t.Error("Open(./regions), a directory, read as a profile")
	}
}
