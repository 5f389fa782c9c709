package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
)

// TestCapacitySummaryGolden: the summary of a search, byte for byte.
func TestCapacitySummaryGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeCapacitySummary(&b, reporttest.CapacityFixture()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "capacity_summary.golden", b.String())
}

// TestCapacityHeadline: each outcome in one line.
func TestCapacityHeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*report.Capacity)
		want string
	}{
		// Found: the rate, the interval, the growth at the lowest failing rate, the first failure.
		{"found", func(*report.Capacity) {}, "sustainable: 103.125 journeys/s (between 103.125 and 106.25); limited by the target: at 106.25/s the gap p99 grew 50.0ms/s; first step that failed: 200/s (slo)"},
		// The found rate failed one of its steps on the target: the edge is noisy, and the
		// headline says so. A step the search repeated for its generator checks (even if it
		// failed the SLO too) is no verdict; the retry that failed them alone is none either.
		{"noisy edge", func(c *report.Capacity) {
			c.Steps = append(c.Steps, report.CapacityStep{Rate: 103.125, Phase: "confirm", Failed: []string{report.CriterionGenerator, report.CriterionSLO}},
				report.CapacityStep{Rate: 103.125, Phase: "retry", Failed: []string{report.CriterionGenerator}},
				report.CapacityStep{Rate: 103.125, Phase: "confirm", Failed: []string{report.CriterionSLO}}, report.CapacityStep{Rate: 103.125, Phase: "above", Pass: true})
		}, "sustainable: 103.125 journeys/s (between 103.125 and 106.25); a noisy edge: it passed 3 of 4 steps at that rate; limited by the target: at 106.25/s the gap p99 grew 50.0ms/s; first step that failed: 200/s (slo)"},
		// A cap ended the search before it converged: what is known, and no rate as found.
		{"cut between", func(c *report.Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval = report.BoundBudget, false, 0, [2]float64{100, 150}
		}, "not converged: between 100 and 150 journeys/s, the search ended before it narrowed them; first step that failed: 200/s (slo)"},
		{"cut narrow", func(c *report.Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval = report.BoundBudget, false, 0, [2]float64{103.125, 106.25}
		}, "not converged: between 103.125 and 106.25 journeys/s, the search ended before its confirmation steps; first step that failed: 200/s (slo)"},
		{"cut before any verdict", func(c *report.Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval, c.Steps = report.BoundBudget, false, 0, [2]float64{0, 0}, nil
		}, "not converged: no step was judged"},
		{"cut rising", func(c *report.Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval, c.Steps = report.BoundBudget, false, 0, [2]float64{100, 0}, nil
		}, "not converged: at least 100 journeys/s, the search ended before a step failed"},
		// Generator-bound: no capacity figure.
		{"generator", func(c *report.Capacity) {
			c.Bound, c.Found, c.SustainableRate, c.Interval, c.Steps = report.BoundGenerator, false, 0, [2]float64{800, 1600}, nil
		}, "generator-bound at 1600/s: no capacity figure (the target sustained 800/s, the highest rate the generator delivered)"},
		// Every step passed up to the cap.
		{"max", func(c *report.Capacity) {
			c.Bound, c.Interval, c.Steps = report.BoundMax, [2]float64{300, 0}, nil
		}, "sustainable: at least 300 journeys/s: every step passed up to the --max cap"},
		// Nothing passed.
		{"none", func(c *report.Capacity) {
			c.Found, c.SustainableRate, c.Interval, c.Steps = false, 0, [2]float64{0, 10}, nil
		}, "no sustainable rate: the SLO fails even at 10/s, the lowest rate tried"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := reporttest.CapacityFixture()
			tc.edit(c)
			if got := CapacityHeadline(c); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestCapacityHTML: the page has its three charts, each with a mark per passed and failed step
// and the SLO line, and nothing that fetches.
func TestCapacityHTML(t *testing.T) {
	t.Parallel()
	page := renderCapacityHTML(t, reporttest.CapacityFixture())
	for _, want := range []string{`data-chart="served"`, `data-chart="gap-p99"`, `data-chart="create-p99"`, `data-series="pass"`, `data-series="fail"`,
		`SLO: automsg.missing &lt; 0.1%`, `href="step-01/report.html"`, "<title>Capacity search: profile ", "default-src &#39;none&#39;", "sustainable: 103.125 journeys/s"} {
		if !strings.Contains(page, want) && !strings.Contains(page, strings.ReplaceAll(want, "&#39;", "'")) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("page has a script")
	}
	if strings.Contains(page, `class="banner"`) {
		t.Error("a converged search has a banner")
	}
	cut := reporttest.CapacityFixture()
	cut.Bound, cut.Found, cut.SustainableRate = report.BoundBudget, false, 0
	if page := renderCapacityHTML(t, cut); !strings.Contains(page, `role="alert">Not converged: a cap`) || !strings.Contains(page, "not converged: between") {
		t.Error("the page of a search a cap ended lacks its banner or headline")
	}
}

func renderCapacityHTML(t *testing.T, c *report.Capacity) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeCapacityHTML(&b, c); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
