package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
)

// writeTrendText writes the trend as text: per target, a table of each metric (rows) by run
// (columns), a flagged value marked "!" (regression) or "*" (improvement), and the band the
// newest run was judged against.
func writeTrendText(w io.Writer, t *history.Trend) error {
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

func trendCell(k report.ValueKind, p history.TrendPoint) string {
	if !p.OK {
		if p.Flag == history.FlagRegression { // missing, which its baseline had
			return "-!"
		}
		return "-"
	}
	s := report.FormatValue(k, p.Value)
	switch p.Flag {
	case history.FlagRegression:
		s += "!"
	case history.FlagImprovement:
		s += "*"
	}
	return s
}
