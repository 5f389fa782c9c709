package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lpbench/lpbench/report"
)

// rate renders a rate in journeys/s.
func rate(r float64) string { return report.TrimFloat(r) }

// CapacityHeadline is the search's outcome in one line: "sustainable: R journeys/s (between L
// and H); limited by the target: …".
func CapacityHeadline(c *report.Capacity) string {
	lo, hi := c.Interval[0], c.Interval[1]
	var b strings.Builder
	switch {
	case c.Bound == report.BoundGenerator:
		fmt.Fprintf(&b, "generator-bound at %s/s: no capacity figure", rate(hi))
		if lo > 0 {
			fmt.Fprintf(&b, " (the target sustained %s/s, the highest rate the generator delivered)", rate(lo))
		}
	case c.Found && c.Bound == report.BoundRateLimit:
		fmt.Fprintf(&b, "rate-limited: %s (between %s and %s)", c.QuotaLine(), rate(lo), rate(hi))
	case c.Found && c.Bound == report.BoundMax:
		fmt.Fprintf(&b, "sustainable: at least %s journeys/s: every step passed up to the --max cap", rate(lo))
	case c.Found:
		fmt.Fprintf(&b, "sustainable: %s journeys/s (between %s and %s)", rate(c.SustainableRate), rate(lo), rate(hi))
		if passed, judged := c.VerdictsAt(c.SustainableRate); passed < judged {
			fmt.Fprintf(&b, "; a noisy edge: it passed %d of %d steps at that rate", passed, judged)
		}
		if st := c.FailedAt(hi); st != nil {
			fmt.Fprintf(&b, "; limited by the target: at %s/s the gap p99 grew %s/s", rate(hi), report.FormatDuration(time.Duration(st.GapGrowth*float64(time.Second))))
		}
	case c.Bound == report.BoundBudget:
		b.WriteString("not converged: ")
		switch {
		case lo > 0 && hi > 0 && (hi-lo)/lo <= c.Resolution:
			fmt.Fprintf(&b, "between %s and %s journeys/s, the search ended before its confirmation steps", rate(lo), rate(hi))
		case lo > 0 && hi > 0:
			fmt.Fprintf(&b, "between %s and %s journeys/s, the search ended before it narrowed them", rate(lo), rate(hi))
		case lo > 0:
			fmt.Fprintf(&b, "at least %s journeys/s, the search ended before a step failed", rate(lo))
		case hi > 0:
			fmt.Fprintf(&b, "below %s journeys/s, the search ended before a step passed", rate(hi))
		default:
			b.WriteString("no step was judged")
		}
	case c.Interrupted:
		fmt.Fprintf(&b, "interrupted before a rate was found")
	default:
		fmt.Fprintf(&b, "no sustainable rate: the SLO fails even at %s/s, the lowest rate tried", rate(hi))
	}
	if st := c.FirstFailure(); st != nil {
		fmt.Fprintf(&b, "; first step that failed: %s/s (%s)", rate(st.Rate), strings.Join(st.Failed, ", "))
	}
	return b.String()
}

// writeCapacitySummary writes the search as text: the headline, what it means, and a line per
// step.
func writeCapacitySummary(w io.Writer, c *report.Capacity) error {
	var b strings.Builder
	fmt.Fprintf(&b, "capacity search of profile %s: %d steps in %s; SLO: %s\n", c.Profile, len(c.Steps),
		report.FormatDuration(time.Duration(c.Elapsed*float64(time.Second))), strings.Join(c.SLO, ", "))
	if c.Interrupted {
		b.WriteString("interrupted: what is known so far\n")
	}
	b.WriteString(CapacityHeadline(c) + "\n")
	if c.Message != "" {
		wrapText(&b, c.Message, 100)
	}
	b.WriteString("\n step  phase    rate/s   verdict  served   gap p99   create p99  gap p99 growth\n")
	for i, st := range c.Steps {
		verdict := "pass"
		if !st.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, " %4d  %-7s  %7s  %-7s  %-7s  %-8s  %-10s  %s/s\n", i+1, st.Phase, rate(st.Rate), verdict,
			shareOf(st.Served, st.Ended), secs(st.GapP99), secs(st.CreateP99), report.FormatDuration(time.Duration(st.GapGrowth*float64(time.Second))))
		for _, why := range st.Why {
			fmt.Fprintf(&b, "        %s\n", why)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shareOf(f float64, of int64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*f)
}

func secs(s float64) string { return report.FormatDuration(time.Duration(s * float64(time.Second))) }
