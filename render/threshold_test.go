package render

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

func TestWriteThresholdsGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeThresholds(&b, thresholdResults(t)); err != nil {
		t.Fatalf("writeThresholds: %v", err)
	}
	checkGolden(t, "thresholds.golden", b.String())
}

func TestWriteThresholdsEmpty(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeThresholds(&b, nil); err != nil {
		t.Fatalf("writeThresholds: %v", err)
	}
	if got, want := b.String(), "thresholds: 0 passed, 0 failed\n"; got != want {
		t.Errorf("writeThresholds(nil) = %q, want %q", got, want)
	}
}

// thErrWriter fails every write.
type thErrWriter struct{}

func (thErrWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteThresholdsWriteError(t *testing.T) {
	t.Parallel()
	if err := writeThresholds(thErrWriter{}, thresholdResults(t)); err == nil {
		t.Error("writeThresholds to a failing writer returned nil, want the error")
	}
}

// thresholdResults returns the results the golden table is made of: passes, failures, a target,
// no data, and automsg.missing without an auto message awaited.
func thresholdResults(t testing.TB) []report.ThresholdResult {
	t.Helper()
	overall := thCounted()
	for i := 1; i <= 100; i++ {
		hdr.Record(overall.Gap, time.Duration(i)*100*time.Millisecond)
		hdr.Record(overall.Steps[sample.Create], time.Duration(i)*10*time.Millisecond)
	}
	hdr.Record(overall.Lag, 10*time.Second+4194303)
	va := report.NewMetrics()
	va.Outcomes[sample.OutcomeOK], va.Outcomes[sample.OutcomeFailed] = 999, 1
	var ths []report.ScopedThreshold
	for _, s := range []struct{ target, expr string }{
		{"", "gap.p99 < 10s"},
		{"", "gap.p90 < 10s"},
		{"", "window.missed < 0.1%"},
		{"", "errors < 5%"},
		{"va", "errors<=0.1%"},
		{"", "step.create.p95 < 800ms"},
		{"", "lag.max < 10s"},
		{"", "count.dropped <= 4"},
		{"va", "gap.p99 < 10s"},
		{"lo", "errors < 1%"},
		{"", "automsg.missing < 1%"},
	} {
		ths = append(ths, report.ScopedThreshold{Threshold: mustThreshold(t, s.expr), Target: s.target})
	}
	return report.EvalThresholds(ths, overall, map[string]*report.Metrics{"va": va})
}

// mustThreshold parses expr or fails the test.
func mustThreshold(t testing.TB, expr string) report.Threshold {
	t.Helper()
	th, err := report.ParseThreshold(expr)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// thCounted returns metrics with 100 started journeys (97 ok, 2 failed, 1 interrupted), 95 judged
// (90 in, 3 missed, 2 uncertain) and 200 planned arrivals of which 4 were dropped.
func thCounted() *report.Metrics {
	m := report.NewMetrics()
	m.Outcomes = [sample.NumOutcomes]int64{sample.OutcomeOK: 97, sample.OutcomeFailed: 2, sample.OutcomeInterrupted: 1}
	m.Verdicts = [sample.NumVerdicts]int64{sample.VerdictNone: 5, sample.VerdictIn: 90, sample.VerdictMissed: 3, sample.VerdictUncertain: 2}
	m.Arrivals = report.Arrivals{Planned: 200, Started: 100, Dropped: 4, NotStarted: 96}
	return m
}
