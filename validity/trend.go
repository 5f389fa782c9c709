package validity

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/report"
)

// trend is the upward trend of one per-second percentile over one stage.
type trend struct {
	metric string // "journey p99" or "gap p99"
	stage  int    // from 1
	rate   float64
	slope  time.Duration // per second
	growth time.Duration // slope × the seconds judged
	median time.Duration
}

// grows reports whether the trend is a queue that only grows: it adds more than
// stationaryRelative of the stage's median and more than stationaryFloor.
func (t trend) grows() bool {
	return float64(t.growth) > stationaryRelative*float64(t.median) && t.growth > stationaryFloor
}

// stationaryCheck: within each constant-rate stage of plan long enough to judge, the per-second
// journey p99 and gap p99 of the target show no sustained upward trend (Theil–Sen slope, robust
// to a few outlying seconds). A trend is the target's: it cannot serve that rate.
func stationaryCheck(series report.Series, plan loadgen.Plan, start time.Time, target string) report.Check {
	c := report.Check{Name: "stationary", Target: target, OK: true, LimitValue: stationaryFloor.Seconds(),
		Limit: fmt.Sprintf("growth over a stage ≤ %d%% of its median or ≤ %s", int(stationaryRelative*100), stationaryFloor)}
	var worst *trend
	judged := 0
	var offset time.Duration
	for i, st := range plan.Stages {
		from, to := start.Add(offset), start.Add(offset+st.Duration)
		offset += st.Duration
		if st.From != st.To || st.From == 0 {
			continue
		}
		pts := stageSeconds(series, from, to)
		if len(pts) < stationaryMinSeconds {
			continue
		}
		judged++
		for _, m := range []struct {
			name string
			get  func(report.Point) time.Duration
		}{{"journey p99", func(p report.Point) time.Duration { return p.JourneyP99 }}, {"gap p99", func(p report.Point) time.Duration { return p.GapP99 }}} {
			tr, ok := stageTrend(pts, m.get)
			if !ok {
				continue
			}
			tr.metric, tr.stage, tr.rate = m.name, i+1, st.From
			if worst == nil || (tr.grows() && !worst.grows()) || (tr.grows() == worst.grows() && tr.growth > worst.growth) {
				worst = &tr
			}
		}
	}
	if judged == 0 || worst == nil {
		c.Measured = fmt.Sprintf("not judged: no constant-rate stage with %d s after a %d s warm-up", stationaryMinSeconds, stationaryWarmUp)
		c.Message = "too short to tell a steady state"
		return c
	}
	c.Value = worst.growth.Seconds()
	c.Measured = fmt.Sprintf("%s grew %s/s over stage %d (%s/s): %s in all, median %s", worst.metric, fmtMS(worst.slope),
		worst.stage, report.TrimDecimals(worst.rate, 2), fmtMS(worst.growth), fmtMS(worst.median))
	c.OK = !worst.grows()
	if c.OK {
		c.Message = fmt.Sprintf("%d stage(s) judged: latency held steady", judged)
	} else {
		c.Message = fmt.Sprintf("at %s/s (stage %d) the %s grew %s/s: a queue that only grows; the rate is not sustainable for the target (this is the target's limit, not the generator's)",
			report.TrimDecimals(worst.rate, 2), worst.stage, worst.metric, fmtMS(worst.slope))
	}
	return c
}

// stageSeconds returns the points of the series wholly inside [from, to) after the warm-up
// that have journeys.
func stageSeconds(series report.Series, from, to time.Time) []report.Point {
	var pts []report.Point
	first := from.Add(stationaryWarmUp * time.Second)
	for _, p := range series {
		sec := time.Unix(p.Unix, 0)
		if !sec.Before(first) && !sec.Add(time.Second).After(to) && p.Completions > 0 {
			pts = append(pts, p)
		}
	}
	return pts
}

// stageTrend returns the Theil–Sen trend of get over the points that have a value.
func stageTrend(pts []report.Point, get func(report.Point) time.Duration) (trend, bool) {
	var xs, ys []float64
	for _, p := range pts {
		if v := get(p); v > 0 {
			xs, ys = append(xs, float64(p.Unix)), append(ys, float64(v))
		}
	}
	if len(xs) < stationaryMinSeconds {
		return trend{}, false
	}
	slope := theilSen(xs, ys)
	return trend{slope: time.Duration(slope), growth: time.Duration(slope * (xs[len(xs)-1] - xs[0])),
		median: time.Duration(median(ys))}, true
}

// theilSen returns the median of the slopes between every pair of points (xs increasing).
func theilSen(xs, ys []float64) float64 { return median(pairSlopes(xs, ys)) }

// pairSlopes returns the slopes between every pair of points with distinct xs (xs increasing).
// Long series are thinned to 300 evenly spaced points first, which keeps the cost bounded.
func pairSlopes(xs, ys []float64) []float64 {
	if n := len(xs); n > 300 {
		var tx, ty []float64
		for i := range 300 {
			j := i * (n - 1) / 299
			tx, ty = append(tx, xs[j]), append(ty, ys[j])
		}
		xs, ys = tx, ty
	}
	var slopes []float64
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			if dx := xs[j] - xs[i]; dx > 0 {
				slopes = append(slopes, (ys[j]-ys[i])/dx)
			}
		}
	}
	return slopes
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// supportCheck: every threshold on a percentile rests on at least supportAbove values above
// it: its histogram holds at least report.SupportNeeded(p) values (p95: 200; p99: 1,000;
// p99.9: 10,000). Fewer, and the percentile is the few largest samples.
func supportCheck(res *report.Result) report.Check {
	c := report.Check{Name: "percentile_support", OK: true, Limit: fmt.Sprintf("≥ %d values above each thresholded percentile", supportAbove), LimitValue: supportAbove}
	byTarget := res.ByTarget()
	var weakest string
	weakestAbove := math.Inf(1)
	n := 0
	for _, th := range res.Thresholds {
		m := res.Overall
		if th.Target != "" {
			m = byTarget[th.Target]
		}
		p, count, ok := report.PercentileSamples(th.Threshold, m)
		if !ok {
			continue
		}
		n++
		above := report.ValuesAbove(p, count)
		if float64(above) < weakestAbove {
			weakestAbove = float64(above)
			weakest = fmt.Sprintf("%s from %d samples: %d above it (%d above needs %d samples)",
				th.Metric, count, above, supportAbove, report.SupportNeeded(p))
			if th.Target != "" {
				weakest = "[" + th.Target + "] " + weakest
			}
		}
	}
	if n == 0 {
		c.Measured, c.Message = "no threshold on a percentile", "nothing to judge"
		return c
	}
	c.Value = weakestAbove
	c.OK = weakestAbove >= supportAbove
	c.Measured = weakest
	if c.OK {
		c.Message = fmt.Sprintf("%d thresholded percentile(s), each on enough samples", n)
	} else {
		c.Message = "the percentile rests on its few largest samples, so its threshold judges noise: plan more journeys for the target (longer or at a higher rate; lpbench validate predicts it), or threshold a lower percentile"
	}
	return c
}
