package render

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/lpbench/lpbench/compare"
	"github.com/lpbench/lpbench/report"
)

// compareRow is a Change rendered for a table.
type compareRow struct {
	Metric, Base, New, Abs, Rel, Interval string
	Direction                             string
	Class                                 string // for HTML: worse, better, same, nodata, notjudged
}

// compareTable is what every rendering of one pair of a comparison shows.
type compareTable struct {
	Base, New string // the runs' (or targets') names
	Rows      []compareRow
	// Generator are the generator's own metrics (lag): shown apart, never judged.
	Generator []compareRow
	Level     string // the header of the interval column, e.g. "95% CI"
	Notes     []string
	Counts    string
}

// comparePage is a whole comparison: its one-line verdict, then each pair.
type comparePage struct {
	Verdict string
	Pairs   []compareTable
	Notes   []string // the method, once for the page
}

// newComparePage renders pairs (one, for two runs).
func newComparePage(pairs []compare.Pair) comparePage {
	p := comparePage{Verdict: compareVerdict(pairs)}
	for _, pr := range pairs {
		t := newCompareTable(pr.Base, pr.New, pr.Changes)
		if len(p.Notes) == 0 && len(t.Notes) > 0 {
			p.Notes = t.Notes
			if len(pairs) > 1 {
				p.Notes = append(p.Notes, fmt.Sprintf("Each of the %d pairs is at the level above, so that the intervals of all of them hold together "+
					"with %s%% confidence (Bonferroni over the pairs).", len(pairs), report.TrimFloat(100*pr.Confidence)))
			}
		}
		p.Pairs = append(p.Pairs, t)
	}
	return p
}

// compareRowOf renders one change.
func compareRowOf(c compare.Change) compareRow {
	r := compareRow{Metric: c.Metric, Base: "-", New: "-", Abs: "-", Rel: "-", Interval: "-", Direction: string(c.Direction)}
	if c.BaseN > 0 {
		r.Base = report.FormatValue(c.Kind, c.Base)
	}
	if c.NewN > 0 {
		r.New = report.FormatValue(c.Kind, c.New)
	}
	if c.Direction != compare.DirectionNoData && c.Judged() {
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
	case compare.DirectionNotJudged:
		r.Class = "notjudged"
	default:
		r.Class = "nodata"
	}
	if c.NotJudged == compare.NotJudgedCached {
		r.Metric += " (cached)"
		if c.Direction == compare.DirectionNotJudged {
			r.Direction = "not judged: mostly cache hits"
		}
	}
	return r
}

// newCompareTable renders one pair's changes.
func newCompareTable(baseName, newName string, cs []compare.Change) compareTable {
	t := compareTable{Base: baseName, New: newName, Level: "CI"}
	k := 0
	tally := map[compare.Direction]int{}
	var conf, minEffect float64
	for _, c := range cs {
		if c.NotJudged == compare.NotJudgedGenerator {
			t.Generator = append(t.Generator, compareRowOf(c))
			continue
		}
		tally[c.Direction]++
		if c.Direction != compare.DirectionNoData && c.Judged() {
			k++
			conf, minEffect = c.Confidence, c.MinEffect
		}
		t.Rows = append(t.Rows, compareRowOf(c))
	}
	t.Counts = fmt.Sprintf("%d worse, %d better, %d no significant change, %d no data",
		tally[compare.DirectionWorse], tally[compare.DirectionBetter], tally[compare.DirectionNone], tally[compare.DirectionNoData])
	if n := tally[compare.DirectionNotJudged]; n > 0 {
		t.Counts += fmt.Sprintf(", %d not judged (cached)", n)
	}
	if k > 0 {
		t.Level = report.TrimFloat(100*conf) + "% CI"
		each := 100 * (1 - (1-conf)/float64(k))
		t.Notes = []string{
			"Lower is better for every metric but served. Durations are percentiles of each run's histogram; served " +
				"is the share of consumers that waited for an auto message whose first one came (judged on the unserved share); " +
				"window.not_in the share of judged journeys whose first SEND was not certainly in the window, window.missed " +
				"those that missed it; errors the share of ended journeys that failed. Share changes are in percentage points (pp).",
			fmt.Sprintf("%s: interval of new − base. The %d intervals hold together with %s%% confidence (each is at "+
				"%s%%, Bonferroni). %s", t.Level, k, report.TrimFloat(100*conf), report.TrimFloat(each), unitNote(cs)),
			fmt.Sprintf("Better or worse: the interval excludes 0 and the change is at least %s%% of base; "+
				"otherwise no significant change.", report.TrimFloat(100*minEffect)),
		}
		if tally[compare.DirectionNotJudged] > 0 {
			t.Notes = append(t.Notes, "(cached): a step served mostly from the target's shared cache (the domain lookup, the AppJWT) "+
				"in either run: its percentiles are a cache's nanoseconds and the odd refresh, so it is shown and never judged.")
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
			if c.Direction != compare.DirectionNoData && c.Judged() && l > 0 {
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
		if c.Direction != compare.DirectionNoData && c.Judged() && (c.BaseBlock == 0 || c.NewBlock == 0) {
			n++
		}
	}
	return n
}

// generatorNote heads the generator's metrics of a pair.
const generatorNote = "generator (lag: the generator's own lateness in starting journeys, not the target's; never judged)"

// writeCompareText renders one pair: see writeCompare.
func writeCompareText(w io.Writer, baseName, newName string, cs []compare.Change) error {
	return writeCompare(w, []compare.Pair{{Base: baseName, New: newName, Changes: cs, Confidence: confidenceOf(cs)}})
}

// confidenceOf returns the confidence the changes were judged with (0.95 when none was).
func confidenceOf(cs []compare.Change) float64 {
	for _, c := range cs {
		if c.Confidence > 0 {
			return c.Confidence
		}
	}
	return 0.95
}

// writeCompare renders a comparison as text: its one-line verdict first, then per pair a line
// naming the runs and an aligned table — metric, base, new, change (absolute and relative), the
// interval of the difference, verdict — with the tally of verdicts and the generator's own
// metrics apart, then notes on the method. Durations read like the summary's (912ms), shares
// as percentages, their changes in percentage points (pp); a relative change from 0 reads
// "n/a", and a row without data "-".
func writeCompare(w io.Writer, pairs []compare.Pair) error {
	p := newComparePage(pairs)
	var b strings.Builder
	b.WriteString(p.Verdict + "\n")
	for _, t := range p.Pairs {
		fmt.Fprintf(&b, "\nlpbench compare: base %s, new %s\n\n", t.Base, t.New)
		writeCompareRows(&b, t.Rows, t.Level)
		fmt.Fprintf(&b, "\n%s\n", t.Counts)
		if len(t.Generator) > 0 {
			fmt.Fprintf(&b, "\n%s\n", generatorNote)
			tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "%-*s\tbase\tnew\t\n", len("metric"), "metric")
			for _, r := range t.Generator {
				fmt.Fprintf(tw, "%-*s\t%s\t%s\t\n", len("metric"), r.Metric, r.Base, r.New)
			}
			tw.Flush()
		}
	}
	if len(p.Notes) > 0 {
		b.WriteString("\n")
	}
	for _, n := range p.Notes {
		wrapText(&b, n, 100)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCompareRows writes rows as an aligned table under its header.
func writeCompareRows(b *strings.Builder, rows []compareRow, level string) {
	width := len("metric")
	for _, r := range rows {
		width = max(width, len(r.Metric))
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Names are padded so that the right-aligning tabwriter leaves them aligned left; the verdict
	// follows the last tab, so it is left-aligned too.
	fmt.Fprintf(tw, "%-*s\tbase\tnew\tchange\t%%\t%s\t  verdict\n", width, "metric", level)
	for _, r := range rows {
		fmt.Fprintf(tw, "%-*s\t%s\t%s\t%s\t%s\t%s\t  %s\n", width, r.Metric, r.Base, r.New, r.Abs, r.Rel, r.Interval, r.Direction)
	}
	tw.Flush()
}

// compareHTML is a page that needs nothing from outside: inline style, no script.
var compareHTML = template.Must(template.New("compare").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>lpbench compare: {{range $i, $p := .Pairs}}{{if $i}}, {{end}}{{$p.Base}} → {{$p.New}}{{end}}</title>
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
tr.nodata, tr.notjudged { color: #888; }
p.verdict { font-size: 1.15em; font-weight: bold; }
p.counts { font-weight: bold; }
p.note { color: #555; max-width: 60em; }
</style>
</head>
<body>
<h1>lpbench compare</h1>
<p class="verdict">{{.Verdict}}</p>
{{- range .Pairs}}
<h2>base <code>{{.Base}}</code>, new <code>{{.New}}</code></h2>
<table>
<thead><tr><th>metric</th><th>base</th><th>new</th><th>change</th><th>%</th><th>{{.Level}}</th><th>verdict</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr class="{{.Class}}"><td>{{.Metric}}</td><td>{{.Base}}</td><td>{{.New}}</td><td>{{.Abs}}</td><td>{{.Rel}}</td><td>{{.Interval}}</td><td>{{.Direction}}</td></tr>
{{- end}}
</tbody>
</table>
<p class="counts">{{.Counts}}</p>
{{- if .Generator}}
<p>` + generatorNote + `</p>
<table>
<thead><tr><th>metric</th><th>base</th><th>new</th></tr></thead>
<tbody>
{{- range .Generator}}
<tr class="notjudged"><td>{{.Metric}}</td><td>{{.Base}}</td><td>{{.New}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
{{- end}}
{{- range .Notes}}
<p class="note">{{.}}</p>
{{- end}}
</body>
</html>
`))

// writeCompareHTML renders one pair: see writeCompareHTMLPairs.
func writeCompareHTML(w io.Writer, baseName, newName string, cs []compare.Change) error {
	return writeCompareHTMLPairs(w, []compare.Pair{{Base: baseName, New: newName, Changes: cs, Confidence: confidenceOf(cs)}})
}

// writeCompareHTMLPairs renders a comparison as a self-contained HTML page — inline style, no
// script, nothing fetched (its Content-Security-Policy forbids it) — with the verdict, tables
// and notes of writeCompare; rows that got worse are marked (class "worse", red), better ones
// green, those never judged grey. The page is rendered into memory first, so a failure leaves w
// untouched.
func writeCompareHTMLPairs(w io.Writer, pairs []compare.Pair) error {
	var b bytes.Buffer
	if err := compareHTML.Execute(&b, newComparePage(pairs)); err != nil {
		return fmt.Errorf("compare html: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeCompareMarkdown renders a comparison as GitHub-flavoured markdown (a job summary, a pull
// request comment): the verdict in bold first, then per pair a table, the generator's metrics
// apart, and the notes.
func writeCompareMarkdown(w io.Writer, pairs []compare.Pair) error {
	p := newComparePage(pairs)
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n", mdText(p.Verdict))
	for _, t := range p.Pairs {
		fmt.Fprintf(&b, "\n### lpbench compare: base %s, new %s\n\n", mdCode(t.Base), mdCode(t.New))
		fmt.Fprintf(&b, "| metric | base | new | change | %% | %s | verdict |\n|:--|--:|--:|--:|--:|--:|:--|\n", t.Level)
		for _, r := range t.Rows {
			v := r.Direction
			if r.Class == "worse" || r.Class == "better" {
				v = "**" + v + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdText(r.Metric), r.Base, r.New, r.Abs, r.Rel, mdText(r.Interval), v)
		}
		fmt.Fprintf(&b, "\n%s\n", t.Counts)
		if len(t.Generator) > 0 {
			fmt.Fprintf(&b, "\n%s:\n\n| metric | base | new |\n|:--|--:|--:|\n", generatorNote)
			for _, r := range t.Generator {
				fmt.Fprintf(&b, "| %s | %s | %s |\n", mdText(r.Metric), r.Base, r.New)
			}
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "\n%s\n", mdText(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// compareVerdict answers a comparison in one line: its largest significant change (worse ones
// first), with the interval of the change relative to base, and how many others there are, e.g.
// "sy is slower than va on step.create.p50 by +12.0% [+8.0%, +16.0%]; no other significant change".
// Metrics never judged (cached steps, lag) never count.
func compareVerdict(pairs []compare.Pair) string {
	type hit struct {
		pair compare.Pair
		c    compare.Change
	}
	var hits []hit
	worse, judged := 0, 0
	for _, p := range pairs {
		for _, c := range p.Changes {
			if c.Judged() && c.Direction != compare.DirectionNoData {
				judged++
			}
			if c.Direction == compare.DirectionWorse || c.Direction == compare.DirectionBetter {
				hits = append(hits, hit{p, c})
				if c.Direction == compare.DirectionWorse {
					worse++
				}
			}
		}
	}
	if len(hits) == 0 {
		if judged == 0 {
			return "no verdict: no metric has data on both sides"
		}
		return fmt.Sprintf("no significant change: %s (%d metrics judged)", pairNames(pairs), judged)
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if (a.c.Direction == compare.DirectionWorse) != (b.c.Direction == compare.DirectionWorse) {
			if a.c.Direction == compare.DirectionWorse {
				return -1
			}
			return 1
		}
		return cmp.Compare(effectSize(b.c), effectSize(a.c))
	})
	top := hits[0]
	line := top.pair.New + " is " + changeWords(top.c) + " than " + top.pair.Base + " on " + top.c.Metric + " by " + changeSize(top.c)
	switch rest := len(hits) - 1; {
	case rest == 0:
		line += "; no other significant change"
	default:
		w := worse
		if top.c.Direction == compare.DirectionWorse {
			w--
		}
		line += fmt.Sprintf("; %d other significant change(s): %d worse, %d better", rest, w, rest-w)
	}
	return line
}

// pairNames names the pairs: "lo, sy against va", or "b.json against a.json".
func pairNames(pairs []compare.Pair) string {
	var news []string
	for _, p := range pairs {
		news = append(news, p.New)
	}
	if len(pairs) == 0 {
		return ""
	}
	return strings.Join(news, ", ") + " against " + pairs[0].Base
}

// effectSize orders significant changes: relative for durations, in points for shares.
func effectSize(c compare.Change) float64 {
	if c.Kind == report.KindShare {
		return math.Abs(c.Abs)
	}
	return math.Abs(c.Rel)
}

// changeWords says which way c went: slower or faster for a duration, worse or better else.
func changeWords(c compare.Change) string {
	worse := c.Direction == compare.DirectionWorse
	switch {
	case c.Kind == report.KindDuration && worse:
		return "slower"
	case c.Kind == report.KindDuration:
		return "faster"
	case worse:
		return "worse"
	}
	return "better"
}

// changeSize writes c's change and its interval: relative to base for a duration (+12.0%
// [+8.0%, +16.0%]), in percentage points for a share.
func changeSize(c compare.Change) string {
	if c.Kind == report.KindShare || c.Base == 0 {
		return fmtSigned(c.Kind, c.Abs) + " [" + fmtSigned(c.Kind, c.Low) + ", " + fmtSigned(c.Kind, c.High) + "]"
	}
	return report.FormatRel(c.Rel) + " [" + report.FormatRel(c.Low/c.Base) + ", " + report.FormatRel(c.High/c.Base) + "]"
}
