package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
)

// newRun returns a valid run of profile p with labels and the given metric values of target
// "sim" (durations in ms, shares as fractions; 1000 samples each).
func newRun(p string, labels map[string]string, values map[string]float64) *Run {
	r := &Run{Kind: KindRun, RunID: "r", Profile: p, Shard: report.Shard{Count: 1}, Start: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC),
		Version: "test", EndReason: string(report.EndCompleted), ChecksOK: true, Labels: labels,
		Checks: []report.Check{{Name: "generator_lag", OK: true}}}
	r.End = r.Start.Add(time.Minute)
	for _, name := range headlineNames() {
		v, ok := values[name]
		if !ok {
			continue
		}
		k := report.KindDuration
		if !strings.Contains(name, ".p") {
			k = report.KindShare
		} else {
			v *= float64(time.Millisecond)
		}
		r.Metrics = append(r.Metrics, Metric{Target: "sim", Name: name, Kind: k, Value: v, Samples: 1000})
	}
	return r
}

func openNew(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// TestAppendReadBack: a run appended reads back as it was, its result file included, in the
// order appended.
func TestAppendReadBack(t *testing.T) {
	db, _ := openNew(t)
	ctx := context.Background()
	a := newRun("nightly", map[string]string{"env": "ci", "build": "1"}, map[string]float64{"served": 0.999, "step.create.p95": 120})
	b := newRun("nightly", nil, map[string]float64{"errors": 0.01})
	file := []byte(`{"schema":"lpbench.result/v1"}`)
	for _, r := range []*Run{a, b} {
		if err := db.Append(ctx, r, file); err != nil {
			t.Fatal(err)
		}
	}
	if a.Seq != 1 || b.Seq != 2 {
		t.Fatalf("seqs %d, %d; want 1, 2", a.Seq, b.Seq)
	}
	runs, err := db.Runs(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	got := runs[0]
	if !reflect.DeepEqual(got.Labels, a.Labels) || !reflect.DeepEqual(got.Metrics, a.Metrics) || !reflect.DeepEqual(got.Checks, a.Checks) ||
		!got.Start.Equal(a.Start) || !got.End.Equal(a.End) || got.Profile != a.Profile || got.ChecksOK != a.ChecksOK {
		t.Errorf("read back %+v\nwant %+v", got, a)
	}
	sum := sha256.Sum256(file)
	if got.ResultSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 %s", got.ResultSHA256)
	}
	back, err := db.ResultFile(ctx, got.Seq)
	if err != nil || !bytes.Equal(back, file) {
		t.Errorf("result file %q, %v; want %q", back, err, file)
	}
	if len(runs[1].Labels) != 0 {
		t.Errorf("run 2 labels %v, want none", runs[1].Labels)
	}
	// Filters.
	for _, c := range []struct {
		f    Filter
		want int
	}{
		{Filter{Profile: "nightly"}, 2}, {Filter{Profile: "smoke"}, 0}, {Filter{Labels: map[string]string{"env": "ci"}}, 1},
		{Filter{Labels: map[string]string{"env": "prod"}}, 0}, {Filter{Target: "sim"}, 2}, {Filter{Target: "other"}, 0},
	} {
		rs, err := db.Runs(ctx, c.f)
		if err != nil || len(rs) != c.want {
			t.Errorf("filter %v: %d runs, %v; want %d", c.f, len(rs), err, c.want)
		}
	}
}

// TestOpenRefuses: a file that is not an lpbench history is refused with an error naming it and
// left byte for byte as it was; a missing file is created only when asked.
func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("these are not the runs you are looking for\n"), 0o644)
	short := filepath.Join(dir, "short.db")
	os.WriteFile(short, []byte("SQLite format 3\x00"), 0o644)
	foreign := filepath.Join(dir, "foreign.db")
	exec1(t, foreign, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ada')")
	newer := filepath.Join(dir, "newer.db")
	db, err := Open(newer, true)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	exec1(t, newer, "PRAGMA user_version = 99")
	damaged := filepath.Join(dir, "damaged.db")
	damage(t, damaged)
	for _, c := range []struct{ path, want string }{
		{text, "not an SQLite database"},
		{short, "not an SQLite database"},
		{foreign, "another application"},
		{newer, "schema version 99"},
		{damaged, "not a readable lpbench history"},
	} {
		before, _ := os.ReadFile(c.path)
		db, err := Open(c.path, true)
		if err == nil {
			db.Close()
			t.Errorf("%s: opened, want refused", c.path)
			continue
		}
		if !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want it to name the file and say %q", c.path, err, c.want)
		}
		after, _ := os.ReadFile(c.path)
		if !bytes.Equal(before, after) {
			t.Errorf("%s: changed by the refused open", c.path)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.db"), false); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file without create: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("a read created the file")
	}
}

// exec1 runs SQL on an SQLite file with the driver directly (no lpbench identity).
func exec1(t *testing.T, path, q string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// damage writes a history of a few runs and overwrites its second and later pages with garbage,
// keeping the header: an lpbench history damaged on disk.
func damage(t *testing.T, path string) {
	t.Helper()
	db, err := Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := db.Append(context.Background(), newRun("p", nil, map[string]float64{"served": 1, "gap.p99": 100}), bytes.Repeat([]byte("x"), 3000)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 3*4096 {
		t.Fatalf("history of %d bytes: too small to damage", len(b))
	}
	for i := 4096; i < len(b); i++ {
		b[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The helper process of TestAppendTwoProcesses appends helperRuns runs labelled proc=$NAME.
const helperRuns = 200

func TestAppendHelperProcess(t *testing.T) {
	path, name := os.Getenv("LPBENCH_HISTORY_HELPER"), os.Getenv("LPBENCH_HISTORY_HELPER_NAME")
	if path == "" {
		t.Skip("the helper process of TestAppendTwoProcesses")
	}
	at, err := time.Parse(time.RFC3339Nano, os.Getenv("LPBENCH_HISTORY_HELPER_AT"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(at)) // both processes start appending at once
	begin := time.Now()
	db, err := Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	defer func() { fmt.Printf("appending from %d to %d\n", begin.UnixNano(), time.Now().UnixNano()) }()
	for i := range helperRuns {
		r := newRun("p", map[string]string{"proc": name, "i": fmt.Sprint(i)}, map[string]float64{"served": 1, "gap.p99": float64(i)})
		if err := db.Append(context.Background(), r, []byte(name)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAppendTwoProcesses: two processes append to one new history file at the same time; every
// run of each is there, once.
func TestAppendTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	var cmds []*exec.Cmd
	outs := make([]*bytes.Buffer, 2)
	at := time.Now().Add(time.Second).Format(time.RFC3339Nano)
	for i, name := range []string{"A", "B"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAppendHelperProcess$", "-test.count=1", "-test.timeout=60s")
		cmd.Env = append(os.Environ(), "LPBENCH_HISTORY_HELPER="+path, "LPBENCH_HISTORY_HELPER_NAME="+name, "LPBENCH_HISTORY_HELPER_AT="+at)
		outs[i] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	var spans [2][2]int64
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i])
		}
		if _, err := fmt.Sscanf(outs[i].String(), "appending from %d to %d", &spans[i][0], &spans[i][1]); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i])
		}
	}
	// The processes were appending at the same time: each began before the other was done.
	if spans[0][0] >= spans[1][1] || spans[1][0] >= spans[0][1] {
		t.Errorf("the processes appended one after the other (%v): no concurrency tested", spans)
	}
	db, err := Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(context.Background(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	switches := 0
	for i, r := range runs {
		seen[r.Labels["proc"]+"/"+r.Labels["i"]]++
		if i > 0 && r.Labels["proc"] != runs[i-1].Labels["proc"] {
			switches++
		}
		if len(r.Metrics) != 2 {
			t.Errorf("run #%d has %d metrics, want 2", r.Seq, len(r.Metrics))
		}
	}
	if len(runs) != 2*helperRuns || len(seen) != 2*helperRuns {
		t.Fatalf("%d runs (%d distinct), want %d", len(runs), len(seen), 2*helperRuns)
	}
	t.Logf("%d runs; the writer changed %d times; appending spans %v", len(runs), switches, spans)
}

// TestOpenOddNames: a file name with a space, '%', '?' or '#' is the file's own name; a missing
// directory is named.
func TestOpenOddNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir")
	os.Mkdir(dir, 0o755)
	path := filepath.Join(dir, "h%41 ?x#y.db")
	for range 2 {
		db, err := Open(path, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Append(context.Background(), newRun("p", nil, map[string]float64{"served": 1}), nil); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "h%41 ?x#y.db" {
		t.Errorf("files %v, want the one named", entries)
	}
	if _, err := Open(filepath.Join(dir, "no", "h.db"), true); err == nil || !strings.Contains(err.Error(), "no directory") {
		t.Errorf("missing directory: %v", err)
	}
}
