package render

import (
	"math"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// The charts of report.html are drawn here, on the server, as inline SVG: the page needs no
// script, no library and no network to show them, and it reads the same in any browser or
// without JavaScript. Each chart is laid out into plain strings (path data, tick positions and
// labels) that html/template then escapes like any other text.

// The percentile charts put p on a 1/(1−p) scale: x = log10(1/(1−p)), so 90% is at 1, 99% at 2
// and each decade to the right is a tail ten times rarer. That is the scale on which latency
// tails are read (HdrHistogram's percentile plots use it): a linear p axis squeezes everything
// past p99 into the last pixel.
const (
	pctDecades   = 5 // the axis ends at 99.999%
	pctPerDecade = 8 // points per decade
)

// pctTicks are the percentile axis's ticks, as x values.
var pctTicks = []struct {
	x     float64
	label string
}{
	{math.Log10(2), "50%"}, {1, "90%"}, {2, "99%"}, {3, "99.9%"}, {4, "99.99%"}, {5, "99.999%"},
}

// percentileCurve returns the points (x = log10(1/(1−p)), value in ns) of h's percentile curve:
// pctPerDecade points per decade from p = 0 (the minimum). A histogram of n values says nothing
// about the tail beyond 1/(1−p) = n, so the curve ends there at its largest value; with more than
// 10^pctDecades values it ends at 99.999%.
func percentileCurve(h *hdrhistogram.Histogram) (xs, ys []float64) {
	n := h.TotalCount()
	if n == 0 {
		return nil, nil
	}
	end := math.Log10(float64(n))
	last := float64(hdr.MaxOf(h))
	if end > pctDecades {
		end, last = pctDecades, float64(hdr.Percentile(h, 100*(1-math.Pow(10, -pctDecades))))
	}
	var ps []float64
	for k := 0; float64(k)/pctPerDecade < end; k++ {
		x := float64(k) / pctPerDecade
		xs = append(xs, x)
		ps = append(ps, 100*(1-math.Pow(10, -x)))
	}
	for _, v := range hdr.Percentiles(h, ps) {
		ys = append(ys, float64(v))
	}
	return append(xs, end), append(ys, last)
}

// curve is a named percentile curve for percentileChart.
type curve struct {
	name, label, color, kind string
	h                        *hdrhistogram.Histogram
}

// percentileChart draws the percentile curves of the histograms that hold values, on a log
// latency axis (the steps of a journey span microseconds to seconds).
func percentileChart(id, title, desc string, curves []curve) svgChart {
	c := svgChart{ID: id, Title: title, Desc: desc, Box: chartBox,
		XLabel: "percentile, on a 1/(1−p) scale", YLabel: "latency (log scale)"}
	type pts struct {
		curve
		xs, ys []float64
	}
	var all []pts
	lo, hi := math.Inf(1), 0.0
	for _, cv := range curves {
		xs, ys := percentileCurve(cv.h)
		if len(xs) == 0 {
			continue
		}
		for _, y := range ys {
			lo, hi = min(lo, y), max(hi, y)
		}
		all = append(all, pts{cv, xs, ys})
	}
	if len(all) == 0 {
		c.Empty = "no values recorded"
		return c
	}
	// The x axis ends at the first whole decade past the longest curve (99% at least): a run of a
	// thousand journeys has nothing to show at 99.999%.
	end := 2.0
	for _, p := range all {
		end = max(end, math.Ceil(p.xs[len(p.xs)-1]-1e-9))
	}
	b := c.Box
	x := scale{0, end, b.L, b.R}
	d0, d1, ticks := logAxis(lo, hi)
	y := scale{d0, d1, b.B, b.T}
	ylog := func(v float64) float64 { return y.at(math.Log10(max(v, float64(hdr.Lowest)))) }
	for _, t := range pctTicks {
		if t.x <= end {
			c.XTicks = append(c.XTicks, svgTick{coord(x.at(t.x)), t.label})
		}
	}
	for _, t := range ticks {
		c.YTicks = append(c.YTicks, svgTick{coord(ylog(t)), tickDur(time.Duration(t))})
	}
	for _, p := range all {
		var d pathData
		for i := range p.xs {
			d.to(x.at(p.xs[i]), ylog(p.ys[i]))
		}
		c.Series = append(c.Series, svgSeries{Name: p.name, Label: p.label, Kind: p.kind, Color: p.color, D: d.String()})
	}
	return c
}

// gapBins is about the number of bars of the gap histogram.
const gapBins = 40

// gapHistogramChart draws the distribution of the gap as bars over 0..max(largest gap, 1.2 ×
// window), the window as a vertical line, and the span past it shaded. The bars are one series:
// one path of rectangles.
func gapHistogramChart(m *report.Metrics, window time.Duration) svgChart {
	c := svgChart{ID: "gap-histogram", Title: "Gap distribution against the window", Box: chartBox,
		Desc: "Journeys by gap (SEND's first response byte − CONVERSATION written, the upper bound of the gap the server sees). " +
			"Right of the line the first SEND may have missed the window; whether it did depends on gap_min.",
		XLabel: "gap", YLabel: "journeys per bar"}
	v := m.Verdicts
	n := report.Judged(m)
	c.Notes = []string{
		"in: " + share(v[sample.VerdictIn], n) + " (" + strconv.FormatInt(v[sample.VerdictIn], 10) + ", gap < window)",
		"uncertain: " + share(v[sample.VerdictUncertain], n) + " (" + strconv.FormatInt(v[sample.VerdictUncertain], 10) + ", gap_min < window ≤ gap)",
		"missed: " + share(v[sample.VerdictMissed], n) + " (" + strconv.FormatInt(v[sample.VerdictMissed], 10) + ", gap_min ≥ window)",
		"of " + strconv.FormatInt(n, 10) + " journeys judged against the " + tickDur(window) + " window",
	}
	if m.Gap.TotalCount() == 0 {
		c.Empty = "no journey completed both CONVERSATION and SEND"
		return c
	}
	counts, width, top := gapBars(m.Gap, window)
	b := c.Box
	span := time.Duration(len(counts)) * width
	x := scale{0, float64(span), b.L, b.R}
	ytop, yt := linearAxis(float64(top))
	y := scale{0, ytop, b.B, b.T}
	for _, t := range yt {
		c.YTicks = append(c.YTicks, svgTick{coord(y.at(t)), report.TrimFloat(t)})
	}
	xstep := time.Duration(niceStep(float64(span) / 8))
	for t := time.Duration(0); t <= span; t += xstep {
		c.XTicks = append(c.XTicks, svgTick{coord(x.at(float64(t))), tickDur(t)})
	}
	var d pathData
	for i, n := range counts {
		if n == 0 {
			continue
		}
		x0, x1 := x.at(float64(time.Duration(i)*width)), x.at(float64(time.Duration(i+1)*width))
		d.bar(x0+0.5, x1-0.5, b.B, y.at(float64(n)))
	}
	c.Series = append(c.Series, svgSeries{Name: "gap", Label: "journeys by gap (bar width " + report.FormatDuration(width) + ")", Kind: "bars", Color: "c0", D: d.String()})
	if window > 0 {
		xw := x.at(float64(window))
		c.Bands = append(c.Bands, svgBand{X: coord(xw), Y: coord(b.T), W: coord(b.R - xw), H: coord(b.B - b.T), Label: "window may be missed"})
		var w pathData
		w.to(xw, b.T)
		w.to(xw, b.B)
		c.Series = append(c.Series, svgSeries{Name: "window", Label: "window " + tickDur(window), Kind: "ref", Color: "cw", D: w.String()})
	}
	return c
}

// gapBars bins the gap histogram h into bars over 0..max(largest gap, 1.2 × window): the count
// of each bar, the bars' width and the largest count. The width divides the window, so that no
// bar straddles the line, unless the window is so small against the largest gap that this would
// make far too many bars.
func gapBars(h *hdrhistogram.Histogram, window time.Duration) (counts []int64, width time.Duration, top int64) {
	hi := max(hdr.MaxOf(h), window*12/10)
	width = hi / gapBins
	if window > 0 {
		k := max(int64(math.Round(float64(gapBins)*float64(window)/float64(hi))), 1)
		if w := window / time.Duration(k); hi/w <= 2*gapBins {
			width = w
		}
	}
	width = max(width, time.Microsecond)
	nb := max(int((hi+width-1)/width), 1)
	counts = make([]int64, nb)
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		i := min(int(time.Duration(bar.From)/width), nb-1)
		counts[i] += bar.Count
		top = max(top, counts[i])
	}
	return counts, width, top
}

// tsLine is a line of a time chart: value returns its value at a point, and false where it has
// none (the line breaks there).
type tsLine struct {
	name, label, color string
	value              func(p *report.Point) (float64, bool)
}

// tsRef is a horizontal reference line of a time chart, such as the window.
type tsRef struct {
	name, label string
	value       float64
}

// timeChart draws lines over a run's seconds, thinned to maxChartPoints points each, on a linear
// axis from 0 (durations in ns when dur is set).
func timeChart(id, title, desc, yLabel string, s report.Series, dur bool, lines []tsLine, refs []tsRef) svgChart {
	c := svgChart{ID: id, Title: title, Desc: desc, Box: chartBox, XLabel: "time since the first second", YLabel: yLabel}
	if len(s) == 0 {
		c.Empty = "no time series recorded"
		return c
	}
	hi := 0.0
	for _, l := range lines {
		for i := range s {
			if v, ok := l.value(&s[i]); ok {
				hi = max(hi, v)
			}
		}
	}
	for _, r := range refs {
		hi = max(hi, r.value)
	}
	if dur && hi == 0 {
		hi = float64(time.Millisecond)
	}
	b := c.Box
	last := max(len(s)-1, 1)
	x := scale{0, float64(last), b.L, b.R}
	top, yt := linearAxis(hi * 1.02) // a little headroom so a flat line at the top stays visible
	y := scale{0, top, b.B, b.T}
	for _, t := range yt {
		label := report.TrimFloat(t)
		if dur {
			label = tickDur(time.Duration(t))
		}
		c.YTicks = append(c.YTicks, svgTick{coord(y.at(t)), label})
	}
	step := timeSteps[len(timeSteps)-1]
	for _, st := range timeSteps {
		if st*8 >= int64(last) {
			step = st
			break
		}
	}
	for t := int64(0); t <= int64(last); t += step {
		c.XTicks = append(c.XTicks, svgTick{coord(x.at(float64(t))), tickSeconds(t)})
	}
	for i, l := range lines {
		var d pathData
		value := func(j int) (float64, bool) { return l.value(&s[j]) }
		for _, j := range thin(len(s), value) {
			if j < 0 {
				d.lift()
				continue
			}
			v, _ := value(j)
			d.to(x.at(float64(j)), y.at(v))
		}
		color := l.color
		if color == "" {
			color = colorOf(i)
		}
		c.Series = append(c.Series, svgSeries{Name: l.name, Label: l.label, Kind: "line", Color: color, D: d.String()})
	}
	for _, r := range refs {
		var d pathData
		d.to(b.L, y.at(r.value))
		d.to(b.R, y.at(r.value))
		c.Series = append(c.Series, svgSeries{Name: r.name, Label: r.label, Kind: "ref", Color: "cw", D: d.String()})
	}
	return c
}

// durValue reads a duration of a point as a line's value; a second without it (no journey ended
// then, so no percentile) has none.
func durValue(f func(p *report.Point) time.Duration) func(p *report.Point) (float64, bool) {
	return func(p *report.Point) (float64, bool) {
		d := f(p)
		return float64(d), d > 0
	}
}

// countValue reads a count of a point as a line's value.
func countValue(f func(p *report.Point) float64) func(p *report.Point) (float64, bool) {
	return func(p *report.Point) (float64, bool) { return f(p), true }
}

// charts are the page's charts, in order. Their ids (data-chart) and series names (data-series)
// are stable: tests and readers' bookmarks rely on them.
func charts(r *report.Result) []svgChart {
	m := r.Overall
	var curves []curve
	for s := range sample.NumSteps {
		if m.Steps[s].TotalCount() > 0 {
			curves = append(curves, curve{name: s.String(), label: "step." + s.String(), color: colorOf(int(s)), kind: "line", h: m.Steps[s]})
		}
	}
	if m.Gap.TotalCount() > 0 {
		curves = append(curves, curve{name: "gap", label: "gap (SEND first byte − CONVERSATION written)", color: "cg", kind: "line gap", h: m.Gap})
	}
	cs := []svgChart{
		percentileChart("percentiles", "Latency by percentile",
			"Each step's service time and the gap at every percentile. Right is rarer: each decade of 1/(1−p) "+
				"is a tail ten times thinner. A curve ends at its largest value, where 1/(1−p) reaches its number of values.",
			curves),
		gapHistogramChart(m, r.Window),
	}

	s := m.Series
	rate := []tsLine{
		{"arrivals", "arrivals/s (started + dropped, by intended second)", "c0",
			countValue(func(p *report.Point) float64 { return float64(p.Arrivals + p.Dropped) })},
		{"target", "target rate/s", "c1", countValue(func(p *report.Point) float64 { return p.TargetRate })},
	}
	for i := range s {
		if s[i].Dropped > 0 {
			rate = append(rate, tsLine{"dropped", "dropped/s (pool full)", "c3",
				countValue(func(p *report.Point) float64 { return float64(p.Dropped) })})
			break
		}
	}
	var windowRef []tsRef
	if r.Window > 0 {
		windowRef = []tsRef{{"window", "window " + tickDur(r.Window), float64(r.Window)}}
	}
	cs = append(cs,
		timeChart("rate", "Arrival rate against the target",
			"Arrivals counted in the second they were intended for. Below the target means the generator fell behind or dropped arrivals.",
			"arrivals per second", s, false, rate, nil),
		timeChart("lag", "Lag p99 over time",
			"The generator's own lateness (actual − intended start) at p99, by the second journeys ended. It should stay far below the step times.",
			"lag p99", s, true,
			[]tsLine{{"lag-p99", "lag p99", "c4", durValue(func(p *report.Point) time.Duration { return p.LagP99 })}}, nil),
		timeChart("gap-p99", "Gap p99 over time",
			"The gap at p99 by the second journeys ended, against the window.",
			"gap p99", s, true,
			[]tsLine{{"gap-p99", "gap p99", "cg", durValue(func(p *report.Point) time.Duration { return p.GapP99 })}},
			windowRef),
		timeChart("journey-p99", "Journey p99 over time",
			"End-to-end time from the intended start (free of coordinated omission) at p99, by the second journeys ended.",
			"journey p99", s, true,
			[]tsLine{{"journey-p99", "journey p99", "c2", durValue(func(p *report.Point) time.Duration { return p.JourneyP99 })}}, nil),
		timeChart("failures", "Failures over time",
			"Failed journeys per second, and among them those whose window was certainly missed, by the second they ended.",
			"journeys per second", s, false,
			[]tsLine{
				{"failed", "failed/s", "c3", countValue(func(p *report.Point) float64 { return float64(p.Failed) })},
				{"missed", "window missed/s", "c5", countValue(func(p *report.Point) float64 { return float64(p.Missed) })},
			}, nil),
	)

	if len(r.Targets) > 1 {
		var tc []curve
		for i, tm := range r.PerTarget {
			if i < len(r.Targets) && tm != nil && tm.Gap.TotalCount() > 0 {
				tc = append(tc, curve{name: r.Targets[i].Name, label: "gap, target " + r.Targets[i].Name, color: colorOf(i), kind: "line", h: tm.Gap})
			}
		}
		cs = append(cs, percentileChart("gap-by-target", "Gap by percentile, per target",
			"The gap of each target's journeys at every percentile, on the same scale as above.", tc))
	}
	return cs
}
