package history_test

import (
	"strings"
	"testing"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/render"
)

// TestTrendMissing: the trend marks a metric missing in a run whose baseline had it "-!", and a
// missing judgment of a metric no run drawn has lands on no chart.
func TestTrendMissing(t *testing.T) {
	runs := history.SeriesForTest(100, 100, 100, 100, 100)
	m, _ := runs[4].Metric("sim", "step.create.p50")
	runs[4].Metrics = []history.Metric{m}
	var b strings.Builder
	if err := render.TrendText(history.BuildTrend(runs, 20, history.CheckOptions{}, history.Filter{}))(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "-!") != 3 || strings.Contains(b.String(), "100ms!") { // served, errors, the legend
		t.Errorf("trend:\n%s", b.String())
	}
	// Only the last run drawn: served and errors are in no run drawn, and nothing is misplaced.
	b.Reset()
	if err := render.TrendText(history.BuildTrend(runs, 1, history.CheckOptions{}, history.Filter{}))(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "-!") != 1 || strings.Contains(b.String(), "served") || !strings.Contains(b.String(), "step.create.p50") {
		t.Errorf("trend of the last run:\n%s", b.String())
	}
}
