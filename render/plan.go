package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/profiles"
)

// Plan renders a run's plan (profiles.RunPlan), or a capacity search's when rp.Search is set:
// what --plan prints, and what a live run or search shows before it starts. title is its first
// line's subject, e.g. "plan of profile smoke".
func Plan(title string, rp profiles.RunPlan) Reporter {
	return func(w io.Writer) error {
		var b strings.Builder
		b.WriteString(title + "\n")
		closing := "each closed at the end of its journey"
		if !rp.Close {
			closing = "left OPEN (journey.close is false)"
		}
		if s := rp.Search; s != nil {
			writeSearchPlan(&b, s, closing)
		} else {
			fmt.Fprintf(&b, "  peak %s journeys/s, %s: about %.0f conversations, %s\n",
				planRate(rp.PeakRate), rp.Duration, rp.Conversations, closing)
		}
		for _, t := range rp.Targets {
			writeTargetPlan(&b, t, rp.Search != nil)
		}
		for _, n := range rp.Notes {
			b.WriteString("  " + n + "\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
}

// writeSearchPlan writes a capacity search's worst case.
func writeSearchPlan(b *strings.Builder, s *profiles.SearchPlan, closing string) {
	limit := "no cap (--max)"
	if s.Max > 0 {
		limit = "at most " + planRate(s.Max) + "/s"
	}
	fmt.Fprintf(b, "  steps of %s from %s journeys/s, %s; cool-down %s\n", s.Step, planRate(s.From), limit, s.CoolDown)
	fmt.Fprintf(b, "  worst case: %d steps up to %s journeys/s, about %.0f conversations (cap %.0f), %s; %s\n",
		s.Steps, planRate(s.Peak), s.Conversations, s.MaxConversations, s.Duration.Round(time.Second), closing)
	if len(s.SLO) > 0 {
		fmt.Fprintf(b, "  a step passes when: %s\n", strings.Join(s.SLO, ", "))
	}
}

// writeTargetPlan writes one target's plan; step says the figures are those of one search step
// at its highest rate.
func writeTargetPlan(b *strings.Builder, t profiles.TargetPlan, step bool) {
	fmt.Fprintf(b, "  target %s: account %s, %s (%s)\n", t.Name, t.Account, t.Endpoint, t.Kind)
	row := func(k, v string) { fmt.Fprintf(b, "    %-15s %s\n", k, v) }
	if step {
		row("highest step", fmt.Sprintf("%s journeys/s for %s: about %.0f conversations", planRate(t.PeakRate), t.Duration, t.Conversations))
	} else {
		row("stages", planStages(t.Stages))
		row("peak", fmt.Sprintf("%s journeys/s, %s: about %.0f conversations", planRate(t.PeakRate), t.Duration, t.Conversations))
	}
	limit := "max_request_rate: none"
	if t.MaxRequestRate > 0 {
		limit = "max_request_rate " + planRate(t.MaxRequestRate) + "/s"
		if t.RequestRate > t.MaxRequestRate {
			limit += ": OVER the cap, requests will wait for it"
		}
	}
	row("requests", fmt.Sprintf("%s/s at the peak (%s)", planRate(t.RequestRate), limit))
	for _, r := range t.Requests {
		v := planRate(r.PerSecond) + "/s"
		if r.Cached {
			v = "cached"
		}
		fmt.Fprintf(b, "      %-17s %s (%s)\n", r.Service, v, r.Requests)
	}
	row("routing", t.Routing)
	row("webhook", t.Webhook)
	row("consumer ids", t.ConsumerID)
	th := "none"
	if len(t.Thresholds) > 0 {
		th = strings.Join(t.Thresholds, ", ")
	}
	row("thresholds", th)
}

// planStages writes a schedule: "1m at 0.5 → 2/s, 30s at 2/s".
func planStages(stages []loadgen.Stage) string {
	var out []string
	for _, s := range stages {
		r := planRate(s.From)
		if s.To != s.From {
			r += " → " + planRate(s.To)
		}
		out = append(out, fmt.Sprintf("%s at %s/s", s.Duration, r))
	}
	return strings.Join(out, ", ")
}

// planRate writes a rate with at most three decimals.
func planRate(r float64) string {
	return strconv.FormatFloat(float64(int64(r*1000+0.5))/1000, 'f', -1, 64)
}
