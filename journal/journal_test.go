package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// countingWriter counts the writes that reach the file and checks each is whole lines.
type countingWriter struct {
	mu     sync.Mutex
	f      *os.File
	writes int
	bad    []string
}

func (c *countingWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	if !bytes.HasSuffix(b, []byte("\n")) || bytes.Count(b, []byte("\n")) != 1 || !json.Valid(bytes.TrimSpace(b)) {
		c.bad = append(c.bad, string(b))
	}
	c.mu.Unlock()
	return c.f.Write(b)
}

func header() Header {
	return Header{RunID: "r1", Profile: "p", Close: true, Targets: []Target{
		{Name: "a", Account: "123", Kind: "live", CSDS: "https://api.example", ClientIDEnv: "ID_VAR", ClientSecretEnv: "SECRET_VAR", CAFile: "ca.pem"},
		{Name: "b", Account: "456", Kind: "simurl", SimURL: "http://127.0.0.1:1"},
	}}
}

// TestEntries: the header and every kind of entry read back as written, one write(2) each, and
// Consumers says who is left open.
func TestEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	j, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	cw := &countingWriter{f: j.f}
	j.w = cw
	if err := j.WriteHeader(header()); err != nil {
		t.Fatal(err)
	}
	j.Opening(0, "c-0")
	j.Opened(0, "c-0", "conv-0")
	j.Closed(0, "c-0", "conv-0")
	j.Opening(0, "c-1")
	j.Opened(0, "c-1", "conv-1") // left open
	j.Opening(1, "c-2")          // in flight
	j.Opening(1, "c-3")
	j.Refused(1, "c-3")
	j.Opening(1, `odd "id"\é`)
	j.Opened(1, `odd "id"\é`, "conv-4")
	j.ClosedBy(1, `odd "id"\é`, "conv-4", "cleanup")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if cw.writes != 12 || len(cw.bad) > 0 {
		t.Errorf("%d writes (want 12: the header and 11 entries, one each); not one whole JSON line: %q", cw.writes, cw.bad)
	}
	l, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Torn || l.Header.RunID != "r1" || l.Header.Version != Version || len(l.Header.Targets) != 2 || l.Header.Targets[0].ClientSecretEnv != "SECRET_VAR" {
		t.Errorf("header %+v, torn %v", l.Header, l.Torn)
	}
	if len(l.Entries) != 11 || l.Entries[10].By != "cleanup" || l.Entries[10].Consumer != `odd "id"\é` {
		t.Fatalf("entries %+v", l.Entries)
	}
	var open []string
	for _, c := range l.Consumers() {
		if c.Open() {
			open = append(open, fmt.Sprintf("%d/%s/%s", c.Target, c.Consumer, c.Conversation))
		}
	}
	if got, want := strings.Join(open, " "), "0/c-1/conv-1 1/c-2/"; got != want {
		t.Errorf("open consumers %q, want %q", got, want)
	}
}

// TestConcurrentEntries: entries written from many goroutines at once land whole, none lost.
func TestConcurrentEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	j, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.WriteHeader(header()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				c := fmt.Sprintf("c-%d-%d", g, i)
				j.Opening(0, c)
				j.Opened(0, c, "conv-"+c)
			}
		}()
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 8*200*2 || len(l.Consumers()) != 8*200 {
		t.Errorf("%d entries, %d consumers, want %d and %d", len(l.Entries), len(l.Consumers()), 8*200*2, 8*200)
	}
}

// TestTornLastLine: a last line cut short by a kill is skipped and reported; a bad line before
// the last is an error naming the file and line.
func TestTornLastLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	j, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.WriteHeader(header()); err != nil {
		t.Fatal(err)
	}
	j.Opening(0, "c-0")
	j.Opened(0, "c-0", "conv-0")
	j.Close()
	whole, _ := os.ReadFile(path)
	torn := append(append([]byte{}, whole...), `{"kind":"closed","target":0,"consu`...)
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Read(path)
	if err != nil {
		t.Fatalf("a torn last line: %v", err)
	}
	if !l.Torn || len(l.Entries) != 2 || !l.Consumers()[0].Open() {
		t.Errorf("torn %v, entries %+v: want the two whole entries, c-0 open", l.Torn, l.Entries)
	}
	// Appending after a torn line (a cleanup records its closes) keeps the file readable.
	bad := append(append([]byte{}, torn...), "\n"...)
	bad = append(bad, `{"kind":"opening","target":0,"consumer":"c-1"}`+"\n"...)
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), FileName+":4:") {
		t.Errorf("a bad line in the middle: %v, want an error naming line 4", err)
	}
}

// TestReadRefuses: no header, another version, an unknown target: errors, not panics.
func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"empty":     "",
		"no header": `{"kind":"opening","target":0,"consumer":"c"}` + "\n" + `{"kind":"opening","target":0,"consumer":"d"}` + "\n",
		"version":   `{"kind":"header","v":99,"targets":[]}` + "\n",
		"target":    `{"kind":"header","v":1,"targets":[]}` + "\n" + `{"kind":"opening","target":3,"consumer":"c"}` + "\n" + "\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
}

// TestNilJournal: a run without a journal calls nothing that fails.
func TestNilJournal(t *testing.T) {
	var j *Journal
	j.Opening(0, "c")
	j.Opened(0, "c", "x")
	j.Refused(0, "c")
	j.Closed(0, "c", "x")
	if j.Err() != nil || j.Close() != nil {
		t.Error("a nil journal reports an error")
	}
}
