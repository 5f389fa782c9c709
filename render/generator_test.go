package render

import (
	"strings"
	"testing"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
	"github.com/lpbench/lpbench/sample"
)

// TestSummaryGeneratorLines: the arrivals line tells pool-full drops from a late generator's,
// and a line says how many timeouts/network failures never left the client — both only when
// there are any (the goldens hold the runs without).
func TestSummaryGeneratorLines(t *testing.T) {
	t.Parallel()
	r := reporttest.SummaryResult()
	r.Arrivals.Late = 5 // of the 6 dropped
	m := report.NewMetrics()
	m.StepFailures[sample.Create][sample.ClassTimeout] = 7
	m.StepFailures[sample.ConsumerJWS][sample.ClassNetwork] = 3
	m.Unsent[sample.Create], m.Unsent[sample.ConsumerJWS] = 4, 2
	r.PerTarget, r.Overall = []*report.Metrics{m}, m
	out := summary(t, r)
	for _, want := range []string{
		"arrivals  planned 100 = started 90 + dropped 6 + not started 4 (dropped: pool full 1, generator late 5)\n",
		"6 of the 10 timeouts/network failures happened before the request was sent (client side: connection set-up, pool wait)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	r = reporttest.SummaryResult()
	if out := summary(t, r); strings.Contains(out, "generator late") || strings.Contains(out, "before the request was sent") {
		t.Errorf("summary of a run without late drops or unsent failures mentions them:\n%s", out)
	}
}
