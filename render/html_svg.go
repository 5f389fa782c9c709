package render

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
)

// The SVG drawing of report.html's charts: the shared box, series, thinning of long series, path
// data, scales, axes and tick labels. The charts themselves are laid out in html_chart.go.

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

// bar adds a closed rectangle from x0 to x1 between the heights bottom and top, drawn up from
// the bottom.
func (p *pathData) bar(x0, x1, bottom, top float64) {
	p.b = append(p.b, 'M')
	p.b = appendCoord(p.b, x0)
	p.b = append(p.b, ',')
	p.b = appendCoord(p.b, bottom)
	p.b = append(p.b, 'V')
	p.b = appendCoord(p.b, top)
	p.b = append(p.b, 'H')
	p.b = appendCoord(p.b, x1)
	p.b = append(p.b, 'V')
	p.b = appendCoord(p.b, bottom)
	p.b = append(p.b, 'Z')
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
	lo = max(lo, float64(hdr.Lowest))
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
	s := report.FormatDuration(d)
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
