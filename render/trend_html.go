package render

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
)

// trend.html follows report.html: one self-contained page, inline CSS (report.html's own style
// sheet) and inline SVG, no script, a Content-Security-Policy that refuses any request.

//go:embed trend_html.tmpl
var trendTemplateText string

var trendTemplate = template.Must(template.Must(htmlTemplate.Clone()).Parse(trendTemplateText))

// trendStyle adds to report.html's style sheet the marks of runs in no baseline: hollow grey
// squares, off the line.
const trendStyle template.CSS = `
path.hollow{fill:none;stroke:currentColor;stroke-width:1.6}
.swatch.hollow{width:8px;height:8px;background:none;border:1.6px solid currentColor}
.cx{color:#8c959f}
`

// trendPage is what trend_html.tmpl renders.
type trendPage struct {
	Title, Subtitle string
	Style           template.CSS
	Facts           []htmlFact
	Charts          []svgChart
	Flagged         htmlTable
	Runs            htmlTable
}

// writeTrendHTML renders t as trend.html: a chart per target and metric with each run's value,
// the baseline band it was judged against (shaded), and each flagged change marked (red a
// regression, green an improvement), then the flagged changes and the runs as tables.
func writeTrendHTML(w io.Writer, t *history.Trend) error {
	pg := trendPage{Title: t.Title, Subtitle: t.Subtitle, Style: reportStyle + trendStyle}
	flagged := htmlTable{Caption: "Flagged changes", Head: []string{"run", "target", "metric", "value", "baseline band", "verdict"},
		Empty: "no change flagged"}
	var regressions int
	for _, c := range t.Charts {
		pg.Charts = append(pg.Charts, trendChart(t, c))
		for i, p := range c.Points {
			if p.Flag == "" || i >= len(t.Runs) {
				continue
			}
			if p.Flag == history.FlagRegression {
				regressions++
			}
			cls := "pass"
			if p.Flag == history.FlagRegression {
				cls = "fail"
			}
			value, band := cellNum(report.FormatValue(c.Kind, p.Value)), cellNum(report.FormatValue(c.Kind, p.Lo)+" – "+report.FormatValue(c.Kind, p.Hi))
			if !p.OK { // missing, which its baseline had
				value, band = cellText("missing"), cellText("-")
			}
			flagged.Rows = append(flagged.Rows, []htmlCell{cellText("#" + strconv.FormatInt(t.Runs[i].Seq, 10)), cellText(c.Target),
				cellText(c.Metric), value, band, {Text: p.Flag, Class: cls}})
		}
	}
	pg.Flagged = flagged
	pg.Runs = htmlTable{Caption: "Runs, oldest first", Head: []string{"run", "run id", "start", "measurement"}, Empty: "no run"}
	excluded := 0
	for _, r := range t.Runs {
		m := htmlCell{Text: "valid", Class: "pass"}
		if r.Excluded {
			m, excluded = htmlCell{Text: "checks failed: excluded", Class: "fail"}, excluded+1
		}
		pg.Runs.Rows = append(pg.Runs.Rows, []htmlCell{cellText("#" + strconv.FormatInt(r.Seq, 10)), cellText(r.RunID),
			cellText(r.Start.UTC().Format(time.RFC3339)), m})
	}
	regClass := ""
	if regressions > 0 {
		regClass = "fail"
	}
	pg.Facts = []htmlFact{{Label: "runs", Value: strconv.Itoa(len(t.Runs))}, {Label: "excluded", Value: strconv.Itoa(excluded)},
		{Label: "metrics", Value: strconv.Itoa(len(t.Charts))}, {Label: "regressions", Value: strconv.Itoa(regressions), Class: regClass}}
	var b bytes.Buffer
	if err := trendTemplate.ExecuteTemplate(&b, "trend.html", pg); err != nil {
		return fmt.Errorf("trend html: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// trendChart draws one metric over the runs: a line through the values, the baseline band of
// each judged run shaded, and a mark on each flagged run. Shares are drawn in percent, durations
// on their own axis labels.
func trendChart(t *history.Trend, c history.TrendChart) svgChart {
	ch := svgChart{ID: c.Target + ":" + c.Metric, Title: c.Metric + " of target " + c.Target, Box: chartBox, XLabel: "run", YLabel: c.Metric,
		Desc: "each run's value; shaded: the baseline band it was judged against; marked: a flagged change; hollow grey, off the line: a run in no baseline"}
	scaleOf := func(v float64) float64 {
		if c.Kind == report.KindShare {
			return 100 * v
		}
		return v
	}
	hi, measured := 0.0, false
	for _, p := range c.Points {
		if p.OK {
			hi, measured = max(hi, scaleOf(p.Value)), true
		}
		if p.Band {
			hi = max(hi, scaleOf(p.Hi))
		}
	}
	if !measured {
		ch.Empty = "no run measured it"
		return ch
	}
	b := ch.Box
	n := len(c.Points)
	x := scale{-0.5, float64(n) - 0.5, b.L, b.R}
	y, yt := trendAxis(c.Kind, hi, b)
	for _, v := range yt {
		var label string
		switch c.Kind {
		case report.KindShare:
			label = report.TrimFloat(v) + "%"
		case report.KindDuration:
			label = tickDur(time.Duration(v))
		default:
			label = report.TrimFloat(v)
		}
		ch.YTicks = append(ch.YTicks, svgTick{coord(y.at(v)), label})
	}
	every := max(1, n/12)
	var line, reg, imp, excl pathData
	for i, p := range c.Points {
		if i%every == 0 && i < len(t.Runs) {
			ch.XTicks = append(ch.XTicks, svgTick{coord(x.at(float64(i))), "#" + strconv.FormatInt(t.Runs[i].Seq, 10)})
		}
		if p.Band {
			x0, x1 := x.at(float64(i)-0.4), x.at(float64(i)+0.4)
			y0, y1 := y.at(scaleOf(p.Hi)), y.at(max(0, scaleOf(p.Lo)))
			ch.Bands = append(ch.Bands, svgBand{X: coord(x0), Y: coord(y0), W: coord(x1 - x0), H: coord(max(y1-y0, 1)),
				Label: "baseline band " + report.FormatValue(c.Kind, p.Lo) + " – " + report.FormatValue(c.Kind, p.Hi)})
		}
		if !p.OK {
			line.lift()
			continue
		}
		px, py := x.at(float64(i)), y.at(scaleOf(p.Value))
		if i < len(t.Runs) && t.Runs[i].Excluded { // in no baseline: a mark of its own, off the line
			line.lift()
			excl.bar(px-4, px+4, py+4, py-4)
			continue
		}
		line.to(px, py)
		switch p.Flag {
		case history.FlagRegression:
			reg.bar(px-5, px+5, py+5, py-5)
		case history.FlagImprovement:
			imp.bar(px-5, px+5, py+5, py-5)
		}
	}
	ch.Series = append(ch.Series, svgSeries{Name: "value", Label: c.Metric + " of each run", Kind: "line", Color: "c0", D: line.String()},
		svgSeries{Name: "regression", Label: "regression", Kind: "bars", Color: "c3", D: reg.String()},
		svgSeries{Name: "improvement", Label: "improvement", Kind: "bars", Color: "c2", D: imp.String()})
	if excl.String() != "" {
		ch.Series = append(ch.Series, svgSeries{Name: "excluded", Label: "run in no baseline (its measurement checks failed): never judged",
			Kind: "hollow", Color: "cx", D: excl.String()})
	}
	return ch
}

// trendAxis returns the y scale and ticks of a trend chart whose highest value is hi: from 0, a
// little above hi, at most 100 % for a share, at least 1 ms (or 1 %) when every value is 0.
func trendAxis(kind report.ValueKind, hi float64, b svgBox) (scale, []float64) {
	floor := 1.0
	if kind == report.KindDuration {
		floor = float64(time.Millisecond)
	}
	top := max(hi*1.05, floor)
	if kind == report.KindShare {
		top = min(top, 100)
	}
	t, ticks := linearAxis(top)
	return scale{0, t, b.B, b.T}, ticks
}
