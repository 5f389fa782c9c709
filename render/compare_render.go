package render

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/lpbench/lpbench/compare"
	"github.com/lpbench/lpbench/report"
)

// compareRow is a Change rendered for a table.
type compareRow struct {
	Metric, Base, New, Abs, Rel, Interval string
	Direction                             compare.Direction
	Class                                 string // for HTML: worse, better, same, nodata
}

// compareTable is what both renderings of a comparison show.
type compareTable struct {
	Base, New string // the runs' names
	Rows      []compareRow
	Level     string // the header of the interval column, e.g. "95% CI"
	Notes     []string
	Counts    string
}

// newCompareTable renders cs.
func newCompareTable(baseName, newName string, cs []compare.Change) compareTable {
	t := compareTable{Base: baseName, New: newName, Level: "CI"}
	k := 0
	tally := map[compare.Direction]int{}
	var conf, minEffect float64
	for _, c := range cs {
		tally[c.Direction]++
		if c.Direction != compare.DirectionNoData {
			k++
			conf, minEffect = c.Confidence, c.MinEffect
		}
	}
	for _, c := range cs {
		r := compareRow{Metric: c.Metric, Base: "-", New: "-", Abs: "-", Rel: "-", Interval: "-", Direction: c.Direction}
		if c.BaseN > 0 {
			r.Base = report.FormatValue(c.Kind, c.Base)
		}
		if c.NewN > 0 {
			r.New = report.FormatValue(c.Kind, c.New)
		}
		if c.Direction != compare.DirectionNoData {
			r.Abs, r.Rel = fmtSigned(c.Kind, c.Abs), report.FormatRel(c.Rel)
			r.Interval = "[" + fmtSigned(c.Kind, c.Low) + ", " + fmtSigned(c.Kind, c.High) + "]"
			if c.BaseBlock == 0 || c.NewBlock == 0 {
				r.Interval += "*"
			}
		}
		switch c.Direction {
		case compare.DirectionWorse:
			r.Class = "worse"
		case compare.DirectionBetter:
			r.Class = "better"
		case compare.DirectionNone:
			r.Class = "same"
		default:
			r.Class = "nodata"
		}
		t.Rows = append(t.Rows, r)
	}
	t.Counts = fmt.Sprintf("%d worse, %d better, %d no significant change, %d no data",
		tally[compare.DirectionWorse], tally[compare.DirectionBetter], tally[compare.DirectionNone], tally[compare.DirectionNoData])
	if k > 0 {
		t.Level = report.TrimFloat(100*conf) + "% CI"
		each := 100 * (1 - (1-conf)/float64(k))
		t.Notes = []string{
			"Lower is better for every metric. Durations are percentiles of each run's histogram; window.missed " +
				"is the share of judged journeys that missed the window, errors the share of ended journeys that failed.",
			fmt.Sprintf("%s: interval of new − base. The %d intervals hold together with %s%% confidence (each is at "+
				"%s%%, Bonferroni). %s", t.Level, k, report.TrimFloat(100*conf), report.TrimFloat(each), unitNote(cs)),
			fmt.Sprintf("Better or worse: the interval excludes 0 and the change is at least %s%% of base; "+
				"otherwise no significant change.", report.TrimFloat(100*minEffect)),
		}
		if n := singleValued(cs); n > 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("*: %d of the intervals treat a run's requests as independent (its result has no "+
				"per-second data of the metric, being older, or fewer than %d seconds of it): too narrow when they are correlated.", n, compare.MinBlocks))
		}
	}
	return t
}

// unitNote says what the intervals resampled: whole seconds in blocks (with the range of the
// block lengths), or single values.
func unitNote(cs []compare.Change) string {
	lo, hi := 0, 0
	for _, c := range cs {
		for _, l := range []int{c.BaseBlock, c.NewBlock} {
			if c.Direction != compare.DirectionNoData && l > 0 {
				if lo == 0 || l < lo {
					lo = l
				}
				hi = max(hi, l)
			}
		}
	}
	if hi == 0 {
		return "Percentiles by bootstrap of single values from the histograms, shares by Newcombe's score interval."
	}
	span := fmt.Sprintf("%d s", lo)
	if hi > lo {
		span = fmt.Sprintf("%d–%d s", lo, hi)
	}
	return "The unit is the run's second: requests within a second and in neighbouring seconds are correlated. " +
		"Percentiles by block bootstrap, each run's per-second histograms resampled in blocks of consecutive seconds (" + span +
		", Politis and White's length); shares by Newcombe's score interval on counts deflated by the same blocks' design effect."
}

// singleValued counts the changes with data whose interval resampled a run's single values.
func singleValued(cs []compare.Change) int {
	n := 0
	for _, c := range cs {
		if c.Direction != compare.DirectionNoData && (c.BaseBlock == 0 || c.NewBlock == 0) {
			n++
		}
	}
	return n
}

// writeCompareText renders cs as an aligned table — metric, base, new, change (absolute and
// relative), the interval of the difference, verdict — under a line naming the runs, followed by
// the tally of verdicts and notes on the method. Durations read like the summary's (912ms),
// shares as percentages, their changes in percentage points (pp); a relative change from 0 reads
// "n/a", and a row without data "-".
func writeCompareText(w io.Writer, baseName, newName string, cs []compare.Change) error {
	t := newCompareTable(baseName, newName, cs)
	var b strings.Builder
	fmt.Fprintf(&b, "lpbench compare: base %s, new %s\n\n", t.Base, t.New)
	width := len("metric")
	for _, r := range t.Rows {
		width = max(width, len(r.Metric))
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Names are padded so that the right-aligning tabwriter leaves them aligned left; the verdict
	// follows the last tab, so it is left-aligned too.
	fmt.Fprintf(tw, "%-*s\tbase\tnew\tchange\t%%\t%s\t  verdict\n", width, "metric", t.Level)
	for _, r := range t.Rows {
		fmt.Fprintf(tw, "%-*s\t%s\t%s\t%s\t%s\t%s\t  %s\n", width, r.Metric, r.Base, r.New, r.Abs, r.Rel, r.Interval, r.Direction)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n%s\n", t.Counts)
	for _, n := range t.Notes {
		wrapText(&b, n, 100)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// compareHTML is a page that needs nothing from outside: inline style, no script.
var compareHTML = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>lpbench compare: {{.Base}} → {{.New}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25em 0.75em; border-bottom: 1px solid #ddd; }
th { text-align: right; background: #f4f4f4; }
td { text-align: right; white-space: nowrap; }
th:first-child, td:first-child, th:last-child, td:last-child { text-align: left; }
tr.worse { background: #fde2e1; }
tr.worse td:last-child { color: #a40e0e; font-weight: bold; }
tr.better { background: #e3f6e3; }
tr.better td:last-child { color: #176117; }
tr.nodata { color: #888; }
p.counts { font-weight: bold; }
p.note { color: #555; max-width: 60em; }
</style>
</head>
<body>
<h1>lpbench compare</h1>
<p>base <code>{{.Base}}</code>, new <code>{{.New}}</code></p>
<table>
<thead><tr><th>metric</th><th>base</th><th>new</th><th>change</th><th>%</th><th>{{.Level}}</th><th>verdict</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr class="{{.Class}}"><td>{{.Metric}}</td><td>{{.Base}}</td><td>{{.New}}</td><td>{{.Abs}}</td><td>{{.Rel}}</td><td>{{.Interval}}</td><td>{{.Direction}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="counts">{{.Counts}}</p>
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
</body>
</html>
`))

// writeCompareHTML renders cs as a self-contained HTML page — inline style, no script, nothing
// fetched (its Content-Security-Policy forbids it) — with the table and notes of
// writeCompareText; rows that got worse are marked (class "worse", red), better ones green. The
// page is rendered into memory first, so a failure leaves w untouched.
func writeCompareHTML(w io.Writer, baseName, newName string, cs []compare.Change) error {
	var b bytes.Buffer
	if err := compareHTML.Execute(&b, newCompareTable(baseName, newName, cs)); err != nil {
		return fmt.Errorf("compare html: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}
