package profiles

import (
	"strings"
	"testing"
)

// supportProfile: a, b and c share 30/s for 20 s (600 arrivals) by weights 2, 1 and 0; d has
// 10/s for 15 s of its own (150).
const supportProfile = `
targets:
  - {name: a, weight: 2}
  - {name: b}
  - {name: c, weight: 0}
  - name: d
    load: {stages: [{duration: 15s, rate: 10}]}
load:
  stages: [{duration: 20s, rate: 30}]
`

// TestPlannedJourneys: the shared load is dealt by weight, a target's own load is its own, and
// the shards of a run together plan the whole run's journeys for each target.
func TestPlannedJourneys(t *testing.T) {
	t.Parallel()
	p, err := Parse("p.yaml", []byte(supportProfile))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"a": 400, "b": 200, "c": 0, "d": 150}
	got := p.PlannedJourneys(0, 1)
	for name, n := range want {
		if got[name] != n {
			t.Errorf("target %s: %d journeys planned, want %d", name, got[name], n)
		}
	}
	sum := map[string]int64{}
	for k := range 3 {
		for name, n := range p.PlannedJourneys(k, 3) {
			sum[name] += n
		}
	}
	for name, n := range want {
		if sum[name] != n {
			t.Errorf("target %s: 3 shards plan %d journeys in all, want %d", name, sum[name], n)
		}
	}
}

// TestSupportWarnings: a thresholded percentile whose target's plan is short of what
// percentile_support needs is warned of with the numbers; one within 10 % of it too, as a
// margin; one with enough, a threshold on no percentile and the whole run's own (every target's
// journeys) are not.
func TestSupportWarnings(t *testing.T) {
	t.Parallel()
	thresholds := `thresholds:
  - {expr: "step.create.p95 < 1s", target: d}    # 150 of 200: short
  - {expr: "gap.p95 < 1s", target: a}            # 400 of 200
  - {expr: "journey.p90 < 1s", target: b}        # 200 of 100
  - {expr: "gap.p99 < 1s", target: a}            # 400 of 1000: short
  - {expr: "gap.p99 < 1s"}                       # 750 of 1000: short
  - {expr: "journey.p95 < 1s", target: b}        # 200 of 200: within the margin
  - {expr: "gap.max < 1s", target: d}            # not a percentile
  - {expr: "errors < 1%", target: c}             # not a percentile
`
	p, err := Parse("p.yaml", []byte(supportProfile+thresholds))
	if err != nil {
		t.Fatal(err)
	}
	ws := p.SupportWarnings(0, 1)
	want := []struct {
		index          int
		short          bool
		planned, needs int64
		text           string
	}{
		{0, true, 150, 200, "thresholds[0]: target d: step.create.p95 needs 200 samples (10 above the percentile), the plan gives it 150 journeys; percentile_support will fail"},
		{3, true, 400, 1000, "thresholds[3]: target a: gap.p99 needs 1000 samples"},
		{4, true, 750, 1000, "thresholds[4]: the run: gap.p99 needs 1000 samples (10 above the percentile), the plan gives it 750 journeys"},
		{5, false, 200, 200, "a few journeys lost and percentile_support fails"},
	}
	if len(ws) != len(want) {
		t.Fatalf("%d warnings, want %d: %v", len(ws), len(want), ws)
	}
	for i, w := range want {
		got := ws[i]
		if got.Index != w.index || got.Short != w.short || got.Planned != w.planned || got.Needs != w.needs {
			t.Errorf("warning %d: %+v, want index %d short %v planned %d needs %d", i, got, w.index, w.short, w.planned, w.needs)
		}
		if !strings.Contains(got.String(), w.text) {
			t.Errorf("warning %d: %q lacks %q", i, got, w.text)
		}
	}
	// Sharded over 2, each shard plans half of each target's journeys: more warnings, shard by shard.
	if n := len(p.SupportWarnings(1, 2)); n <= len(ws) {
		t.Errorf("shard 1 of 2: %d warnings, want more than the whole run's %d", n, len(ws))
	}
}

// TestShippedProfilesSupported: every shipped profile plans, as shipped, enough journeys for each
// percentile it thresholds.
func TestShippedProfilesSupported(t *testing.T) {
	t.Parallel()
	for _, in := range List() {
		p, err := Builtin(in.Name)
		if err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
		for _, w := range p.SupportWarnings(0, 1) {
			t.Errorf("%s: %s", in.Name, w)
		}
	}
}
