package report

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/hdr"
)

// Threshold is one parsed expression "METRIC OP VALUE", such as "gap.p99 < 10s".
//
// The metrics are:
//
//   - durations, a histogram with a statistic: gap, gap_min, journey, lag, automsg, or step.<name>
//     (lookup, appjwt, consumerjws, create, send, automsg, close), each with .pNN or .pNN.N (any
//     percentile 0 < p ≤ 100), .min, .max or .mean; e.g. gap.p99, step.create.p95, lag.max.
//     The value has a unit (time.ParseDuration syntax): 800ms, 10s, 250µs or 250us.
//   - shares, written as a percentage (0.1%, 1%; a bare fraction is rejected as ambiguous):
//     window.in, window.missed, window.uncertain (of the journeys judged against the window),
//     errors (failed journeys of the ended ones: interrupted journeys are neither errors nor
//     successes), dropped (of the planned arrivals), automsg.missing (journeys that waited
//     for their first auto message and did not get it, whatever their timing verdict: no data
//     unless auto messages are verified, and no data never passes), window.not_in
//     (missed + uncertain: the share that judges a run whose auto messages are not verified),
//     and routing.mismatched (conversations on another skill than the one asked for, of those
//     whose routing was checked: no data unless a target asks for a skill other than "-1").
//   - counts, a non-negative integer: count.ok, count.failed, count.interrupted (journeys),
//     count.missed, count.uncertain (window verdicts), count.dropped (arrivals), count.anomalies
//     (auto messages after a certainly missed window, which LivePerson says never come).
//
// A threshold with nothing to measure (an empty histogram, a zero denominator, no journeys)
// fails: a run that measured nothing must not pass silently.
type Threshold struct {
	Expr   string    // as written, trimmed
	Metric string    // e.g. "gap.p99", "step.create.p95", "window.missed", "errors"
	Op     string    // "<", "<=", ">", ">="
	Value  float64   // nanoseconds for durations, a fraction (0.001 for 0.1%) for shares, a plain number for counts
	Kind   ValueKind // decided by Metric
}

// isDecimal reports whether s is digits, optionally followed by a dot and more digits.
func isDecimal(s string) bool {
	whole, frac, hasDot := strings.Cut(s, ".")
	return isDigits(whole) && (!hasDot || isDigits(frac))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseThreshold parses "METRIC OP VALUE" (see Threshold for the metrics). OP is one of <, <=, >,
// >=; whitespace around it is optional. Errors say what is allowed.
func ParseThreshold(expr string) (Threshold, error) {
	s := strings.TrimSpace(expr)
	fail := func(format string, args ...any) (Threshold, error) {
		return Threshold{}, fmt.Errorf("threshold %q: %s", s, fmt.Sprintf(format, args...))
	}
	if s == "" {
		return fail(`empty; want METRIC OP VALUE, e.g. "gap.p99 < 10s"`)
	}
	opStart := strings.IndexAny(s, "<>=!")
	if opStart < 0 {
		return fail("no operator; want METRIC OP VALUE with OP one of <, <=, >, >=")
	}
	opEnd := opStart
	for opEnd < len(s) && strings.IndexByte("<>=!", s[opEnd]) >= 0 {
		opEnd++
	}
	op := s[opStart:opEnd]
	switch op {
	case "<", "<=", ">", ">=":
	default:
		return fail("unsupported operator %q; want <, <=, > or >=", op)
	}
	name := strings.TrimSpace(s[:opStart])
	if name == "" {
		return fail("no metric before %q", op)
	}
	value := strings.TrimSpace(s[opEnd:])
	if value == "" {
		return fail("no value after %q", op)
	}
	mt, err := parseMetric(name)
	if err != nil {
		return fail("%v", err)
	}
	t := Threshold{Expr: s, Metric: name, Op: op, Kind: mt.kind}
	switch mt.kind {
	case KindDuration:
		// A unit is required: time.ParseDuration accepts a bare "0", and a bare number is
		// ambiguous anyway.
		last := value[len(value)-1]
		d, err := time.ParseDuration(value)
		if err != nil || last >= '0' && last <= '9' || last == '.' {
			return fail("%s needs a duration with a unit, such as 800ms or 10s; got %q", name, value)
		}
		if d < 0 {
			return fail("%s needs a duration that is not negative; got %q", name, value)
		}
		t.Value = float64(d)
	case KindShare:
		num, ok := strings.CutSuffix(value, "%")
		if !ok || !isDecimal(num) {
			return fail("%s needs a percentage such as 1%% or 0.1%% (a bare fraction is ambiguous); got %q", name, value)
		}
		// Exactly num/100, rounded once: a limit of 0.1% is the float64 nearest 1/1000, the same
		// as a measured 1 of 1000, so a measurement at the limit compares as equal.
		r, _ := new(big.Rat).SetString(num) // cannot fail: num is decimal
		r.Quo(r, big.NewRat(100, 1))
		if r.Cmp(big.NewRat(1, 1)) > 0 {
			return fail("%s needs a percentage between 0%% and 100%%; got %q", name, value)
		}
		t.Value, _ = r.Float64()
	case KindCount:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || !isDigits(value) {
			return fail("%s needs a count, a non-negative integer such as 0 or 10; got %q", name, value)
		}
		t.Value = float64(n)
	}
	return t, nil
}

// Measure returns the threshold's metric measured on m, in the unit of Value. ok is false when
// there is nothing to measure: m is nil, the histogram is empty, the share's population is zero,
// no journey started (journey counts) or no arrival was planned (count.dropped). Histogram values are those of HdrHistogram: percentiles and max at
// the highest value equivalent to the recorded one and min at the lowest (within 0.1%).
func (t Threshold) Measure(m *Metrics) (value float64, ok bool) {
	mm, _ := MeasureMetric(m, t.Metric)
	return mm.Value, mm.OK
}

// Measurement is a metric measured on a set of journeys.
type Measurement struct {
	Value float64   // in the unit of a threshold's Value
	Kind  ValueKind // decided by the metric
	// Samples are the values behind it: the histogram's count, the share's population, or the
	// count itself.
	Samples int64
	OK      bool // false: nothing to measure (as Threshold.Measure)
}

// MeasureMetric returns the metric name (a threshold's metric, e.g. step.create.p95) measured on
// m as Threshold.Measure does; err names an unknown metric.
func MeasureMetric(m *Metrics, name string) (Measurement, error) {
	mt, err := parseMetric(name)
	if err != nil {
		return Measurement{}, err
	}
	mm := Measurement{Kind: mt.kind}
	if m != nil {
		mm.Value, mm.Samples, mm.OK = mt.measure(m)
	}
	return mm, nil
}

// measure returns mt's value on m and the samples behind it; ok false when there is nothing to
// measure.
func (mt metric) measure(m *Metrics) (value float64, samples int64, ok bool) {
	switch {
	case mt.hist != nil:
		h := mt.hist(m)
		if h == nil || h.TotalCount() == 0 {
			return 0, 0, false
		}
		n := h.TotalCount()
		switch mt.stat {
		case statMin:
			return float64(hdr.MinOf(h)), n, true
		case statMax:
			return float64(hdr.MaxOf(h)), n, true
		case statMean:
			return hdr.MeanNs(h), n, true
		default:
			return float64(hdr.Percentile(h, mt.p)), n, true
		}
	case mt.ratio != nil:
		n, total := mt.ratio(m)
		if total <= 0 {
			return 0, 0, false
		}
		return float64(n) / float64(total), total, true
	case mt.count != nil:
		n, ok := mt.count(m)
		return float64(n), n, ok
	}
	return 0, 0, false // cannot happen: parseMetric sets one of them
}

// Assess measures the threshold on m and compares. pass is false when there is no data (ok false).
func (t Threshold) Assess(m *Metrics) (measured float64, ok, pass bool) {
	measured, ok = t.Measure(m)
	return measured, ok, ok && t.holds(measured)
}

// holds reports whether v satisfies the comparison.
func (t Threshold) holds(v float64) bool {
	switch t.Op {
	case "<":
		return v < t.Value
	case "<=":
		return v <= t.Value
	case ">":
		return v > t.Value
	case ">=":
		return v >= t.Value
	}
	return false
}

// ScopedThreshold is a threshold on the whole run (Target "") or on the journeys of one target.
type ScopedThreshold struct {
	Threshold
	Target string
}

// Eval checks the threshold on overall, or on byTarget[Target] when scoped. A target that is
// not in byTarget (or nil metrics) gives no data, which fails; rejecting unknown target names
// early is the caller's concern.
func (st ScopedThreshold) Eval(overall *Metrics, byTarget map[string]*Metrics) ThresholdResult {
	m := overall
	if st.Target != "" {
		m = byTarget[st.Target]
	}
	v, ok, pass := st.Assess(m)
	return ThresholdResult{Threshold: st.Threshold, Target: st.Target, Measured: v, NoData: !ok, Pass: pass}
}

// EvalThresholds evaluates every threshold, in order (see ScopedThreshold.Eval).
func EvalThresholds(ths []ScopedThreshold, overall *Metrics, byTarget map[string]*Metrics) []ThresholdResult {
	rs := make([]ThresholdResult, len(ths))
	for i, th := range ths {
		rs[i] = th.Eval(overall, byTarget)
	}
	return rs
}

// ThresholdResult is a threshold checked on a run's metrics.
type ThresholdResult struct {
	Threshold
	Target   string  // "" for the whole run
	Measured float64 // in the unit of Value; 0 when NoData
	NoData   bool    // nothing to measure (see Threshold.Measure); such a result does not pass
	Pass     bool
}

// Final reports whether a failed result can no longer pass however long the run goes on: its
// metric only moves one way as journeys are recorded and is already past the limit — a count or
// a max (which only grow) under < or <=, or a min (which only shrinks) over > or >=. Other
// failures (percentiles, means, shares, no data) may still recover; abort_on_fail should judge
// them only after its delay.
func (r ThresholdResult) Final() bool {
	if r.Pass || r.NoData {
		return false
	}
	mt, err := parseMetric(r.Metric)
	if err != nil {
		return false
	}
	below := r.Op == "<" || r.Op == "<="
	switch {
	case mt.count != nil:
		return below
	case mt.hist != nil && (mt.stat == statMax || mt.stat == statPercentile && mt.p == 100):
		return below
	case mt.hist != nil && mt.stat == statMin:
		return !below
	}
	return false
}

// Breached reports whether any result failed (no data included): the run's exit code is then 3.
func Breached(rs []ThresholdResult) bool {
	for _, r := range rs {
		if !r.Pass {
			return true
		}
	}
	return false
}
