package history

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// TestFromResult: a result's headline metrics per target, with their samples; a metric without
// data has no row; labels, checks and the exit code are the run's.
func TestFromResult(t *testing.T) {
	m := report.NewMetrics()
	for i := range 400 {
		m.Steps[sample.Create].RecordValue(int64(90+i%20) * int64(time.Millisecond))
	}
	m.Outcomes[sample.OutcomeOK], m.Outcomes[sample.OutcomeFailed] = 398, 2
	m.Verdicts[sample.VerdictIn], m.Verdicts[sample.VerdictMissed] = 399, 1
	res := &report.Result{Profile: "nightly", RunID: "abc", Start: time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC), Elapsed: time.Minute,
		End: report.EndCompleted, Targets: []report.TargetInfo{{Name: "sim"}}, PerTarget: []*report.Metrics{m}, Overall: m,
		Labels: map[string]string{"env": "ci"}, Checks: []report.Check{{Name: "generator_lag", OK: false}}}
	r, err := FromResult(res, 4, "/tmp/result.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.ChecksOK || r.ExitCode != 4 || r.Labels["env"] != "ci" || r.Shard.Count != 1 || !r.End.Equal(res.Start.Add(time.Minute)) {
		t.Errorf("run %+v", r)
	}
	for _, c := range []struct {
		name    string
		value   float64
		samples int64
	}{
		{"step.create.p50", float64(99 * time.Millisecond), 400}, {"errors", 0.005, 400}, {"window.missed", 0.0025, 400},
		{"served.unverified", 399.0 / 400, 400},
	} {
		got, ok := r.Metric("sim", c.name)
		if !ok || got.Samples != c.samples || (c.name != "step.create.p50" && got.Value != c.value) {
			t.Errorf("%s: %+v (%v), want %g of %d", c.name, got, ok, c.value, c.samples)
		}
		if c.name == "step.create.p50" && (got.Value < 99e6 || got.Value > 100e6) {
			t.Errorf("step.create.p50 %v", time.Duration(got.Value))
		}
	}
	if _, ok := r.Metric("sim", "step.send.p50"); ok {
		t.Error("an empty histogram has a metric")
	}
	if _, ok := r.Metric("sim", "automsg.missing"); ok {
		t.Error("automsg.missing without verified auto messages")
	}
	if _, ok := r.Metric("sim", "served"); ok {
		t.Error("served without verified auto messages: it would change meaning between runs")
	}
	// Verified: served counts the auto messages received, under its own name.
	m.AutoMsgAwaited[sample.VerdictIn], m.AutoMsgReceived[sample.VerdictIn] = 399, 397
	if r, err = FromResult(res, 0, ""); err != nil {
		t.Fatal(err)
	}
	if got, ok := r.Metric("sim", "served"); !ok || got.Value != 397.0/400 {
		t.Errorf("verified served: %+v (%v), want %g", got, ok, 397.0/400)
	}
	if _, ok := r.Metric("sim", "served.unverified"); ok {
		t.Error("served.unverified of a verified run")
	}
}

// TestServedStopsVerifying: a run that stopped verifying auto messages lacks served, which its
// baseline had: a regression, not a silent change of meaning.
func TestServedStopsVerifying(t *testing.T) {
	runs := series(100, 100, 100, 100)
	last := newRun("p", map[string]string{"env": "ci"}, map[string]float64{"step.create.p50": 100, "errors": 0})
	last.Metrics = append(last.Metrics, Metric{Target: "sim", Name: "served.unverified", Kind: report.KindShare, Value: 1, Samples: 1000})
	last.Seq = 5
	v := Judge(append(runs, last), 4, CheckOptions{})
	j := judgmentOf(t, v, "served")
	if !j.Missing || j.Flag != FlagRegression || j.N != 4 {
		t.Errorf("served missing: %+v", j)
	}
	if got := j.String(); got != "regression: served of target sim: missing: baseline had it in 4 runs" {
		t.Errorf("line %q", got)
	}
}

// TestFromCapacity: a search's metric is its sustainable rate; less is worse; a generator-bound
// search is excluded like a run whose checks failed.
func TestFromCapacity(t *testing.T) {
	c := &report.Capacity{RunID: "cap1", Profile: "capacity", Start: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), Elapsed: 120, Found: true,
		SustainableRate: 300, Bound: report.BoundTarget, Steps: make([]report.CapacityStep, 6)}
	var runs []*Run
	for i, rate := range []float64{300, 305, 295, 300, 250} {
		c.SustainableRate = rate
		r := FromCapacity(c, "test", 0, "capacity.json")
		r.Seq = int64(i + 1)
		runs = append(runs, r)
	}
	v := Judge(runs, 4, CheckOptions{})
	if j := judgmentOf(t, v, "sustainable_rate"); j.Flag != FlagRegression || j.Target != CapacityTarget {
		t.Errorf("rate 300 → 250: %s", j)
	}
	if runs[0].RunID != "cap1" {
		t.Errorf("run id %q, want the search's, cap1", runs[0].RunID)
	}
	c.Bound = report.BoundGenerator
	if r := FromCapacity(c, "test", 4, ""); r.ChecksOK {
		t.Error("a generator-bound search is valid")
	}
	// A search that found no rate is judged at rate 0: a regression, not a run without metrics.
	c.Bound, c.Found = report.BoundTarget, false
	none := FromCapacity(c, "test", 1, "")
	none.Seq = 5
	v = Judge(append(runs[:4:4], none), 4, CheckOptions{})
	if j := judgmentOf(t, v, "sustainable_rate"); j.Flag != FlagRegression || j.Value != 0 {
		t.Errorf("no rate found: %s", j)
	}
	// A search its caps ended before it converged is partial: neither judged nor a baseline.
	c.Bound = report.BoundBudget
	cut := FromCapacity(c, "test", 1, "")
	if ok, why := cut.Judged(); ok || cut.EndReason != EndPartial || !strings.Contains(why, "did not converge") {
		t.Errorf("a search cut by its caps: end %q, judged %v (%s)", cut.EndReason, ok, why)
	}
	c.Bound, c.Interrupted = report.BoundTarget, true
	if r := FromCapacity(c, "test", 130, ""); r.EndReason != string(report.EndInterrupted) {
		t.Errorf("interrupted search: %+v", r)
	}
}

// TestPathFor: --history, else $LPBENCH_HISTORY, else outputs.history.
func TestPathFor(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := PathFor("", false, getenv, "p.db"); got != "p.db" {
		t.Errorf("profile only: %q", got)
	}
	env["LPBENCH_HISTORY"] = "env.db"
	if got := PathFor("", false, getenv, "p.db"); got != "env.db" {
		t.Errorf("env over profile: %q", got)
	}
	if got := PathFor("flag.db", true, getenv, "p.db"); got != "flag.db" {
		t.Errorf("flag over env: %q", got)
	}
	if got := PathFor("", true, getenv, "p.db"); got != "" {
		t.Errorf("--history '' turns it off: %q", got)
	}
}
