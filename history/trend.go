package history

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lpbench/lpbench/report"
)

// BuildTrend returns the trend of the last n runs of runs (comparable runs, oldest first), each
// judged against its own baseline as Judge does: every metric per target with its values, bands
// and flags.
func BuildTrend(runs []*Run, n int, o CheckOptions, f Filter) *report.Trend {
	first := max(0, len(runs)-n)
	t := &report.Trend{Title: "lpbench history trend"}
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
		strings.TrimPrefix(report.FormatRel(o.withDefaults().MinEffect), "+"))
	if s := f.String(); s != "" {
		t.Subtitle += "; filter: " + s
	}
	verdicts := make([]Verdict, len(runs))
	for i := first; i < len(runs); i++ {
		verdicts[i] = Judge(runs, i, o)
		ok, _ := runs[i].Judged()
		t.Runs = append(t.Runs, report.TrendRun{Seq: runs[i].Seq, RunID: runs[i].RunID, Start: runs[i].Start, Excluded: !ok})
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
				t.Charts = append(t.Charts, report.TrendChart{Target: m.Target, Metric: m.Name, Kind: m.Kind, Points: make([]report.TrendPoint, len(runs)-first)})
			}
			t.Charts[c].Points[i-first] = report.TrendPoint{Value: m.Value, OK: true}
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

// WriteTrendText writes the trend as text: per target, a table of each metric (rows) by run
// (columns), a flagged value marked "!" (regression) or "*" (improvement), and the band the
// newest run was judged against.
func WriteTrendText(w io.Writer, t *report.Trend) error {
	fmt.Fprintf(w, "%s\n%s\n", t.Title, t.Subtitle)
	if len(t.Runs) == 0 {
		return nil
	}
	target := ""
	var tw *tabwriter.Writer
	flush := func() {
		if tw != nil {
			tw.Flush()
		}
	}
	for _, c := range t.Charts {
		if c.Target != target {
			flush()
			target = c.Target
			fmt.Fprintf(w, "\ntarget %s\n", target)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			head := []string{"metric"}
			for _, r := range t.Runs {
				head = append(head, "#"+strconv.FormatInt(r.Seq, 10))
			}
			fmt.Fprintln(tw, strings.Join(append(head, "band of the newest"), "\t")+"\t")
		}
		row := []string{c.Metric}
		for _, p := range c.Points {
			row = append(row, trendCell(c.Kind, p))
		}
		band := "-"
		if p := c.Points[len(c.Points)-1]; p.Band {
			band = report.FormatValue(c.Kind, p.Lo) + " – " + report.FormatValue(c.Kind, p.Hi)
		}
		fmt.Fprintln(tw, strings.Join(append(row, band), "\t")+"\t")
	}
	flush()
	var excluded []string
	for _, r := range t.Runs {
		if r.Excluded {
			excluded = append(excluded, "#"+strconv.FormatInt(r.Seq, 10))
		}
	}
	fmt.Fprintln(w, "\n! regression, * improvement (outside the baseline band and by the minimum effect); - not measured (-! missing, which its baseline had)")
	if len(excluded) > 0 {
		fmt.Fprintf(w, "excluded (measurement checks failed or incomplete: in no baseline, never judged): %s\n", strings.Join(excluded, " "))
	}
	return nil
}

func trendCell(k report.ValueKind, p report.TrendPoint) string {
	if !p.OK {
		if p.Flag == report.FlagRegression { // missing, which its baseline had
			return "-!"
		}
		return "-"
	}
	s := report.FormatValue(k, p.Value)
	switch p.Flag {
	case report.FlagRegression:
		s += "!"
	case report.FlagImprovement:
		s += "*"
	}
	return s
}
