package history

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
)

// series returns comparable runs of profile p, one per value of step.create.p50 (ms), numbered
// from 1, with errors 0 and served 100 %.
func series(values ...float64) []*Run {
	var runs []*Run
	for i, v := range values {
		r := newRun("p", map[string]string{"env": "ci"}, map[string]float64{"step.create.p50": v, "errors": 0, "served": 1})
		r.Seq = int64(i + 1)
		runs = append(runs, r)
	}
	return runs
}

func judgmentOf(t *testing.T, v RunJudgment, metric string) Judgment {
	t.Helper()
	for _, j := range v.Judgments {
		if j.Metric == metric {
			return j
		}
	}
	t.Fatalf("%s not judged (not judged: %q; skipped: %v)", metric, v.NotJudged, v.Skipped)
	return Judgment{}
}

// TestJudgeBand: the band is mean ± t(0.999, K−1)·s·√(1+1/K) of the baseline's runs; a value
// beyond it and the minimum effect is flagged, by direction.
func TestJudgeBand(t *testing.T) {
	base := []float64{100, 102, 98, 101, 99, 100, 100}
	ms := float64(time.Millisecond)
	for _, c := range []struct {
		value float64
		flag  string
	}{
		{100, ""}, {106, ""}, // inside the band
		{115, FlagRegression}, // +15 %, outside
		{80, FlagImprovement}, // −20 %, outside below: faster
	} {
		v := Judge(series(append(base, c.value)...), len(base), CheckOptions{})
		j := judgmentOf(t, v, "step.create.p50")
		if j.Flag != c.flag {
			t.Errorf("%gms: flag %q, want %q (%s)", c.value, j.Flag, c.flag, j)
		}
		half := 5.208 * math.Sqrt(10.0/6) * math.Sqrt(8.0/7) * ms
		if math.Abs(j.Mean-100*ms) > 1 || math.Abs(j.Lo-(100*ms-half)) > 1e3 || math.Abs(j.Hi-(100*ms+half)) > 1e3 || j.N != 7 {
			t.Errorf("band %v – %v, mean %v, n %d; want %v ± %v of 7", j.Lo, j.Hi, j.Mean, j.N, 100*ms, half)
		}
	}
	// A wide band does not flag +15 %: the baseline's own spread is larger.
	noisy := []float64{100, 130, 80, 120, 90, 110, 70}
	if j := judgmentOf(t, Judge(series(append(noisy, 115)...), len(noisy), CheckOptions{}), "step.create.p50"); j.Flag != "" {
		t.Errorf("noisy baseline: %s", j)
	}
}

// TestJudgeMinimumEffect: a baseline that never varied has a band of no width; only a change
// by the minimum effect (and the absolute floor) is flagged.
func TestJudgeMinimumEffect(t *testing.T) {
	flat := []float64{100, 100, 100, 100, 100, 100, 100}
	for _, c := range []struct {
		value     float64
		minEffect float64
		flag      string
	}{
		{104, 0, ""}, {106, 0, FlagRegression}, {106, 0.10, ""}, {111, 0.10, FlagRegression},
	} {
		j := judgmentOf(t, Judge(series(append(flat, c.value)...), len(flat), CheckOptions{MinEffect: c.minEffect}), "step.create.p50")
		if j.Flag != c.flag {
			t.Errorf("%gms, min effect %g: flag %q, want %q", c.value, c.minEffect, j.Flag, c.flag)
		}
	}
	// A fast step (the A/A series' step.automsg.p95 on the CI machine): 1.7 ms above a baseline
	// of 2.5 ms whose runs varied by 0.2 ms is far outside the band and +70 %, but under the
	// 5-ms floor; with --min-duration 1ms it is a regression, 6 ms above it always is.
	fast := []float64{2.3, 2.5, 2.7, 2.4, 2.6}
	for _, c := range []struct {
		value float64
		floor time.Duration
		flag  string
	}{
		{4.23, 0, ""}, {4.23, time.Millisecond, FlagRegression}, {8.6, 0, FlagRegression},
	} {
		j := judgmentOf(t, Judge(series(append(fast, c.value)...), len(fast), CheckOptions{MinDuration: c.floor}), "step.create.p50")
		if j.Flag != c.flag {
			t.Errorf("%gms after a %v baseline, floor %v: flag %q, want %q (%s)", c.value, fast, c.floor, j.Flag, c.flag, j)
		}
	}
	// Shares: from 0 % errors, 0.05 % is under the 0.1-point floor, 0.5 % is a regression.
	for _, c := range []struct {
		errors float64
		flag   string
	}{{0.0005, ""}, {0.005, FlagRegression}} {
		runs := series(flat...)
		r := newRun("p", map[string]string{"env": "ci"}, map[string]float64{"errors": c.errors})
		r.Seq = 8
		j := judgmentOf(t, Judge(append(runs, r), 7, CheckOptions{}), "errors")
		if j.Flag != c.flag {
			t.Errorf("errors %g: flag %q, want %q (%s)", c.errors, j.Flag, c.flag, j)
		}
	}
}

// TestJudgeServedDirection: served falls from 99.9 % to 98 %: a regression although it is only
// 2 % of all consumers (it is 20 times the unserved share); rising to 100 % is no regression.
func TestJudgeServedDirection(t *testing.T) {
	var runs []*Run
	for i, s := range []float64{0.999, 0.9992, 0.9988, 0.999, 0.9991, 0.9989, 0.999} {
		r := newRun("p", nil, map[string]float64{"served": s})
		r.Seq = int64(i + 1)
		runs = append(runs, r)
	}
	for _, c := range []struct {
		served float64
		flag   string
	}{{0.98, FlagRegression}, {0.9990, ""}, {1, ""}} {
		r := newRun("p", nil, map[string]float64{"served": c.served})
		r.Seq = 8
		j := judgmentOf(t, Judge(append(runs, r), 7, CheckOptions{}), "served")
		if j.Flag == FlagRegression != (c.flag == FlagRegression) {
			t.Errorf("served %g: %s", c.served, j)
		}
		if j.Lo > j.Hi || j.Hi > 1 {
			t.Errorf("served band %g – %g", j.Lo, j.Hi)
		}
	}
}

// TestJudgeBaselineSelection: only the previous K comparable runs whose own measurement held are
// the baseline; a run whose checks failed is never judged (exit 4 for the gate); with fewer than
// MinBaseline runs before it, a run is not judged.
func TestJudgeBaselineSelection(t *testing.T) {
	runs := series(100, 100, 100, 500, 101, 99, 100, 100, 100, 100, 100)
	runs[3].ChecksOK = false                       // the outlier's measurement failed: excluded
	runs[5].Labels = map[string]string{"env": "x"} // other labels: not comparable
	runs[6].Profile = "other"                      // other profile: not comparable
	runs[7].EndReason = string(report.EndInterrupted)
	v := Judge(runs, 10, CheckOptions{Baseline: 5})
	var seqs []int64
	for _, b := range v.Baseline {
		seqs = append(seqs, b.Seq)
	}
	if want := []int64{3, 5, 9, 10}; len(seqs) != 5 || seqs[0] != 2 || !equalTail(seqs, want) {
		t.Errorf("baseline %v, want [2 3 5 9 10]", seqs)
	}
	if v := Judge(runs, 3, CheckOptions{}); !v.Invalid() || !strings.Contains(v.NotJudged, "measurement checks failed") {
		t.Errorf("failed run: %+v", v)
	}
	if v := Judge(runs, 2, CheckOptions{}); v.Invalid() || !strings.Contains(v.NotJudged, "2 comparable valid run(s) before it, 3 needed") {
		t.Errorf("third run: %q", v.NotJudged)
	}
}

func equalTail(got, want []int64) bool {
	if len(got) < len(want) {
		return false
	}
	for i := range want {
		if got[len(got)-len(want)+i] != want[i] {
			return false
		}
	}
	return true
}

// TestJudgeSkips: a percentile with fewer than report.SupportAbove samples above it, and the
// generator's lag, are not judged, and say why.
func TestJudgeSkips(t *testing.T) {
	runs := series(100, 100, 100, 100)
	for _, r := range runs {
		r.Metrics = append(r.Metrics, Metric{Target: "sim", Name: "step.create.p99", Kind: report.KindDuration, Value: 1e8, Samples: 999},
			Metric{Target: "sim", Name: "lag.p99", Kind: report.KindDuration, Value: 1e6, Samples: 5000})
	}
	v := Judge(runs, 3, CheckOptions{})
	joined := strings.Join(v.Skipped, "\n")
	for _, want := range []string{"sim step.create.p99: 999 samples: too few for the percentile", "sim lag.p99: the generator's own lateness"} {
		if !strings.Contains(joined, want) {
			t.Errorf("skipped %q, want %q", joined, want)
		}
	}
}

func TestTQuantile(t *testing.T) {
	prev := math.Inf(1)
	for df := 1; df < 200; df++ {
		q := tQuantile(df)
		if q >= prev || q < 3.09 {
			t.Fatalf("t(0.999, %d) = %g after %g", df, q, prev)
		}
		prev = q
	}
	if q := tQuantile(60); math.Abs(q-3.232) > 0.01 {
		t.Errorf("t(0.999, 60) = %g, want 3.232", q)
	}
}

// TestJudgeIgnoreLabels: runs that differ only in a label that changes every run (a commit) are
// comparable when it is ignored, and not otherwise.
func TestJudgeIgnoreLabels(t *testing.T) {
	runs := series(100, 100, 100, 100, 130)
	for i, r := range runs {
		r.Labels = map[string]string{"env": "ci", "commit": string(rune('a' + i))}
	}
	if v := Judge(runs, 4, CheckOptions{}); !strings.Contains(v.NotJudged, "0 comparable valid run(s)") {
		t.Errorf("without ignore: %q", v.NotJudged)
	}
	v := Judge(runs, 4, CheckOptions{IgnoreLabels: []string{"commit"}})
	if j := judgmentOf(t, v, "step.create.p50"); j.Flag != FlagRegression || j.N != 4 {
		t.Errorf("with commit ignored: %s", j)
	}
	runs[2].Labels["env"] = "prod"
	if v := Judge(runs, 4, CheckOptions{IgnoreLabels: []string{"commit"}}); len(v.Baseline) != 3 {
		t.Errorf("another env is still another series: baseline %d runs", len(v.Baseline))
	}
}

// TestCheckNotJudged: a young history is not judged (TooFewRuns); a history with enough runs of
// which too few are comparable (a label that changes every run) says which labels differ
// (NotComparable); a baseline under which no metric could be judged is NoMetric; each says NOT
// JUDGED.
func TestCheckNotJudged(t *testing.T) {
	runs := series(100, 100, 100)
	if v := JudgeRun(runs, runs[2], CheckOptions{}); v.Reason != TooFewRuns || !strings.HasPrefix(v.NotJudged, "NOT JUDGED: run #3: 2 comparable") {
		t.Errorf("young history: %d %q", v.Reason, v.NotJudged)
	}
	runs = series(100, 100, 100, 100, 100)
	for i, r := range runs {
		r.Labels = map[string]string{"env": "ci", "commit": string(rune('a' + i))}
	}
	runs[1].Shard = report.Shard{Index: 1, Count: 2}
	v := JudgeRun(runs, runs[4], CheckOptions{})
	if v.Reason != NotComparable || len(v.LabelsDiffer) != 1 || v.LabelsDiffer[0] != "commit" ||
		!strings.Contains(v.NotJudged, "4 earlier valid runs of kind run, profile p, but only 0 comparable with it: they differ in label commit in 4, the shard in 1") {
		t.Errorf("a label that changes every run: %d %v %q", v.Reason, v.LabelsDiffer, v.NotJudged)
	}
	if v := JudgeRun(runs, runs[4], CheckOptions{IgnoreLabels: []string{"commit"}}); v.Reason != Judged || len(v.Baseline) != 3 {
		t.Errorf("commit ignored: %d %q, baseline %d", v.Reason, v.NotJudged, len(v.Baseline))
	}
	// Every metric of the run has too few samples, and it lacks none of the baseline's.
	runs = series(100, 100, 100, 100)
	for _, r := range runs {
		r.Metrics = []Metric{{Target: "sim", Name: "step.create.p99", Kind: report.KindDuration, Value: 1e8, Samples: 999}}
	}
	if v := JudgeRun(runs, runs[3], CheckOptions{}); v.Reason != NoMetric || len(v.Judgments) != 0 || !strings.HasPrefix(v.NotJudged, "NOT JUDGED") {
		t.Errorf("nothing judgeable: %d %q", v.Reason, v.NotJudged)
	}
}

// TestJudgeMissing: a metric at least MinBaseline baseline runs had and the run lacks is a
// regression; one fewer had is skipped, with why; the generator's lag is never judged.
func TestJudgeMissing(t *testing.T) {
	runs := series(100, 100, 100, 100, 100)
	for _, r := range runs[:4] {
		r.Metrics = append(r.Metrics, Metric{Target: "sim", Name: "lag.p99", Kind: report.KindDuration, Value: 1e6, Samples: 5000})
	}
	for _, r := range runs[2:4] {
		r.Metrics = append(r.Metrics, Metric{Target: "sim", Name: "automsg.missing", Kind: report.KindShare, Value: 0, Samples: 1000})
	}
	last := runs[4]
	m, _ := last.Metric("sim", "step.create.p50")
	last.Metrics = []Metric{m} // errors and served missing
	v := Judge(runs, 4, CheckOptions{})
	var missing []string
	for _, j := range v.Regressions() {
		if j.Missing {
			missing = append(missing, j.Metric)
		}
	}
	if strings.Join(missing, " ") != "served errors" {
		t.Errorf("missing regressions %v, want served errors", missing)
	}
	if s := strings.Join(v.Skipped, "\n"); !strings.Contains(s, "sim automsg.missing: missing, and only 2 baseline runs had it, 3 needed") || strings.Contains(s, "lag") {
		t.Errorf("skipped %q", s)
	}
}

// TestJudgeProfileChanged: a run whose profile hash differs from its baseline's is judged, with
// a warning naming the runs.
func TestJudgeProfileChanged(t *testing.T) {
	runs := series(100, 100, 100, 100)
	for _, r := range runs {
		r.ProfileHash = "aaaaaaaaaaaaaaaaaaaa"
	}
	runs[3].ProfileHash = "bbbbbbbbbbbbbbbbbbbb"
	v := Judge(runs, 3, CheckOptions{})
	if v.Reason != Judged || len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0], "run #4 has profile_hash bbbbbbbbbbbb, baseline runs #1 #2 #3 another") {
		t.Errorf("warnings %q", v.Warnings)
	}
}

// TestJudgeDetect: the smallest change a baseline can flag is its band's half width or the
// minimum effect, whichever is larger; a value just beyond it is flagged, one just short not.
func TestJudgeDetect(t *testing.T) {
	ms := float64(time.Millisecond)
	for _, c := range []struct {
		name string
		base []float64
		want string
	}{
		{"quiet 7 runs: the minimum effect", []float64{100, 101, 99, 100, 100, 101, 99}, "+5.0%"},
		{"noisy 3 runs: the band", []float64{100, 160, 40}, ""},
	} {
		v := Judge(series(append(c.base, 100)...), len(c.base), CheckOptions{})
		j := judgmentOf(t, v, "step.create.p50")
		mean, _ := meanSD(c.base)
		half := (j.Hi - j.Lo) / 2
		if j.Lo == 0 { // clamped at 0: the half width is above the mean
			half = j.Hi - j.Mean
		}
		if want := max(half, 0.05*mean*ms); math.Abs(j.Detect-want) > 1 {
			t.Errorf("%s: Detect %g, want %g", c.name, j.Detect, want)
		}
		if c.want != "" && j.Detectable() != c.want {
			t.Errorf("%s: Detectable %q, want %q", c.name, j.Detectable(), c.want)
		}
		for _, f := range []struct {
			scale float64
			flag  string
		}{{0.99, ""}, {1.01, FlagRegression}} {
			x := (j.Mean + f.scale*j.Detect) / ms
			if got := judgmentOf(t, Judge(series(append(c.base, x)...), len(c.base), CheckOptions{}), "step.create.p50"); got.Flag != f.flag {
				t.Errorf("%s: %gms (%.2f × Detect above the mean): flag %q, want %q", c.name, x, f.scale, got.Flag, f.flag)
			}
		}
	}
	// served: a fall, in percentage points.
	runs := series(100, 100, 100, 100)
	for i, v := range []float64{0.99, 0.992, 0.988} {
		for k := range runs[i].Metrics {
			if runs[i].Metrics[k].Name == "served" {
				runs[i].Metrics[k].Value = v
			}
		}
	}
	if j := judgmentOf(t, Judge(runs, 3, CheckOptions{}), "served"); !strings.HasPrefix(j.Detectable(), "-") || !strings.HasSuffix(j.Detectable(), "pp") {
		t.Errorf("served: Detectable %q, want a fall in points", j.Detectable())
	}
}
