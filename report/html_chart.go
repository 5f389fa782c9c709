package report

import (
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/sample"
)

// The charts of report.html are drawn here, on the server, as inline SVG: the page needs no
// script, no library and no network to show them, and it reads the same in any browser or
// without JavaScript. Each chart is laid out into plain strings (path data, tick positions and
// labels) that html/template then escapes like any other text.

// svgBox is the geometry every chart shares: the SVG's view box (W×H) and the plot area within it
// (L..R, T..B). The SVG scales to the page's width; these are its own units.
type svgBox struct{ W, H, L, R, T, B float64 }

var chartBox = svgBox{W: 960, H: 300, L: 76, R: 928, T: 26, B: 270}

// svgChart is one chart, laid out and ready for the template.
type svgChart struct {
	ID             string // data-chart: the chart's stable name, for tests and links
	Title, Desc    string
	XLabel, YLabel string
	Box            svgBox
	XTicks, YTicks []svgTick
	Series         []svgSeries
	Bands          []svgBand
	Notes          []string // lines under the legend (e.g. the verdict shares)
	Empty          string   // when not "", the chart has no data and says this instead
}

// svgTick is a tick of an axis: its position in SVG units along the axis, and its label.
type svgTick struct{ Pos, Label string }

// svgBand is a shaded span of the x axis over the plot's height.
type svgBand struct{ X, Y, W, H, Label string }

// svgSeries is one series of a chart: one SVG path, so that a chart's series can be counted.
type svgSeries struct {
	Name  string // data-series
	Label string // legend
	Kind  string // "line", "bars" or "ref" (a reference line such as the window): decides the style
	Color string // a colour class of the page's style sheet: c0…c7, cg (gap), cw (window)
	D     string // path data
}

// The colour classes, in the order series take them. The page's style sheet defines each.
var seriesColors = []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"}

func colorOf(i int) string { return seriesColors[i%len(seriesColors)] }

// maxChartPoints bounds the points of one series of a time chart, so that the page stays small
// and quick to draw however long the run: a 1000-second run has 1000 points per series, a day
// 86,400. Longer series are thinned by min/max decimation (see thin).
const maxChartPoints = 600

// thin returns the indices of the points of an n-point series to draw, in order, with -1 where
// the line must break (a point without a value, e.g. a second in which no journey ended).
//
// Up to maxChartPoints points, every point is drawn. Beyond, the series is cut into
// maxChartPoints/2 buckets of consecutive points and each bucket keeps its lowest and its highest
// point, in time order. Unlike a plain stride, this keeps every spike and every dip: a one-second
// burst of failures or a p99 outlier is what the reader looks for. A bucket without any value
// breaks the line; a gap inside a bucket that has values does not.
func thin(n int, value func(i int) (float64, bool)) []int {
	idx := make([]int, 0, min(n, maxChartPoints))
	if n <= maxChartPoints {
		for i := range n {
			if _, ok := value(i); ok {
				idx = append(idx, i)
			} else {
				idx = append(idx, -1)
			}
		}
		return idx
	}
	buckets := maxChartPoints / 2
	per := (n + buckets - 1) / buckets
	for b := 0; b < n; b += per {
		lo, hi := -1, -1
		var vlo, vhi float64
		for i := b; i < min(b+per, n); i++ {
			v, ok := value(i)
			if !ok {
				continue
			}
			if lo < 0 || v < vlo {
				lo, vlo = i, v
			}
			if hi < 0 || v > vhi {
				hi, vhi = i, v
			}
		}
		switch {
		case lo < 0:
			idx = append(idx, -1)
		case lo == hi:
			idx = append(idx, lo)
		case lo < hi:
			idx = append(idx, lo, hi)
		default:
			idx = append(idx, hi, lo)
		}
	}
	return idx
}

// pathData builds SVG path data: "M" starts each segment and the points that follow are implicit
// line-tos, which keeps long series short.
type pathData struct {
	b    []byte
	open bool
}

// to draws a line to (x, y), or starts a segment there after lift.
func (p *pathData) to(x, y float64) {
	if p.open {
		p.b = append(p.b, ' ')
	} else {
		p.b = append(p.b, 'M')
		p.open = true
	}
	p.b = appendCoord(p.b, x)
	p.b = append(p.b, ',')
	p.b = appendCoord(p.b, y)
}

// lift ends the current segment: the next point starts a new one.
func (p *pathData) lift() { p.open = false }

func (p *pathData) String() string { return string(p.b) }

// appendCoord appends v rounded to a tenth of an SVG unit — well below a pixel at any sensible
// size — in its shortest form.
func appendCoord(b []byte, v float64) []byte {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

func coord(v float64) string { return string(appendCoord(nil, v)) }

// scale maps a domain [d0, d1] linearly onto the range [r0, r1] of SVG units.
type scale struct{ d0, d1, r0, r1 float64 }

func (s scale) at(v float64) float64 {
	if s.d1 == s.d0 {
		return s.r0
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// niceStep returns the smallest of 1, 2 or 5 times a power of ten that is at least raw.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// linearAxis returns a domain 0..top that holds hi, with ticks at a nice step (about five).
func linearAxis(hi float64) (top float64, ticks []float64) {
	if hi <= 0 {
		hi = 1
	}
	step := niceStep(hi / 5)
	n := int(math.Ceil(hi/step - 1e-9))
	for i := 0; i <= n; i++ {
		ticks = append(ticks, float64(i)*step)
	}
	return float64(n) * step, ticks
}

// logAxis returns the decades (as powers of ten) that hold lo..hi, with a tick at each decade,
// and at 2 and 5 times it when there are no more than two decades.
func logAxis(lo, hi float64) (d0, d1 float64, ticks []float64) {
	lo = max(lo, float64(histMin))
	hi = max(hi, lo)
	d0, d1 = math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if d1 <= d0 {
		d1 = d0 + 1
	}
	for e := d0; e <= d1; e++ {
		v := math.Pow(10, e)
		ticks = append(ticks, v)
		if d1-d0 <= 2 && e < d1 {
			ticks = append(ticks, 2*v, 5*v)
		}
	}
	return d0, d1, ticks
}

// tickDur labels a duration tick: fmtDur without its trailing zeros (1s, 2.5ms, 200µs).
func tickDur(d time.Duration) string {
	s := fmtDur(d)
	i := strings.IndexFunc(s, func(r rune) bool { return r != '-' && r != '.' && (r < '0' || r > '9') })
	if i < 0 || !strings.Contains(s[:i], ".") {
		return s
	}
	return strings.TrimRight(strings.TrimRight(s[:i], "0"), ".") + s[i:]
}

// tickSeconds labels a tick of a time axis: 0s, 45s, 1m30s, 10m, 2h.
func tickSeconds(s int64) string {
	str := (time.Duration(s) * time.Second).String()
	if strings.HasSuffix(str, "m0s") {
		str = strings.TrimSuffix(str, "0s")
	}
	if strings.HasSuffix(str, "h0m") {
		str = strings.TrimSuffix(str, "0m")
	}
	return str
}

// timeSteps are the candidate spacings of a time axis's ticks, in seconds.
var timeSteps = []int64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

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
	last := float64(maxOf(h))
	if end > pctDecades {
		end, last = pctDecades, float64(Percentile(h, 100*(1-math.Pow(10, -pctDecades))))
	}
	var ps []float64
	for k := 0; float64(k)/pctPerDecade < end; k++ {
		x := float64(k) / pctPerDecade
		xs = append(xs, x)
		ps = append(ps, 100*(1-math.Pow(10, -x)))
	}
	for _, v := range percentiles(h, ps) {
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
	ylog := func(v float64) float64 { return y.at(math.Log10(max(v, float64(histMin)))) }
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
func gapHistogramChart(m *Metrics, window time.Duration) svgChart {
	c := svgChart{ID: "gap-histogram", Title: "Gap distribution against the window", Box: chartBox,
		Desc: "Journeys by gap (send end − create begin, the upper bound of the gap the server sees). " +
			"Right of the line the first SEND may have missed the window; whether it did depends on gap_min.",
		XLabel: "gap", YLabel: "journeys per bar"}
	v := m.Verdicts
	n := judged(m)
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
	hi := max(maxOf(m.Gap), window*12/10)
	// The bars' width divides the window, so that no bar straddles the line, unless the window is
	// so small against the largest gap that this would make far too many bars.
	width := hi / gapBins
	if window > 0 {
		k := max(int64(math.Round(float64(gapBins)*float64(window)/float64(hi))), 1)
		if w := window / time.Duration(k); hi/w <= 2*gapBins {
			width = w
		}
	}
	width = max(width, time.Microsecond)
	nb := max(int((hi+width-1)/width), 1)
	counts := make([]int64, nb)
	var top int64
	for _, bar := range m.Gap.Distribution() {
		if bar.Count == 0 {
			continue
		}
		i := min(int(time.Duration(bar.From)/width), nb-1)
		counts[i] += bar.Count
		top = max(top, counts[i])
	}
	b := c.Box
	span := time.Duration(nb) * width
	x := scale{0, float64(span), b.L, b.R}
	ytop, yt := linearAxis(float64(top))
	y := scale{0, ytop, b.B, b.T}
	for _, t := range yt {
		c.YTicks = append(c.YTicks, svgTick{coord(y.at(t)), trimFloat(t)})
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
		d.b = append(d.b, 'M')
		d.b = appendCoord(d.b, x0+0.5)
		d.b = append(d.b, ',')
		d.b = appendCoord(d.b, b.B)
		d.b = append(d.b, 'V')
		d.b = appendCoord(d.b, y.at(float64(n)))
		d.b = append(d.b, 'H')
		d.b = appendCoord(d.b, x1-0.5)
		d.b = append(d.b, 'V')
		d.b = appendCoord(d.b, b.B)
		d.b = append(d.b, 'Z')
	}
	c.Series = append(c.Series, svgSeries{Name: "gap", Label: "journeys by gap (bar width " + fmtDur(width) + ")", Kind: "bars", Color: "c0", D: d.String()})
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

// tsLine is a line of a time chart: value returns its value at a point, and false where it has
// none (the line breaks there).
type tsLine struct {
	name, label, color string
	value              func(p *Point) (float64, bool)
}

// tsRef is a horizontal reference line of a time chart, such as the window.
type tsRef struct {
	name, label string
	value       float64
}

// timeChart draws lines over a run's seconds, thinned to maxChartPoints points each, on a linear
// axis from 0 (durations in ns when dur is set).
func timeChart(id, title, desc, yLabel string, s Series, dur bool, lines []tsLine, refs []tsRef) svgChart {
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
		label := trimFloat(t)
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
func durValue(f func(p *Point) time.Duration) func(p *Point) (float64, bool) {
	return func(p *Point) (float64, bool) {
		d := f(p)
		return float64(d), d > 0
	}
}

// countValue reads a count of a point as a line's value.
func countValue(f func(p *Point) float64) func(p *Point) (float64, bool) {
	return func(p *Point) (float64, bool) { return f(p), true }
}
