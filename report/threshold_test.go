package report

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/sample"
)

// The help texts of the parser's errors, written out so that a change to them shows in a test.
const (
	thMetricsHelp = "want gap, gap_min, journey, lag, automsg or step.<name> with a statistic (e.g. gap.p99, step.create.p95), " +
		"window.in, window.missed, window.uncertain, window.not_in, errors, dropped, automsg.missing, routing.mismatched, " +
		"or count.ok, count.failed, count.interrupted, count.missed, count.uncertain, count.dropped, count.anomalies"
	thStatHelp = "percentiles are p50, p90, p95, p99, p99.9, p99.99, or any pNN(.N) above 0 and up to 100, plus min, max, mean"
)

var parseTests = []struct {
	name string
	in   string
	want Threshold
	err  string // the exact error; "" when the expression is valid
}{
	// The canonical example: a duration percentile.
	{"gap p99", "gap.p99 < 10s",
		Threshold{Expr: "gap.p99 < 10s", Metric: "gap.p99", Op: "<", Value: 10e9, Kind: KindDuration}, ""},
	// No whitespace around the operator; surrounding whitespace is trimmed from Expr.
	{"no spaces", "  gap.p99<10s \t",
		Threshold{Expr: "gap.p99<10s", Metric: "gap.p99", Op: "<", Value: 10e9, Kind: KindDuration}, ""},
	// A step's percentile with <=.
	{"step create p95", "step.create.p95 <= 800ms",
		Threshold{Expr: "step.create.p95 <= 800ms", Metric: "step.create.p95", Op: "<=", Value: 800e6, Kind: KindDuration}, ""},
	// A fractional percentile of gap_min, microseconds written with µ.
	{"gap_min p99.9 µs", "gap_min.p99.9 > 250µs",
		Threshold{Expr: "gap_min.p99.9 > 250µs", Metric: "gap_min.p99.9", Op: ">", Value: 250e3, Kind: KindDuration}, ""},
	// The mean, microseconds written with u.
	{"lag mean us", "lag.mean < 250us",
		Threshold{Expr: "lag.mean < 250us", Metric: "lag.mean", Op: "<", Value: 250e3, Kind: KindDuration}, ""},
	// The max, a fractional duration, >=.
	{"journey max", "journey.max >= 1.5s",
		Threshold{Expr: "journey.max >= 1.5s", Metric: "journey.max", Op: ">=", Value: 1.5e9, Kind: KindDuration}, ""},
	// The min against zero, with a unit.
	{"gap min zero", "gap.min > 0s",
		Threshold{Expr: "gap.min > 0s", Metric: "gap.min", Op: ">", Value: 0, Kind: KindDuration}, ""},
	// p100 is allowed (it is the max).
	{"p100", "gap.p100 < 1m",
		Threshold{Expr: "gap.p100 < 1m", Metric: "gap.p100", Op: "<", Value: 60e9, Kind: KindDuration}, ""},
	// The auto message step is a step like the others.
	{"step automsg", "step.automsg.p50<2s",
		Threshold{Expr: "step.automsg.p50<2s", Metric: "step.automsg.p50", Op: "<", Value: 2e9, Kind: KindDuration}, ""},
	// A share below one percent: 0.1% is the fraction 0.001.
	{"window missed", "window.missed < 0.1%",
		Threshold{Expr: "window.missed < 0.1%", Metric: "window.missed", Op: "<", Value: 0.001, Kind: KindShare}, ""},
	// Errors as a share.
	{"errors", "errors < 1%",
		Threshold{Expr: "errors < 1%", Metric: "errors", Op: "<", Value: 0.01, Kind: KindShare}, ""},
	// A share from above.
	{"window in", "window.in >= 99.5%",
		Threshold{Expr: "window.in >= 99.5%", Metric: "window.in", Op: ">=", Value: 0.995, Kind: KindShare}, ""},
	// The whole range of shares: 0% and 100%.
	{"dropped 0%", "dropped <= 0%",
		Threshold{Expr: "dropped <= 0%", Metric: "dropped", Op: "<=", Value: 0, Kind: KindShare}, ""},
	{"uncertain 100%", "window.uncertain<=100%",
		Threshold{Expr: "window.uncertain<=100%", Metric: "window.uncertain", Op: "<=", Value: 1, Kind: KindShare}, ""},
	// automsg.missing parses as a share.
	{"automsg missing", "automsg.missing < 1%",
		Threshold{Expr: "automsg.missing < 1%", Metric: "automsg.missing", Op: "<", Value: 0.01, Kind: KindShare}, ""},
	// Counts are plain integers.
	{"count failed", "count.failed < 3",
		Threshold{Expr: "count.failed < 3", Metric: "count.failed", Op: "<", Value: 3, Kind: KindCount}, ""},
	{"count ok", "count.ok>0",
		Threshold{Expr: "count.ok>0", Metric: "count.ok", Op: ">", Value: 0, Kind: KindCount}, ""},

	// Nothing at all.
	{"empty", "  ", Threshold{}, `threshold "": empty; want METRIC OP VALUE, e.g. "gap.p99 < 10s"`},
	// No operator.
	{"no operator", "gap.p99 10s", Threshold{},
		`threshold "gap.p99 10s": no operator; want METRIC OP VALUE with OP one of <, <=, >, >=`},
	// Equality is not a threshold.
	{"==", "gap.p99 == 10s", Threshold{}, `threshold "gap.p99 == 10s": unsupported operator "=="; want <, <=, > or >=`},
	// A reversed operator.
	{"=>", "gap.p99 => 10s", Threshold{}, `threshold "gap.p99 => 10s": unsupported operator "=>"; want <, <=, > or >=`},
	// Not equal.
	{"!=", "errors != 1%", Threshold{}, `threshold "errors != 1%": unsupported operator "!="; want <, <=, > or >=`},
	// A doubled operator.
	{"<<", "gap.p99 << 10s", Threshold{}, `threshold "gap.p99 << 10s": unsupported operator "<<"; want <, <=, > or >=`},
	// No metric.
	{"no metric", "< 10s", Threshold{}, `threshold "< 10s": no metric before "<"`},
	// No value.
	{"no value", "gap.p99 <=", Threshold{}, `threshold "gap.p99 <=": no value after "<="`},
	// A percentile above 100.
	{"p101", "gap.p101 < 1s", Threshold{}, `threshold "gap.p101 < 1s": unknown metric "gap.p101": ` + thStatHelp},
	// The 0th percentile is not a percentile here (min is).
	{"p0", "gap.p0 < 1s", Threshold{}, `threshold "gap.p0 < 1s": unknown metric "gap.p0": ` + thStatHelp},
	// A malformed percentile.
	{"p99x", "lag.p99x < 1s", Threshold{}, `threshold "lag.p99x < 1s": unknown metric "lag.p99x": ` + thStatHelp},
	// A percentile on the 0–1 scale written with a dot first.
	{"p.99", "lag.p.99 < 1s", Threshold{}, `threshold "lag.p.99 < 1s": unknown metric "lag.p.99": ` + thStatHelp},
	// A histogram without a statistic.
	{"gap alone", "gap < 1s", Threshold{},
		`threshold "gap < 1s": metric "gap" needs a statistic, e.g. gap.p99, gap.max: ` + thStatHelp},
	// A step without a statistic.
	{"step alone", "step.create < 1s", Threshold{},
		`threshold "step.create < 1s": metric "step.create" needs a statistic, e.g. step.create.p99, step.create.max: ` + thStatHelp},
	// An unknown step.
	{"unknown step", "step.foo.p99 < 1s", Threshold{},
		`threshold "step.foo.p99 < 1s": unknown metric "step.foo.p99": steps are lookup, appjwt, consumerjws, create, send, automsg, close`},
	// An unknown metric.
	{"unknown metric", "latency.p99 < 1s", Threshold{},
		`threshold "latency.p99 < 1s": unknown metric "latency.p99": ` + thMetricsHelp},
	// A family name alone is not a metric.
	{"window alone", "window < 1%", Threshold{}, `threshold "window < 1%": unknown metric "window": ` + thMetricsHelp},
	// Metric names are case-sensitive.
	{"upper case", "GAP.p99 < 1s", Threshold{}, `threshold "GAP.p99 < 1s": unknown metric "GAP.p99": ` + thMetricsHelp},
	// A duration without a unit.
	{"bare number", "gap.p99 < 10", Threshold{},
		`threshold "gap.p99 < 10": gap.p99 needs a duration with a unit, such as 800ms or 10s; got "10"`},
	// Even zero needs a unit (time.ParseDuration would take it).
	{"bare zero", "lag.max < 0", Threshold{},
		`threshold "lag.max < 0": lag.max needs a duration with a unit, such as 800ms or 10s; got "0"`},
	// A space inside the duration.
	{"spaced duration", "gap.p99 < 10 s", Threshold{},
		`threshold "gap.p99 < 10 s": gap.p99 needs a duration with a unit, such as 800ms or 10s; got "10 s"`},
	// A negative duration.
	{"negative duration", "gap.p99 < -1s", Threshold{},
		`threshold "gap.p99 < -1s": gap.p99 needs a duration that is not negative; got "-1s"`},
	// A share written as a fraction.
	{"bare fraction", "errors < 0.01", Threshold{},
		`threshold "errors < 0.01": errors needs a percentage such as 1% or 0.1% (a bare fraction is ambiguous); got "0.01"`},
	// A share above 100%.
	{"150%", "errors < 150%", Threshold{},
		`threshold "errors < 150%": errors needs a percentage between 0% and 100%; got "150%"`},
	// A share with a space before %.
	{"spaced %", "dropped < 1 %", Threshold{},
		`threshold "dropped < 1 %": dropped needs a percentage such as 1% or 0.1% (a bare fraction is ambiguous); got "1 %"`},
	// A duration for a share.
	{"duration for share", "window.missed < 10s", Threshold{},
		`threshold "window.missed < 10s": window.missed needs a percentage such as 1% or 0.1% (a bare fraction is ambiguous); got "10s"`},
	// A fractional count.
	{"fractional count", "count.failed < 1.5", Threshold{},
		`threshold "count.failed < 1.5": count.failed needs a count, a non-negative integer such as 0 or 10; got "1.5"`},
	// A negative count.
	{"negative count", "count.failed < -1", Threshold{},
		`threshold "count.failed < -1": count.failed needs a count, a non-negative integer such as 0 or 10; got "-1"`},
	// A percentage for a count.
	{"share for count", "count.dropped < 1%", Threshold{},
		`threshold "count.dropped < 1%": count.dropped needs a count, a non-negative integer such as 0 or 10; got "1%"`},
	// A count too large for int64.
	{"huge count", "count.ok > 99999999999999999999", Threshold{},
		`threshold "count.ok > 99999999999999999999": count.ok needs a count, a non-negative integer such as 0 or 10; got "99999999999999999999"`},
}

func TestParseThreshold(t *testing.T) {
	t.Parallel()
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseThreshold(tt.in)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("ParseThreshold(%q) = %+v, want error %q", tt.in, got, tt.err)
				}
				if got, want := err.Error(), tt.err; got != want {
					t.Errorf("ParseThreshold(%q) error:\n got %s\nwant %s", tt.in, got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseThreshold(%q): %v", tt.in, err)
			}
			if got, want := got, tt.want; got != want {
				t.Errorf("ParseThreshold(%q) = %+v, want %+v", tt.in, got, want)
			}
		})
	}
}

func TestValueKindString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		k    ValueKind
		want string
	}{
		{KindDuration, "duration"}, // written with a unit
		{KindShare, "share"},       // written as a percentage
		{KindCount, "count"},       // written as an integer
		{ValueKind(9), "kind(9)"},  // not a kind
	}
	for _, tt := range tests {
		if got, want := tt.k.String(), tt.want; got != want {
			t.Errorf("ValueKind(%d).String() = %q, want %q", uint8(tt.k), got, want)
		}
	}
}

// mustThreshold parses expr or fails the test.
func mustThreshold(t testing.TB, expr string) Threshold {
	t.Helper()
	th, err := ParseThreshold(expr)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// thEquiv reports whether got is within HdrHistogram's resolution (0.1%) of want.
func thEquiv(got float64, want time.Duration) bool {
	return math.Abs(got-float64(want)) <= 0.001*float64(want)
}

func TestMeasureHistogramWiring(t *testing.T) {
	t.Parallel()
	// Each histogram holds one value of its own, so a metric read from the wrong one shows.
	m := NewMetrics()
	hdr.Record(m.Lag, 1*time.Millisecond)
	hdr.Record(m.Journey, 2*time.Millisecond)
	hdr.Record(m.Gap, 3*time.Millisecond)
	hdr.Record(m.GapMin, 4*time.Millisecond)
	hdr.Record(m.AutoMsg, 5*time.Millisecond)
	for s := range sample.NumSteps {
		hdr.Record(m.Steps[s], time.Duration(10+s)*time.Millisecond)
	}
	tests := []struct {
		metric string
		want   time.Duration
	}{
		{"lag.p50", 1 * time.Millisecond},               // actual − intended start
		{"journey.p50", 2 * time.Millisecond},           // end to end
		{"gap.p50", 3 * time.Millisecond},               // upper bound of the gap
		{"gap_min.p50", 4 * time.Millisecond},           // lower bound of the gap
		{"automsg.p50", 5 * time.Millisecond},           // create begin → first auto message
		{"step.lookup.p50", 10 * time.Millisecond},      // first step
		{"step.appjwt.p50", 11 * time.Millisecond},      // shared token
		{"step.consumerjws.p50", 12 * time.Millisecond}, // IdP
		{"step.create.p50", 13 * time.Millisecond},      // CONVERSATION
		{"step.send.p50", 14 * time.Millisecond},        // first SEND
		{"step.automsg.p50", 15 * time.Millisecond},     // waiting for the auto message
		{"step.close.p50", 16 * time.Millisecond},       // last step
	}
	for _, tt := range tests {
		got, ok := mustThreshold(t, tt.metric+" < 1s").Measure(m)
		if !ok {
			t.Errorf("%s: no data, want %v", tt.metric, tt.want)
			continue
		}
		if !thEquiv(got, tt.want) {
			t.Errorf("%s = %v, want ≈ %v", tt.metric, time.Duration(got), tt.want)
		}
	}
}

func TestMeasureStatistics(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	for i := 1; i <= 100; i++ {
		hdr.Record(m.Gap, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		metric string
		want   time.Duration
	}{
		{"gap.p1", 1 * time.Millisecond},       // percentiles are 0–100, not 0–1
		{"gap.p50", 50 * time.Millisecond},     // the median
		{"gap.p99", 99 * time.Millisecond},     // the tail
		{"gap.p99.9", 100 * time.Millisecond},  // a fractional percentile
		{"gap.p100", 100 * time.Millisecond},   // the max
		{"gap.min", 1 * time.Millisecond},      // the smallest value
		{"gap.max", 100 * time.Millisecond},    // the largest value
		{"gap.mean", 50500 * time.Microsecond}, // the mean, not a recorded value
	}
	for _, tt := range tests {
		got, ok := mustThreshold(t, tt.metric+" < 1s").Measure(m)
		if !ok {
			t.Errorf("%s: no data, want %v", tt.metric, tt.want)
			continue
		}
		if !thEquiv(got, tt.want) {
			t.Errorf("%s = %v, want ≈ %v", tt.metric, time.Duration(got), tt.want)
		}
	}
}

// thCounted returns metrics with 100 started journeys (97 ok, 2 failed, 1 interrupted), 95 judged
// (90 in, 3 missed, 2 uncertain) and 200 planned arrivals of which 4 were dropped.
func thCounted() *Metrics {
	m := NewMetrics()
	m.Outcomes = [sample.NumOutcomes]int64{sample.OutcomeOK: 97, sample.OutcomeFailed: 2, sample.OutcomeInterrupted: 1}
	m.Verdicts = [sample.NumVerdicts]int64{sample.VerdictNone: 5, sample.VerdictIn: 90, sample.VerdictMissed: 3, sample.VerdictUncertain: 2}
	m.Arrivals = Arrivals{Planned: 200, Started: 100, Dropped: 4, NotStarted: 96}
	return m
}

func TestMeasureSharesAndCounts(t *testing.T) {
	t.Parallel()
	m := thCounted()
	tests := []struct {
		metric string
		want   float64
		ok     bool
	}{
		{"window.in", 90.0 / 95, true},       // of the journeys judged, not of those started
		{"window.missed", 3.0 / 95, true},    // certainly late
		{"window.uncertain", 2.0 / 95, true}, // the client cannot tell
		{"errors", 2.0 / 99, true},           // of the ended journeys: interrupted ones are neither
		{"dropped", 4.0 / 200, true},         // of the planned arrivals
		{"automsg.missing", 0, false},        // no journey waited for an auto message
		{"count.ok", 97, true},               // journeys
		{"count.failed", 2, true},            // journeys
		{"count.interrupted", 1, true},       // journeys
		{"count.missed", 3, true},            // verdicts
		{"count.uncertain", 2, true},         // verdicts
		{"count.dropped", 4, true},           // arrivals
	}
	for _, tt := range tests {
		limit := " < 1%"
		if strings.HasPrefix(tt.metric, "count.") {
			limit = " < 1"
		}
		got, ok := mustThreshold(t, tt.metric+limit).Measure(m)
		if got, want := ok, tt.ok; got != want {
			t.Errorf("%s: ok = %v, want %v", tt.metric, got, want)
		}
		if got, want := got, tt.want; got != want {
			t.Errorf("%s = %v, want %v", tt.metric, got, want)
		}
	}
}

func TestMeasureNoData(t *testing.T) {
	t.Parallel()
	empty := NewMetrics()
	// Journeys ran, but the load generator's counts were not filled in, and nothing was judged.
	noArrivals := NewMetrics()
	noArrivals.Outcomes[sample.OutcomeOK] = 5
	// Every journey was interrupted: no ended journey to judge errors on.
	interrupted := NewMetrics()
	interrupted.Outcomes[sample.OutcomeInterrupted] = 3
	// A Metrics without histograms (built by hand, not by NewMetrics).
	bare := &Metrics{}
	tests := []struct {
		name string
		expr string
		m    *Metrics
		ok   bool
	}{
		{"empty histogram percentile", "gap.p99 < 10s", empty, false},
		{"empty histogram min", "lag.min > 0s", empty, false},
		{"empty histogram mean", "journey.mean < 1s", empty, false},
		{"empty step", "step.create.p95 < 800ms", empty, false},
		// Outcomes alone do not fill histograms.
		{"journeys but no gaps", "gap.max < 10s", noArrivals, false},
		{"nothing judged", "window.missed < 0.1%", noArrivals, false},
		{"no journey for errors", "errors < 1%", empty, false},
		{"errors with journeys", "errors < 1%", noArrivals, true},
		{"only interrupted: no errors share", "errors < 1%", interrupted, false},
		{"only interrupted: counted", "count.interrupted < 1", interrupted, true},
		{"no planned arrivals", "dropped < 1%", noArrivals, false},
		{"no planned arrivals count", "count.dropped < 1", noArrivals, false},
		{"no journey to count", "count.failed < 1", empty, false},
		{"no auto message awaited, even with journeys", "automsg.missing < 1%", noArrivals, false},
		{"nil metrics", "count.ok > 0", nil, false},
		{"nil histogram", "gap.p99 < 10s", bare, false},
	}
	for _, tt := range tests {
		_, ok := mustThreshold(t, tt.expr).Measure(tt.m)
		if got, want := ok, tt.ok; got != want {
			t.Errorf("%s: %q ok = %v, want %v", tt.name, tt.expr, got, want)
		}
	}
	// A Threshold built by hand with a metric the parser would reject measures nothing.
	if _, ok := (Threshold{Metric: "gap.p101", Op: "<", Value: 1}).Measure(thCounted()); ok {
		t.Errorf("unknown metric measured, want no data")
	}
}

func TestCheckBoundaries(t *testing.T) {
	t.Parallel()
	gap := NewMetrics()
	hdr.Record(gap.Gap, 5*time.Millisecond)
	v, _ := mustThreshold(t, "gap.p99 < 1s").Measure(gap)
	at := func(op string, delta float64) string { return fmt.Sprintf("gap.p99 %s %.0fns", op, v+delta) }

	// 1 failed of 1000 ended: exactly 0.1%, which is not exactly representable.
	errs := NewMetrics()
	errs.Outcomes[sample.OutcomeOK], errs.Outcomes[sample.OutcomeFailed] = 999, 1
	// 1 missed of 3 judged.
	third := NewMetrics()
	third.Verdicts[sample.VerdictIn], third.Verdicts[sample.VerdictMissed] = 2, 1
	third.Outcomes[sample.OutcomeOK] = 3
	fails := NewMetrics()
	fails.Outcomes[sample.OutcomeFailed] = 3

	tests := []struct {
		expr string
		m    *Metrics
		pass bool
	}{
		{at("<", 0), gap, false},   // strictly below: not at the value
		{at("<=", 0), gap, true},   // at the value
		{at(">", 0), gap, false},   // strictly above: not at the value
		{at(">=", 0), gap, true},   // at the value
		{at("<", 1), gap, true},    // one nanosecond of room
		{at(">", -1), gap, true},   // one nanosecond of room
		{at("<=", -1), gap, false}, // one nanosecond over
		{"errors < 0.1%", errs, false},
		{"errors <= 0.1%", errs, true}, // 0.1% and 1 of 1000 are the same float64
		{"errors >= 0.1%", errs, true},
		{"errors > 0.1%", errs, false},
		{"errors < 0.11%", errs, true},
		{"window.missed <= 33.333%", third, false}, // 33.333…% is above 33.333%
		{"window.missed < 33.334%", third, true},
		{"count.failed < 3", fails, false}, // at the count
		{"count.failed <= 3", fails, true},
		{"count.failed > 2", fails, true},
		{"count.failed >= 4", fails, false},
		{"count.failed >= 0", NewMetrics(), false}, // no data fails even a threshold that cannot fail
		{"gap.p99 < 10m", NewMetrics(), false},     // no data fails
	}
	for _, tt := range tests {
		_, _, pass := mustThreshold(t, tt.expr).Assess(tt.m)
		if got, want := pass, tt.pass; got != want {
			t.Errorf("%q: pass = %v, want %v", tt.expr, got, want)
		}
	}
	// An operator the parser would reject never passes.
	if _, ok, pass := (Threshold{Metric: "count.failed", Op: "==", Value: 3}).Assess(fails); !ok || pass {
		t.Errorf("op ==: ok, pass = %v, %v, want true, false", ok, pass)
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		v    float64
		want string
	}{
		{"gap.p99 < 10s", float64(912 * time.Millisecond), "912ms"},     // like the summary
		{"gap.p99 < 10s", float64(1234567 * time.Microsecond), "1.23s"}, // three digits
		{"gap.p99 < 10s", float64(10 * time.Second), "10.0s"},           // at the limit
		{"gap.p99 < 10s", float64(10004194303), "10.004194303s"},        // renders like the limit: in full
		{"lag.mean < 1ms", 250400.4, "250µs"},                           // a mean is rounded to the ns
		{"gap.min > 0s", 0, "0"},                                        // zero
		{"errors < 1%", 0.00123, "0.123%"},                              // a share as a percentage
		{"errors < 1%", 0.01, "1%"},                                     // at the limit
		{"errors < 1%", 0.0100002, "1.00002%"},                          // renders like the limit: in full
		{"errors < 1%", 0.0101, "1.01%"},                                // distinct from the limit
		{"errors < 1%", 0.000004, "0.0004%"},                            // too small for three decimals
		{"errors < 1%", 0, "0%"},                                        // none
		{"window.in >= 99.5%", 90.0 / 95, "94.737%"},                    // rounded to three decimals
		{"count.failed < 3", 2, "2"},                                    // an integer
		{"count.ok > 0", 1234567, "1234567"},                            // no exponent
	}
	for _, tt := range tests {
		if got, want := mustThreshold(t, tt.expr).Format(tt.v), tt.want; got != want {
			t.Errorf("%q Format(%v) = %q, want %q", tt.expr, tt.v, got, want)
		}
	}
}

func TestEval(t *testing.T) {
	t.Parallel()
	va := NewMetrics()
	va.Outcomes[sample.OutcomeOK], va.Outcomes[sample.OutcomeFailed] = 99, 1
	overall := NewMetrics()
	overall.Outcomes[sample.OutcomeOK], overall.Outcomes[sample.OutcomeFailed] = 190, 10
	byTarget := map[string]*Metrics{"va": va, "sy": nil}
	errs := mustThreshold(t, "errors < 2%")

	tests := []struct {
		name     string
		target   string
		overall  *Metrics
		byTarget map[string]*Metrics
		want     ThresholdResult
	}{
		// The whole run: 10 of 200.
		{"overall", "", overall, byTarget,
			ThresholdResult{Threshold: errs, Measured: 0.05, Pass: false}},
		// One target: 1 of 100.
		{"target", "va", overall, byTarget,
			ThresholdResult{Threshold: errs, Target: "va", Measured: 0.01, Pass: true}},
		// A target the run does not have: no data, no panic.
		{"unknown target", "lo", overall, byTarget,
			ThresholdResult{Threshold: errs, Target: "lo", NoData: true}},
		// A target without metrics.
		{"nil target", "sy", overall, byTarget,
			ThresholdResult{Threshold: errs, Target: "sy", NoData: true}},
		// No map at all.
		{"nil map", "va", overall, nil,
			ThresholdResult{Threshold: errs, Target: "va", NoData: true}},
		// No overall metrics.
		{"nil overall", "", nil, byTarget,
			ThresholdResult{Threshold: errs, NoData: true}},
	}
	for _, tt := range tests {
		st := ScopedThreshold{Threshold: errs, Target: tt.target}
		if got, want := st.Eval(tt.overall, tt.byTarget), tt.want; got != want {
			t.Errorf("%s: Eval = %+v, want %+v", tt.name, got, want)
		}
	}

	rs := EvalThresholds([]ScopedThreshold{{Threshold: errs}, {Threshold: errs, Target: "va"}}, overall, byTarget)
	if got, want := len(rs), 2; got != want {
		t.Fatalf("EvalThresholds returned %d results, want %d", got, want)
	}
	if got, want := rs[0].Target+"|"+rs[1].Target, "|va"; got != want {
		t.Errorf("EvalThresholds targets = %q, want %q (in order)", got, want)
	}
	if got, want := rs[1].Pass, true; got != want {
		t.Errorf("EvalThresholds[1].Pass = %v, want %v", got, want)
	}
}

func TestFinal(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	m.Outcomes[sample.OutcomeOK], m.Outcomes[sample.OutcomeFailed] = 5, 5
	m.Verdicts[sample.VerdictIn] = 10
	for _, d := range []time.Duration{time.Millisecond, time.Second, 20 * time.Second} {
		hdr.Record(m.Gap, d)
	}
	tests := []struct {
		expr string
		m    *Metrics
		want bool
	}{
		{"count.failed < 3", m, true},    // a count only grows
		{"count.failed <= 4", m, true},   // a count only grows
		{"count.ok > 9", m, false},       // a count may still grow past the limit
		{"gap.max < 10s", m, true},       // a max only grows
		{"gap.p100 <= 10s", m, true},     // p100 is the max
		{"gap.min > 10ms", m, true},      // a min only shrinks
		{"gap.max > 30s", m, false},      // a max may still grow past the limit
		{"gap.p99 < 10s", m, false},      // a percentile may recover
		{"gap.mean < 1s", m, false},      // a mean may recover
		{"errors < 1%", m, false},        // a share may recover
		{"count.failed < 6", m, false},   // passing
		{"count.failed < 3", nil, false}, // no data yet
	}
	for _, tt := range tests {
		r := ScopedThreshold{Threshold: mustThreshold(t, tt.expr)}.Eval(tt.m, nil)
		if got, want := r.Final(), tt.want; got != want {
			t.Errorf("%q (measured %v, pass %v): Final() = %v, want %v", tt.expr, r.Measured, r.Pass, got, want)
		}
	}
}

func TestBreached(t *testing.T) {
	t.Parallel()
	pass := ThresholdResult{Pass: true}
	fail := ThresholdResult{}
	noData := ThresholdResult{NoData: true}
	tests := []struct {
		name string
		rs   []ThresholdResult
		want bool
	}{
		{"none", nil, false}, // no thresholds: nothing breached
		{"all pass", []ThresholdResult{pass, pass}, false},
		{"one fails", []ThresholdResult{pass, fail}, true},
		{"no data", []ThresholdResult{pass, noData}, true}, // nothing measured is a breach
	}
	for _, tt := range tests {
		if got, want := Breached(tt.rs), tt.want; got != want {
			t.Errorf("%s: Breached = %v, want %v", tt.name, got, want)
		}
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	f.Add("gap.p99.99999999999999999999 < 1ns")
	f.Add("errors <= 0.000000000000000000001%")
	f.Add("step..p99 < 1s")
	m := thCounted()
	hdr.Record(m.Gap, time.Second)
	f.Fuzz(func(t *testing.T, in string) {
		th, err := ParseThreshold(in)
		if err != nil {
			if th != (Threshold{}) {
				t.Errorf("ParseThreshold(%q) = %+v with error %v, want the zero Threshold", in, th, err)
			}
			return
		}
		again, err := ParseThreshold(th.Expr)
		if err != nil {
			t.Fatalf("ParseThreshold(%q) accepted, re-parsing its Expr %q: %v", in, th.Expr, err)
		}
		if again != th {
			t.Errorf("ParseThreshold(%q) = %+v, re-parsing its Expr gives %+v", in, th, again)
		}
		if math.IsNaN(th.Value) || math.IsInf(th.Value, 0) || th.Value < 0 {
			t.Errorf("ParseThreshold(%q).Value = %v, want a finite non-negative number", in, th.Value)
		}
		if th.Kind == KindShare && th.Value > 1 {
			t.Errorf("ParseThreshold(%q).Value = %v, want a share at most 1", in, th.Value)
		}
		// Everything an accepted threshold leads to must not panic either.
		v, _, _ := th.Assess(m)
		_ = th.Format(v)
		_ = ScopedThreshold{Threshold: th, Target: "x"}.Eval(m, nil).Final()
	})
}

// TestAutoMsgMissing: the share of in-window journeys that waited for their first auto message and
// did not get it; missed-window journeys do not count.
func TestAutoMsgMissing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		awaited, received [sample.NumVerdicts]int64
		want              float64
		ok                bool
	}{
		// In-window journeys that got none count, and so do uncertain and missed ones that waited:
		// a consumer is unserved whatever the timing said. 10 + 20 + 50 of 300.
		{"every verdict", [sample.NumVerdicts]int64{sample.VerdictIn: 200, sample.VerdictUncertain: 50, sample.VerdictMissed: 50},
			[sample.NumVerdicts]int64{sample.VerdictIn: 190, sample.VerdictUncertain: 30}, 80.0 / 300, true},
		// Nothing waited (auto messages not verified): no data, which never passes.
		{"not verified", [sample.NumVerdicts]int64{}, [sample.NumVerdicts]int64{}, 0, false},
	} {
		m := NewMetrics()
		m.AutoMsgAwaited, m.AutoMsgReceived = tc.awaited, tc.received
		th, err := ParseThreshold("automsg.missing < 1%")
		if err != nil {
			t.Fatal(err)
		}
		v, ok, pass := th.Assess(m)
		if ok != tc.ok || pass || math.Abs(v-tc.want) > 1e-12 {
			t.Errorf("%s: automsg.missing = %v (ok %v, pass %v), want %v failing (ok %v)", tc.name, v, ok, pass, tc.want, tc.ok)
		}
	}
}

// TestWindowNotIn: window.not_in is the share of judged journeys not certainly in the window.
func TestWindowNotIn(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	m.Verdicts[sample.VerdictIn], m.Verdicts[sample.VerdictUncertain], m.Verdicts[sample.VerdictMissed] = 90, 7, 3
	m.Verdicts[sample.VerdictNone] = 40 // never judged: not counted
	th, err := ParseThreshold("window.not_in < 5%")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, pass := th.Assess(m); !ok || pass || math.Abs(v-0.10) > 1e-12 {
		t.Errorf("window.not_in = %v (ok %v, pass %v), want 0.10 failing", v, ok, pass)
	}
}
