package report

import (
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/sample"
)

// ValueKind is what a threshold's value measures, which decides how it is written and rendered.
type ValueKind uint8

// The kinds of threshold values.
const (
	KindDuration ValueKind = iota // nanoseconds; written with a unit: 800ms, 10s
	KindShare                     // a fraction of a population; written as a percentage: 0.1%
	KindCount                     // a number of journeys or arrivals; written as an integer: 3
)

// String returns the kind's name.
func (k ValueKind) String() string {
	switch k {
	case KindDuration:
		return "duration"
	case KindShare:
		return "share"
	case KindCount:
		return "count"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Threshold is one parsed expression "METRIC OP VALUE", such as "gap.p99 < 10s".
//
// The metrics are:
//
//   - durations, a histogram with a statistic: gap, gap_min, journey, lag, or step.<name> (lookup,
//     appjwt, consumerjws, create, send, automsg, close), each with .pNN or .pNN.N (any
//     percentile 0 < p ≤ 100), .min, .max or .mean; e.g. gap.p99, step.create.p95, lag.max.
//     The value has a unit (time.ParseDuration syntax): 800ms, 10s, 250µs or 250us.
//   - shares, written as a percentage (0.1%, 1%; a bare fraction is rejected as ambiguous):
//     window.in, window.missed, window.uncertain (of the journeys judged against the window),
//     errors (failed journeys of the ended ones: interrupted journeys are neither errors nor
//     successes), dropped (of the planned arrivals), and automsg.missing, which is reserved: it
//     parses, but has no data until auto messages are verified.
//   - counts, a non-negative integer: count.ok, count.failed, count.interrupted (journeys),
//     count.missed, count.uncertain (window verdicts), count.dropped (arrivals).
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

// stat is the statistic of a histogram metric.
type stat uint8

const (
	statPercentile stat = iota
	statMin
	statMax
	statMean
)

// metric is a parsed metric name: where its value comes from. Exactly one of hist, ratio and
// count is set, except for a reserved metric, which has none.
type metric struct {
	kind ValueKind
	hist func(*Metrics) *hdrhistogram.Histogram
	stat stat
	p    float64 // percentile 0 < p ≤ 100, for statPercentile
	// ratio returns a share as n of total.
	ratio func(*Metrics) (n, total int64)
	// count returns a count and whether there was a population to count in.
	count func(*Metrics) (n int64, ok bool)
}

// reserved reports whether the metric parses but cannot be measured yet.
func (mt *metric) reserved() bool { return mt.hist == nil && mt.ratio == nil && mt.count == nil }

// histograms are the histogram metrics other than step.<name>.
var histograms = map[string]func(*Metrics) *hdrhistogram.Histogram{
	"gap":     func(m *Metrics) *hdrhistogram.Histogram { return m.Gap },
	"gap_min": func(m *Metrics) *hdrhistogram.Histogram { return m.GapMin },
	"journey": func(m *Metrics) *hdrhistogram.Histogram { return m.Journey },
	"lag":     func(m *Metrics) *hdrhistogram.Histogram { return m.Lag },
	"automsg": func(m *Metrics) *hdrhistogram.Histogram { return m.AutoMsg },
}

// judged returns the number of journeys that got a window verdict.
func judged(m *Metrics) int64 {
	v := &m.Verdicts
	return v[sample.VerdictIn] + v[sample.VerdictMissed] + v[sample.VerdictUncertain]
}

// ended returns the number of journeys that ended on their own (not interrupted).
func ended(m *Metrics) int64 {
	return m.Outcomes[sample.OutcomeOK] + m.Outcomes[sample.OutcomeFailed]
}

func verdictShare(v sample.Verdict) func(*Metrics) (int64, int64) {
	return func(m *Metrics) (int64, int64) { return m.Verdicts[v], judged(m) }
}

// shares are the share metrics; a nil function marks a reserved metric.
var shares = map[string]func(*Metrics) (n, total int64){
	"window.in":        verdictShare(sample.VerdictIn),
	"window.missed":    verdictShare(sample.VerdictMissed),
	"window.uncertain": verdictShare(sample.VerdictUncertain),
	"errors":           func(m *Metrics) (int64, int64) { return m.Outcomes[sample.OutcomeFailed], ended(m) },
	"dropped":          func(m *Metrics) (int64, int64) { return m.Arrivals.Dropped, m.Arrivals.Planned },
	// In-window journeys that waited for their first auto message and did not get it.
	"automsg.missing": func(m *Metrics) (int64, int64) {
		in := sample.VerdictIn
		return m.AutoMsgAwaited[in] - m.AutoMsgReceived[in], m.AutoMsgAwaited[in]
	},
}

func outcomeCount(o sample.Outcome) func(*Metrics) (int64, bool) {
	return func(m *Metrics) (int64, bool) { return m.Outcomes[o], m.Started() > 0 }
}

func verdictCount(v sample.Verdict) func(*Metrics) (int64, bool) {
	return func(m *Metrics) (int64, bool) { return m.Verdicts[v], m.Started() > 0 }
}

// counts are the count metrics. Journey counts need a started journey, count.dropped a planned
// arrival: a count of nothing is no data, not zero.
var counts = map[string]func(*Metrics) (n int64, ok bool){
	"count.ok":          outcomeCount(sample.OutcomeOK),
	"count.failed":      outcomeCount(sample.OutcomeFailed),
	"count.interrupted": outcomeCount(sample.OutcomeInterrupted),
	"count.missed":      verdictCount(sample.VerdictMissed),
	"count.uncertain":   verdictCount(sample.VerdictUncertain),
	"count.dropped":     func(m *Metrics) (int64, bool) { return m.Arrivals.Dropped, m.Arrivals.Planned > 0 },
}

const (
	metricsHelp = "want gap, gap_min, journey, lag or step.<name> with a statistic (e.g. gap.p99, step.create.p95), " +
		"window.in, window.missed, window.uncertain, errors, dropped, automsg.missing, " +
		"or count.ok, count.failed, count.interrupted, count.missed, count.uncertain, count.dropped"
	statHelp = "percentiles are p50, p90, p95, p99, p99.9, p99.99, or any pNN(.N) above 0 and up to 100, " +
		"plus min, max, mean"
)

// stepNames lists the steps for error messages.
func stepNames() string {
	names := make([]string, sample.NumSteps)
	for s := range sample.NumSteps {
		names[s] = s.String()
	}
	return strings.Join(names, ", ")
}

// parseMetric resolves a metric name.
func parseMetric(name string) (metric, error) {
	if r, ok := shares[name]; ok {
		return metric{kind: KindShare, ratio: r}, nil
	}
	if c, ok := counts[name]; ok {
		return metric{kind: KindCount, count: c}, nil
	}
	var hist func(*Metrics) *hdrhistogram.Histogram
	var base, st string
	if rest, ok := strings.CutPrefix(name, "step."); ok {
		stepName, stName, _ := strings.Cut(rest, ".")
		step, found := sample.NumSteps, false
		for s := range sample.NumSteps {
			if s.String() == stepName {
				step, found = s, true
			}
		}
		if !found {
			return metric{}, fmt.Errorf("unknown metric %q: steps are %s", name, stepNames())
		}
		hist = func(m *Metrics) *hdrhistogram.Histogram { return m.Steps[step] }
		base, st = "step."+stepName, stName
	} else {
		base, st, _ = strings.Cut(name, ".")
		hist = histograms[base]
		if hist == nil {
			return metric{}, fmt.Errorf("unknown metric %q: %s", name, metricsHelp)
		}
	}
	mt := metric{kind: KindDuration, hist: hist}
	switch st {
	case "":
		return metric{}, fmt.Errorf("metric %q needs a statistic, e.g. %s.p99, %s.max: %s", name, base, base, statHelp)
	case "min":
		mt.stat = statMin
	case "max":
		mt.stat = statMax
	case "mean":
		mt.stat = statMean
	default:
		p, ok := parsePercentile(st)
		if !ok {
			return metric{}, fmt.Errorf("unknown metric %q: %s", name, statHelp)
		}
		mt.stat, mt.p = statPercentile, p
	}
	return mt, nil
}

// parsePercentile parses "pNN" or "pNN.N…" with 0 < NN.N ≤ 100.
func parsePercentile(s string) (float64, bool) {
	num, ok := strings.CutPrefix(s, "p")
	if !ok || !isDecimal(num) {
		return 0, false
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || p <= 0 || p > 100 {
		return 0, false
	}
	return p, true
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
// no journey started (journey counts) or no arrival was planned (count.dropped), or the metric is
// reserved (automsg.missing). Histogram values are those of HdrHistogram: percentiles and max at
// the highest value equivalent to the recorded one and min at the lowest (within 0.1%).
func (t Threshold) Measure(m *Metrics) (value float64, ok bool) {
	mt, err := parseMetric(t.Metric)
	if err != nil || m == nil {
		return 0, false
	}
	switch {
	case mt.hist != nil:
		h := mt.hist(m)
		if h == nil || h.TotalCount() == 0 {
			return 0, false
		}
		switch mt.stat {
		case statMin:
			return float64(minOf(h)), true
		case statMax:
			return float64(maxOf(h)), true
		case statMean:
			return meanNs(h), true
		default:
			return float64(Percentile(h, mt.p)), true
		}
	case mt.ratio != nil:
		n, total := mt.ratio(m)
		if total <= 0 {
			return 0, false
		}
		return float64(n) / float64(total), true
	case mt.count != nil:
		n, ok := mt.count(m)
		return float64(n), ok
	}
	return 0, false // reserved
}

// Check measures the threshold on m and compares. pass is false when there is no data (ok false).
func (t Threshold) Check(m *Metrics) (measured float64, ok, pass bool) {
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
	v, ok, pass := st.Check(m)
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

// measured renders the result's measured column.
func (r ThresholdResult) measured() string {
	if !r.NoData {
		return r.Format(r.Measured)
	}
	if mt, err := parseMetric(r.Metric); err == nil && mt.reserved() {
		return "not measured yet"
	}
	return "no data"
}

// WriteThresholds renders the results as a table — the expression ("[target] " before it when
// scoped), the measured value ("no data" when there was none) and PASS or FAIL — followed by the
// line "thresholds: N passed, M failed".
func WriteThresholds(w io.Writer, rs []ThresholdResult) error {
	var b strings.Builder
	passed := 0
	if len(rs) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprint(tw, "threshold\tmeasured\tresult\n")
		for _, r := range rs {
			expr := r.Expr
			if r.Target != "" {
				expr = "[" + r.Target + "] " + expr
			}
			result := "FAIL"
			if r.Pass {
				result = "PASS"
				passed++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", expr, r.measured(), result)
		}
		tw.Flush()
	}
	fmt.Fprintf(&b, "thresholds: %d passed, %d failed\n", passed, len(rs)-passed)
	_, err := io.WriteString(w, b.String())
	return err
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
