package render

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
	"github.com/lpbench/lpbench/sample"
)

func summary(t *testing.T, r *report.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeSummary(&b, r); err != nil {
		t.Fatalf("writeSummary: %v", err)
	}
	return b.String()
}

func TestWriteSummaryGolden(t *testing.T) {
	t.Parallel()
	checkGolden(t, "summary.golden", summary(t, reporttest.SummaryResult()))
}

// verifiedResult is summaryResult with its auto messages verified: some journeys of every verdict
// waited, and one got an auto message after a certainly missed window (the anomaly).
func verifiedResult() *report.Result {
	r := reporttest.SummaryResult()
	m := r.Overall
	m.AutoMsgAwaited[sample.VerdictIn], m.AutoMsgReceived[sample.VerdictIn] = 70, 68
	m.AutoMsgAwaited[sample.VerdictUncertain], m.AutoMsgReceived[sample.VerdictUncertain] = 6, 3
	m.AutoMsgAwaited[sample.VerdictMissed], m.AutoMsgReceived[sample.VerdictMissed] = 2, 1
	m.Outcomes[sample.OutcomeOK], m.Outcomes[sample.OutcomeFailed] = 72, 16
	m.Arrivals = r.Arrivals // 6 dropped
	return r
}

func TestWriteSummaryVerifiedGolden(t *testing.T) {
	t.Parallel()
	out := summary(t, verifiedResult())
	checkGolden(t, "summary_verified.golden", out)
	for _, want := range []string{
		"served    first auto message received by 72 of 88 consumers (81.82%)\n",
		"ANOMALY   1 consumers got an auto message although their first SEND certainly missed the window",
		"auto message received 3 of 6\n",
		"and 6 planned consumers were never started (dropped by the generator: see measurement)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "NOT verified") {
		t.Errorf("a verified run's summary says it was not verified:\n%s", out)
	}
}

func TestWriteSummaryContent(t *testing.T) {
	t.Parallel()
	out := summary(t, reporttest.SummaryResult())
	tests := []struct {
		name string
		re   string // a multi-line regexp that must match
	}{
		// The header echoes the run's shape.
		{"header", `^lpbench smoke: 1 target\(s\), 1\.5/s for 1m0s, max in flight 64, window 10s\n`},
		{"run line", `(?m)^ran 1m1\.235s \(completed\), started 2025-03-14T15:09:26Z$`},
		// The two identities, with numbers that add up.
		{"arrival identity", `(?m)^arrivals  planned 100 = started 90 \+ dropped 6 \+ not started 4$`},
		{"outcome identity", `(?m)^journeys  started 90 = ok 80 \+ failed 8 \+ interrupted 2$`},
		// The verdicts: journeys judged, then count and share of each.
		{"judged", `(?m)^window 10s \(first SEND after CONVERSATION\), 78 journeys judged:$`},
		{"in row", `(?m)^ +in +70 +89\.74% +gap < window *$`},
		{"uncertain row", `(?m)^ +uncertain +6 +7\.69% +gap_min < window ≤ gap *$`},
		{"missed row", `(?m)^ +missed +2 +2\.56% +gap_min ≥ window *$`},
		{"gap p99 line", `(?m)^  gap p99 \S+, max \S+: \S+ of the window left at p99$`},
		// One latency row per measured step, with its count.
		{"latency header", `(?m)^ *latency +count +p50 +p90 +p99 +p99\.9 +max *$`},
		{"step.lookup", `(?m)^ *step\.lookup +90 `},
		{"step.appjwt", `(?m)^ *step\.appjwt \(cached\) +90 +hit +hit `},
		{"step.consumerjws", `(?m)^ *step\.consumerjws +89 `},
		{"step.create", `(?m)^ *step\.create +84 `},
		{"step.send", `(?m)^ *step\.send +82 `},
		{"step.close", `(?m)^ *step\.close +81 `},
		{"gap", `(?m)^ *gap +78 `},
		{"gap_min", `(?m)^ *gap_min +78 `},
		{"journey", `(?m)^ *journey +88 `},
		{"lag", `(?m)^ *lag +90 `},
		// Requests per step, auto messages excluded.
		{"requests", `(?m)^requests: lookup 90, appjwt 0, consumerjws 90, create 95, send 84, close 84$`},
		{"shared fetches", `(?m)^shared fetches: AppJWT 3, domain lookups \(cached\) 1$`},
		// The failure table: step, class, count, in step order.
		{"failure table", `(?m)^failed journeys \(step, class, count\):\n  consumerjws +auth +1\n  create +http_5xx +5\n  send +window_missed +2\n  send +canceled +2\n`},
		// Step failures that decided no journey.
		{"other failed steps", `(?m)^other failed steps \(step, class, count\):\n  close +network +3\n`},
	}
	bad := false
	for _, tt := range tests {
		if !regexp.MustCompile(tt.re).MatchString(out) {
			t.Errorf("%s: no match for %s", tt.name, tt.re)
			bad = true
		}
	}
	if bad {
		t.Logf("summary:\n%s", out)
	}
	// Auto messages were not measured: no row.
	if strings.Contains(out, "step.automsg") {
		t.Errorf("summary has a step.automsg row with no auto message measured:\n%s", out)
	}
	// Single target: no per-target headers.
	if strings.Contains(out, "== ") {
		t.Errorf("one-target summary has target headers:\n%s", out)
	}
}

func TestWriteSummaryNoFailures(t *testing.T) {
	t.Parallel()
	m := report.NewMetrics()
	m.Outcomes[sample.OutcomeOK] = 3
	m.Verdicts[sample.VerdictIn] = 3
	reporttest.Fill(m.Steps[sample.AutoMsg], 3, time.Second, 2*time.Second)
	r := &report.Result{Profile: "p", Window: 10 * time.Second, Targets: []report.TargetInfo{{Name: "a"}}, PerTarget: []*report.Metrics{m}, Overall: m}
	out := summary(t, r)
	for _, want := range []string{`(?m)^failed journeys: none$`, `(?m)^ *step\.automsg +3 `} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("summary does not match %s:\n%s", want, out)
		}
	}
	for _, bad := range []string{"other failed steps", "gap p99"} {
		if strings.Contains(out, bad) {
			t.Errorf("summary has %q:\n%s", bad, out)
		}
	}
}

func TestWriteSummaryNothingJudged(t *testing.T) {
	t.Parallel()
	m := report.NewMetrics()
	r := &report.Result{Window: 10 * time.Second, Targets: []report.TargetInfo{{Name: "a"}}, PerTarget: []*report.Metrics{m}, Overall: m}
	out := summary(t, r)
	// No division by zero: shares read "-".
	if !regexp.MustCompile(`(?m)^ +in +0 +- +gap < window *$`).MatchString(out) {
		t.Errorf("empty run's in row does not show a share of -:\n%s", out)
	}
}

func TestWriteSummaryTargets(t *testing.T) {
	t.Parallel()
	a, b := reporttest.SummaryMetrics(), report.NewMetrics()
	b.Outcomes[sample.OutcomeOK] = 7
	all := report.NewMetrics()
	all.Outcomes[sample.OutcomeOK] = 87
	r := reporttest.SummaryResult()
	r.Targets = []report.TargetInfo{{Name: "va", Account: "111", Kind: "sim"}, {Name: "lo", Account: "222", Kind: "live"}}
	r.PerTarget = []*report.Metrics{a, b}
	r.Overall = all
	out := summary(t, r)
	want := []string{
		"== target va (account 111, sim)\nserved    first SEND certainly inside the window for 70 of 88 consumers",
		"journeys  started 90 ",
		"== target lo (account 222, live)\nserved    first SEND certainly inside the window for 0 of 7 consumers",
		"journeys  started 7 = ok 7 ",
		"== all targets\nserved    first SEND certainly inside the window for 0 of 87 consumers",
		"journeys  started 87 = ok 87 ",
	}
	last := -1
	for _, w := range want {
		i := strings.Index(out, w)
		if i < 0 {
			t.Errorf("summary lacks %q:\n%s", w, out)
			continue
		}
		if i < last {
			t.Errorf("%q is out of order:\n%s", w, out)
		}
		last = i
	}
}

// TestWriteSummaryEmptyRow checks that a histogram with no values reads 0 in every column.
func TestWriteSummaryEmptyRow(t *testing.T) {
	t.Parallel()
	m := report.NewMetrics()
	r := &report.Result{Window: 10 * time.Second, Targets: []report.TargetInfo{{Name: "a"}}, PerTarget: []*report.Metrics{m}, Overall: m}
	out := summary(t, r)
	if re := regexp.MustCompile(`(?m)^ *step\.lookup +0 +0 +0 +0 +0 +0 *$`); !re.MatchString(out) {
		t.Errorf("empty step.lookup row does not match %v:\n%s", re, out)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteSummaryWriteError(t *testing.T) {
	t.Parallel()
	if err := writeSummary(failingWriter{}, reporttest.SummaryResult()); err == nil {
		t.Error("writeSummary to a failing writer returned nil")
	}
}

// roundTrip writes r as a result file and reads it back, as merge does.
func roundTrip(t *testing.T, r *report.Result) *report.Result {
	t.Helper()
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}
