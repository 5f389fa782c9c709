package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/compare/comparetest"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// regionsResult writes a result of three targets like the regions profile's: va and lo alike,
// sy's CONVERSATION 30 % slower; every target's AppJWT a cache hit but for one refresh (lo's
// refresh slow), lo's generator late, every consumer served.
func regionsResult(t *testing.T) string {
	t.Helper()
	r := &report.Result{Overall: comparetest.Metrics(60, 2000, 1)}
	for i, tc := range []struct {
		name  string
		scale float64
	}{{"va", 1}, {"lo", 1}, {"sy", 1.3}} {
		m := comparetest.Metrics(61+uint64(i), 2000, tc.scale)
		m.Steps[sample.AppJWT].Reset()
		for range 1999 {
			hdr.Record(m.Steps[sample.AppJWT], 511)
		}
		refresh := 60 * time.Millisecond
		if tc.name == "lo" {
			refresh = 900 * time.Millisecond
			m.Lag.Reset()
			for range 2000 {
				hdr.Record(m.Lag, 40*time.Millisecond)
			}
		}
		hdr.Record(m.Steps[sample.AppJWT], refresh)
		m.Requests[sample.AppJWT] = 1
		m.AutoMsgAwaited[sample.VerdictIn], m.AutoMsgReceived[sample.VerdictIn] = 2000, 2000
		r.Targets = append(r.Targets, report.TargetInfo{Name: tc.name})
		r.PerTarget = append(r.PerTarget, m)
	}
	path := filepath.Join(t.TempDir(), "result.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := report.WriteJSON(f, r); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCompareTargets: three targets of one result, each against the first, one verdict first;
// the cached step and lag never flagged; served and step.create.p95 gate.
func TestCompareTargets(t *testing.T) {
	t.Parallel()
	path := regionsResult(t)
	code, out, errs := runCLI("compare", path, "--targets", "va,lo,sy", "--fail-on-regression", "served:1")
	if code != exitcode.OK {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
	}
	first, _, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, "sy is slower than va on step.create.") {
		t.Errorf("first line %q, want the verdict: sy slower than va on create", first)
	}
	for _, want := range []string{"lpbench compare: base va, new lo", "lpbench compare: base va, new sy", "step.appjwt.p99 (cached)", "\ngenerator (lag:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && (strings.HasPrefix(f[0], "step.appjwt.") || strings.HasPrefix(f[0], "lag.")) &&
			(strings.Contains(line, "worse") || strings.Contains(line, "better")) {
			t.Errorf("a cached step or lag is judged: %q", line)
		}
	}
	code, out, errs = runCLI("compare", path, "--targets", "va,lo,sy", "--fail-on-regression", "step.create.p95:10", "--format", "markdown")
	if code != exitcode.Thresholds || !strings.Contains(errs, "step.create.p95 of sy is significantly worse than va's by more than 10%") {
		t.Errorf("step.create.p95:10: exit %d, stderr %q; want 3 naming sy", code, errs)
	}
	if !strings.HasPrefix(out, "**sy is slower than va") || !strings.Contains(out, "| step.create.p95 |") {
		t.Errorf("markdown: want the verdict in bold first and a p95 row:\n%s", out)
	}
	for _, tc := range []struct{ args, want string }{
		{"--targets va,xx", `has no target "xx": it has lo, sy, va`},
		{"--targets va", "two names or more"},
		{"--fail-on-regression lag.p99:10", "the generator's own lateness"},
		{"--fail-on-regression served", "wants METRIC:PCT"},
		{"--format pdf", "text, html or markdown"},
	} {
		args := append([]string{"compare", path}, strings.Fields(tc.args)...)
		if !strings.Contains(tc.args, "--targets") {
			args = append(args, "--targets", "va,sy")
		}
		if code, _, errs := runCLI(args...); code != exitcode.Usage || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
