package report

import (
	"fmt"
	"strconv"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/sample"
)

// The metric names of thresholds and comparisons (gap.p99, window.missed, count.ok, …), what
// kind of value each is, and where in Metrics it comes from.

// ValueKind is what a metric's value measures, which decides how a threshold writes it and how
// it is rendered.
type ValueKind uint8

// The kinds of threshold values.
const (
	KindDuration ValueKind = iota // nanoseconds; written with a unit: 800ms, 10s
	KindShare                     // a fraction of a population; written as a percentage: 0.1%
	KindCount                     // a number of journeys or arrivals; written as an integer: 3
	KindRate                      // journeys per second (a capacity search's finding); no threshold has it
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
	case KindRate:
		return "rate"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
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
// count is set.
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

// histograms are the histogram metrics other than step.<name>.
var histograms = map[string]func(*Metrics) *hdrhistogram.Histogram{
	"gap":     func(m *Metrics) *hdrhistogram.Histogram { return m.Gap },
	"gap_min": func(m *Metrics) *hdrhistogram.Histogram { return m.GapMin },
	"journey": func(m *Metrics) *hdrhistogram.Histogram { return m.Journey },
	"lag":     func(m *Metrics) *hdrhistogram.Histogram { return m.Lag },
	"automsg": func(m *Metrics) *hdrhistogram.Histogram { return m.AutoMsg },
}

func verdictShare(v sample.Verdict) func(*Metrics) (int64, int64) {
	return func(m *Metrics) (int64, int64) { return m.Verdicts[v], judged(m) }
}

// shares are the share metrics.
var shares = map[string]func(*Metrics) (n, total int64){
	"window.in":        verdictShare(sample.VerdictIn),
	"window.missed":    verdictShare(sample.VerdictMissed),
	"window.uncertain": verdictShare(sample.VerdictUncertain),
	// Journeys whose first SEND was not certainly inside the window: the timing verdict that
	// judges a run whose auto messages are not verified, where uncertain is never good.
	"window.not_in": func(m *Metrics) (int64, int64) {
		return m.Verdicts[sample.VerdictMissed] + m.Verdicts[sample.VerdictUncertain], judged(m)
	},
	"errors":  func(m *Metrics) (int64, int64) { return m.Outcomes[sample.OutcomeFailed], ended(m) },
	"dropped": func(m *Metrics) (int64, int64) { return m.Arrivals.Dropped, m.Arrivals.Planned },
	// Journeys that waited for their first auto message and did not get it, whatever their
	// timing verdict: consumers left unserved.
	"automsg.missing": func(m *Metrics) (int64, int64) {
		awaited, received := m.AutoMessages()
		return awaited - received, awaited
	},
	// Conversations a skill was asked for that landed on another skill, of those whose routing
	// was checked: no data unless a target routes to a skill other than "-1".
	"routing.mismatched": func(m *Metrics) (int64, int64) {
		checked, _, mismatched := m.RoutingChecked()
		return mismatched, checked
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
	// Auto messages after a certainly missed window, which LivePerson says never come: no data
	// unless auto messages are verified.
	"count.anomalies": func(m *Metrics) (int64, bool) {
		awaited, _ := m.AutoMessages()
		return m.AutoMsgReceived[sample.VerdictMissed], awaited > 0
	},
}

const (
	metricsHelp = "want gap, gap_min, journey, lag, automsg or step.<name> with a statistic (e.g. gap.p99, step.create.p95), " +
		"window.in, window.missed, window.uncertain, window.not_in, errors, dropped, automsg.missing, routing.mismatched, " +
		"or count.ok, count.failed, count.interrupted, count.missed, count.uncertain, count.dropped, count.anomalies"
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
		step, found := sample.ParseStep(stepName)
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
