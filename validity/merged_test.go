package validity

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
)

// testProfile is the smoke profile at a constant rate for d.
func testProfile(rate float64, d time.Duration) profiles.Profile {
	p, err := profiles.Builtin("smoke")
	if err != nil {
		panic(err)
	}
	p.Load.Stages = []profiles.Stage{{Duration: d, Rate: profiles.Rate{From: rate, To: rate}}}
	return p
}

// mergedResult returns a merged result of testProfile(10, 3s) started at t0, whose series has
// the given arrivals in each second.
func mergedResult(t *testing.T, t0 time.Time, perSecond []int64, notStarted int64) *report.Result {
	t.Helper()
	p := testProfile(10, 3*time.Second)
	eff, err := p.Effective()
	if err != nil {
		t.Fatal(err)
	}
	m := report.NewMetrics()
	var started int64
	for i, n := range perSecond {
		m.Series = append(m.Series, report.Point{Unix: t0.Unix() + int64(i), Arrivals: n})
		started += n
	}
	m.Arrivals = report.Arrivals{Planned: 30, Started: started, NotStarted: notStarted}
	return &report.Result{Effective: eff, Start: t0, End: report.EndCompleted, Overall: m,
		Targets: []report.TargetInfo{{Name: p.Targets[0].Name}}, PerTarget: []*report.Metrics{m}}
}

// TestJudgeMergedLoadDelivered: the merge judges the sum of the shards against the whole plan,
// second by wall-clock second: shards that sent it together pass; a shard that joined a second
// late leaves a second short, and load_delivered [all shards] fails, saying so.
func TestJudgeMergedLoadDelivered(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		perSecond  []int64
		notStarted int64
		ok         bool
		inMessage  string
	}{
		// Every second as planned.
		{"together", []int64{10, 10, 10}, 0, true, "the shards together delivered the planned load"},
		// Off by one in a second: within the tolerance of 2.
		{"off by one", []int64{10, 9, 11}, 0, true, "delivered"},
		// One shard of three joined a second late: its arrivals of second 1 were not started.
		{"a shard joined late", []int64{10, 6, 10}, 4, false, "did not send the whole plan together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mergedResult(t, t0, tc.perSecond, tc.notStarted)
			if err := JudgeMerged(m, "shard-0.json"); err != nil {
				t.Fatal(err)
			}
			var got *report.Check
			for i, c := range m.Checks {
				if c.Name == "load_delivered" && c.Target == "all shards" {
					got = &m.Checks[i]
				}
			}
			if got == nil {
				t.Fatalf("no load_delivered [all shards] among %+v", m.Checks)
			}
			if got.OK != tc.ok || !strings.Contains(got.Message, tc.inMessage) {
				t.Errorf("load_delivered ok %v %q (%s), want ok %v and %q", got.OK, got.Message, got.Measured, tc.ok, tc.inMessage)
			}
		})
	}
}
