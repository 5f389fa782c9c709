package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// shardResult returns a minimal result of shard k/n of run id, profile hash h, started at start.
func shardResult(id, h string, k, n int, start time.Time) *report.Result {
	m := report.NewMetrics()
	m.Window = 10 * time.Second
	pt := report.NewMetrics()
	pt.Window = 10 * time.Second
	return &report.Result{
		Profile: "smoke", RunID: id, ProfileHash: h, Shard: report.Shard{Index: k, Count: n}, Start: start,
		Elapsed: time.Second, End: report.EndCompleted, Window: 10 * time.Second,
		Targets: []report.TargetInfo{{Name: "sim", Kind: "sim"}}, PerTarget: []*report.Metrics{pt}, Overall: m,
	}
}

// writeResults writes rs as result files into a temporary directory and returns their paths.
func writeResults(t *testing.T, rs ...*report.Result) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, r := range rs {
		p := filepath.Join(dir, "shard-"+string(rune('a'+i))+".json")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(f, r); err != nil {
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, p)
	}
	return paths
}

// TestMergeRefusals: merge refuses results that are not the shards of one run, naming the files
// and the mismatch, with exit 2; --allow-partial merges a run with a shard missing and says so.
func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	with := func(r *report.Result, f func(*report.Result)) *report.Result { f(r); return r }
	for _, tc := range []struct {
		name    string
		results []*report.Result
		flags   []string
		code    exitcode.Code
		inErr   string // in stderr
		inOut   string // in stdout
	}{
		// Two shards of one run: merged.
		{"one run", []*report.Result{shardResult("r1", "h1", 0, 2, t0), shardResult("r1", "h1", 1, 2, t0)}, nil, exitcode.OK, "", "lpbench smoke"},
		// The second shard belongs to another run id.
		{"different run id", []*report.Result{shardResult("r1", "h1", 0, 2, t0), shardResult("r2", "h1", 1, 2, t0)}, nil, exitcode.Usage,
			`shard-b.json has run id "r2", `, ""},
		// The same run id, but another effective profile.
		{"different profile", []*report.Result{shardResult("r1", "h1", 0, 2, t0), shardResult("r1", "h2", 1, 2, t0)}, nil, exitcode.Usage,
			"the effective profiles differ", ""},
		// Shard 1/2 twice (and 0/2 missing).
		{"duplicate index", []*report.Result{shardResult("r1", "h1", 1, 2, t0), shardResult("r1", "h1", 1, 2, t0)}, nil, exitcode.Usage,
			"are both shard 1/2: a shard index twice", ""},
		// Shard 2 of 3 is missing.
		{"missing shard", []*report.Result{shardResult("r1", "h1", 0, 3, t0), shardResult("r1", "h1", 1, 3, t0)}, nil, exitcode.Usage,
			"shard(s) 2 of 3 missing (given: ", ""},
		// The message lists the shards it was given, by file.
		{"missing shard lists the files", []*report.Result{shardResult("r1", "h1", 0, 3, t0), shardResult("r1", "h1", 2, 3, t0)}, nil, exitcode.Usage,
			"shard-b.json (shard 2/3)): a partial run is not merged unless --allow-partial", ""},
		// The same, allowed: merged, and the summary says it is partial.
		{"allow partial", []*report.Result{shardResult("r1", "h1", 0, 3, t0), shardResult("r1", "h1", 1, 3, t0)}, []string{"--allow-partial"}, exitcode.OK,
			"", "PARTIAL: shard(s) 2 missing"},
		// Different shard counts.
		{"different shard counts", []*report.Result{shardResult("r1", "h1", 0, 2, t0), shardResult("r1", "h1", 1, 3, t0)}, nil, exitcode.Usage,
			"the runs had different shard counts", ""},
		// One of them from another day (and the same run id, e.g. a reused RUN_ID).
		{"another day", []*report.Result{shardResult("r1", "h1", 0, 2, t0), shardResult("r1", "h1", 1, 2, t0.Add(26*time.Hour))}, nil, exitcode.Usage,
			"26h0m0s apart (more than 1m0s), not one run", ""},
		// Another start barrier.
		{"different barrier", []*report.Result{with(shardResult("r1", "h1", 0, 2, t0), func(r *report.Result) { r.StartAt = t0 }),
			with(shardResult("r1", "h1", 1, 2, t0.Add(time.Second)), func(r *report.Result) { r.StartAt = t0.Add(time.Second) })}, nil, exitcode.Usage,
			"waited for the start barrier 2026-12-01T10:00:01Z", ""},
		// Two relays: each shard heard only part of the deliveries.
		{"different relays", []*report.Result{with(shardResult("r1", "h1", 0, 2, t0), func(r *report.Result) { r.Relay = "http://relay-a:8080" }),
			with(shardResult("r1", "h1", 1, 2, t0), func(r *report.Result) { r.Relay = "http://relay-b:8080" })}, nil, exitcode.Usage,
			"shard-b.json used webhook relay http://relay-b:8080, ", ""},
		// A relay for one shard, its own receiver for the other.
		{"relay and none", []*report.Result{with(shardResult("r1", "h1", 0, 2, t0), func(r *report.Result) { r.Relay = "http://relay-a:8080" }),
			shardResult("r1", "h1", 1, 2, t0)}, nil, exitcode.Usage,
			"shard-b.json used webhook relay (none: its own receiver), ", ""},
		// One relay for both: merged.
		{"one relay", []*report.Result{with(shardResult("r1", "h1", 0, 2, t0), func(r *report.Result) { r.Relay = "http://relay-a:8080" }),
			with(shardResult("r1", "h1", 1, 2, t0), func(r *report.Result) { r.Relay = "http://relay-a:8080" })}, nil, exitcode.OK, "", "lpbench smoke"},
		// Another window.
		{"different window", []*report.Result{shardResult("r1", "h1", 0, 2, t0), with(shardResult("r1", "h1", 1, 2, t0), func(r *report.Result) { r.Window = 5 * time.Second })}, nil, exitcode.Usage,
			"has window 5s", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := writeResults(t, tc.results...)
			out := filepath.Join(t.TempDir(), "merged.json")
			args := append(append([]string{"merge"}, files...), "-o", out)
			code, stdout, stderr := runCLI(append(args, tc.flags...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.inErr) || !strings.Contains(stdout, tc.inOut) {
				t.Errorf("stderr lacks %q or stdout lacks %q\nstdout:\n%s\nstderr:\n%s", tc.inErr, tc.inOut, stdout, stderr)
			}
			if tc.code == exitcode.Usage && !strings.Contains(stderr, filepath.Base(files[1])) && !strings.Contains(stderr, filepath.Base(files[0])) {
				t.Errorf("the message names no file:\n%s", stderr)
			}
			if tc.code != exitcode.OK {
				return
			}
			m, err := report.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := m.RunID, "r1"; got != want {
				t.Errorf("merged run id %q, want %q", got, want)
			}
			if got, want := len(m.MissingShards) > 0, slices.Contains(tc.flags, "--allow-partial"); got != want {
				t.Errorf("merged partial %v (missing %v), want %v", got, m.MissingShards, want)
			}
		})
	}
}

// TestMergeFailedShardCheck: two shards of one run, one of which failed a measurement check:
// the merged verdict is not valid (exit 4), and the message names the shard.
func TestMergeFailedShardCheck(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	good, bad := shardResult("r1", "h1", 0, 2, t0), shardResult("r1", "h1", 1, 2, t0)
	good.Checks = []report.Check{{Name: "load_delivered", OK: true, Measured: "dropped 0%"}}
	bad.Checks = []report.Check{{Name: "load_delivered", OK: false, Measured: "dropped 40% (40 of 100)", Limit: "dropped ≤ 1%"}}
	files := writeResults(t, good, bad)
	code, stdout, stderr := runCLI(append(append([]string{"merge"}, files...), "-o", filepath.Join(t.TempDir(), "m.json"))...)
	if code != exitcode.NotValid {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitcode.NotValid, stdout, stderr)
	}
	for _, s := range []string{stdout, stderr} {
		if !strings.Contains(s, "load_delivered [shard 1/2]: dropped 40%") {
			t.Errorf("the failed check is not named with its shard:\n%s", s)
		}
	}
}

// TestMergeVerdict: the exit of merge is the merged result's (report.Result.Exit), the one its
// job summary tells: a shard interrupted exits 130, shards where no journey succeeded exit 1.
// (Not parallel: it sets the environment.)
func TestMergeVerdict(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		shard  func(*report.Result)
		code   exitcode.Code
		inLine string // the job summary's exit line
	}{
		{"interrupted", func(r *report.Result) {
			if r.Shard.Index == 1 {
				r.End = report.EndInterrupted
			}
		}, exitcode.Interrupted, "**exit 130**: the run was interrupted"},
		{"no journey succeeded", func(r *report.Result) {
			r.Overall.Outcomes[sample.OutcomeFailed] = 5
			r.PerTarget[0].Outcomes[sample.OutcomeFailed] = 5
		}, exitcode.RunFailed, "**exit 1**: no journey succeeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			summary := filepath.Join(t.TempDir(), "summary.md")
			t.Setenv(render.StepSummaryEnv, summary)
			a, b := shardResult("r1", "h1", 0, 2, t0), shardResult("r1", "h1", 1, 2, t0)
			tc.shard(a)
			tc.shard(b)
			files := writeResults(t, a, b)
			code, stdout, stderr := runCLI(append(append([]string{"merge"}, files...), "-o", filepath.Join(t.TempDir(), "m.json"))...)
			md, err := os.ReadFile(summary)
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || !strings.Contains(string(md), tc.inLine) {
				t.Errorf("exit %d, want %d; the job summary lacks %q:\n%s\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.inLine, md, stdout, stderr)
			}
		})
	}
}

// TestMergeHistory: merge --history appends the merged result as one whole run, with the
// shards' labels and the merged file; a partial merge is appended as partial, and history check
// refuses to judge it (exit 4); a file that is not a history stops the merge before it writes
// anything (exit 2).
func TestMergeHistory(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	a, b := shardResult("r1", "h1", 0, 2, t0), shardResult("r1", "h1", 1, 2, t0)
	a.Labels, b.Labels = map[string]string{"env": "ci"}, map[string]string{"env": "ci"}
	merged := filepath.Join(dir, "m.json")
	code, stdout, stderr := runCLI(append(append([]string{"merge"}, writeResults(t, a, b)...), "-o", merged, "-history", db)...)
	if code != exitcode.OK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	c := shardResult("r2", "h1", 0, 2, t0.Add(time.Hour))
	partial := filepath.Join(dir, "p.json")
	code, stdout, stderr = runCLI(append(append([]string{"merge"}, writeResults(t, c)...), "-o", partial, "-allow-partial", "-history", db)...)
	if code != exitcode.OK {
		t.Fatalf("partial: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	h, err := history.Open(db, false)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	runs, err := h.Runs(context.Background(), history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs in the history, want 2", len(runs))
	}
	whole, part := runs[0], runs[1]
	if whole.RunID != "r1" || whole.Shard.Count != 1 || whole.Labels["env"] != "ci" || whole.EndReason != string(report.EndCompleted) || whole.ResultPath != merged {
		t.Errorf("the merged run: id %s, shard %+v, labels %v, end %q, result %s", whole.RunID, whole.Shard, whole.Labels, whole.EndReason, whole.ResultPath)
	}
	if part.RunID != "r2" || part.EndReason != history.EndPartial {
		t.Errorf("the partial merge: id %s, end %q, want %q", part.RunID, part.EndReason, history.EndPartial)
	}
	code, stdout, _ = runCLI("history", "check", db, "-run", "r2")
	if code != exitcode.NotValid || !strings.Contains(stdout, "partial merge") {
		t.Errorf("check of the partial merge: exit %d, want %d:\n%s", code, exitcode.NotValid, stdout)
	}
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("not a database\n"), 0o644)
	out := filepath.Join(dir, "never.json")
	code, _, stderr = runCLI(append(append([]string{"merge"}, writeResults(t, a, b)...), "-o", out, "-history", notDB)...)
	if _, err := os.Stat(out); code != exitcode.Usage || err == nil || !strings.Contains(stderr, "notes.txt") {
		t.Errorf("a text file as history: exit %d (want %d), merged file written: %v, stderr:\n%s", code, exitcode.Usage, err == nil, stderr)
	}
}
