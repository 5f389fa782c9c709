package history

import (
	"fmt"
)

// BuildTrend returns the trend of the last n runs of runs (comparable runs, oldest first), each
// judged against its own baseline as Judge does: every metric per target with its values, bands
// and flags.
func BuildTrend(runs []*Run, n int, o CheckOptions, f Filter) *Trend {
	first := max(0, len(runs)-n)
	t := &Trend{Title: "lpbench history trend"}
	if len(runs) == 0 {
		t.Subtitle = "no run matches"
		if s := f.String(); s != "" {
			t.Subtitle += " the filter " + s
		}
		return t
	}
	last := runs[len(runs)-1]
	t.Title += ": " + last.Profile
	t.Subtitle = fmt.Sprintf("%d runs (#%d … #%d) of %s %s, labels %s; each judged against up to %d previous valid runs, minimum effect %s",
		len(runs)-first, runs[first].Seq, last.Seq, last.Kind, last.Profile, FormatLabels(last.Labels), o.withDefaults().Baseline,
		o.MinEffectString())
	if s := f.String(); s != "" {
		t.Subtitle += "; filter: " + s
	}
	verdicts := make([]RunJudgment, len(runs))
	for i := first; i < len(runs); i++ {
		verdicts[i] = Judge(runs, i, o)
		ok, _ := runs[i].Judged()
		t.Runs = append(t.Runs, TrendRun{Seq: runs[i].Seq, RunID: runs[i].RunID, Start: runs[i].Start, Excluded: !ok})
	}
	type key struct{ target, metric string }
	index := map[key]int{}
	for i := first; i < len(runs); i++ {
		for _, m := range runs[i].Metrics {
			k := key{m.Target, m.Name}
			c, ok := index[k]
			if !ok {
				c = len(t.Charts)
				index[k] = c
				t.Charts = append(t.Charts, TrendChart{Target: m.Target, Metric: m.Name, Kind: m.Kind, Points: make([]TrendPoint, len(runs)-first)})
			}
			t.Charts[c].Points[i-first] = TrendPoint{Value: m.Value, OK: true}
		}
		for _, j := range verdicts[i].Judgments {
			c, ok := index[key{j.Target, j.Metric}]
			if !ok { // missing in every run drawn: its check says so
				continue
			}
			p := &t.Charts[c].Points[i-first]
			if p.Flag = j.Flag; !j.Missing {
				p.Band, p.Lo, p.Hi = true, j.Lo, j.Hi
			}
		}
	}
	return t
}
