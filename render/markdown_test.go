package render

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
	"github.com/lpbench/lpbench/sample"
)

func markdown(t *testing.T, r *report.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeMarkdown(&b, r); err != nil {
		t.Fatalf("writeMarkdown: %v", err)
	}
	return b.String()
}

// holdingChecks are the six checks of a valid measurement.
func holdingChecks() []report.Check {
	cs := reporttest.SampleChecks()
	for i := range cs {
		cs[i].OK, cs[i].Relaxed = true, false
	}
	return cs
}

// multiTargetResult has two targets, one of them with a pipe and markup in its name, a region
// and unverified TLS, and thresholds scoped to each.
func multiTargetResult(t *testing.T) *report.Result {
	t.Helper()
	a, b := reporttest.SummaryMetrics(), reporttest.SummaryMetrics()
	b.Outcomes[sample.OutcomeFailed] = 30
	all := reporttest.SummaryMetrics()
	if err := all.Merge(b); err != nil {
		t.Fatal(err)
	}
	r := reporttest.SummaryResult()
	r.Targets = []report.TargetInfo{{Name: "va", Account: "111", Kind: "sim"}, {Name: "lo|<b>x</b>", Account: "222", Kind: "live", Region: "eu", Insecure: true}}
	r.PerTarget, r.Overall = []*report.Metrics{a, b}, all
	var ths []report.ScopedThreshold
	for _, e := range []struct{ expr, target string }{{"errors < 20%", ""}, {"step.create.max < 10s", "va"}, {"errors < 5%", "lo|<b>x</b>"}} {
		th, err := report.ParseThreshold(e.expr)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, report.ScopedThreshold{Threshold: th, Target: e.target})
	}
	r.Thresholds = report.EvalThresholds(ths, r.Overall, r.ByTarget())
	r.Checks = holdingChecks()
	return r
}

// TestWriteMarkdownGolden renders a verified run whose thresholds partly fail, an unverified
// run, a run whose measurement is not valid and a run of two targets.
func TestWriteMarkdownGolden(t *testing.T) {
	t.Parallel()
	verified := verifiedResult()
	verified.Thresholds = junitResult(t).Thresholds
	verified.Checks = holdingChecks()
	notValid := reporttest.SummaryResult()
	notValid.Checks = reporttest.SampleChecks()
	notValid.Arrivals.Late = 2
	for _, tc := range []struct {
		golden string
		r      *report.Result
	}{
		{"markdown_verified.golden", verified},
		{"markdown_unverified.golden", reporttest.SummaryResult()},
		{"markdown_checks.golden", notValid},
		{"markdown_targets.golden", multiTargetResult(t)},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			out := markdown(t, tc.r)
			checkGolden(t, tc.golden, out)
			checkTables(t, out)
		})
	}
}

// relayedResult is verifiedResult through a webhook relay: its target's receiver counted every
// kind of delivery, and the relay's hop was measured, one hop with the relay's clock ahead.
func relayedResult() *report.Result {
	r := verifiedResult()
	r.Relay = "http://lpbench-relay:8080"
	h := report.NewRelayHop()
	for _, d := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 40 * time.Millisecond} {
		h.Record(d)
	}
	h.Record(-time.Millisecond)
	r.Targets[0].Webhooks = &sample.WebhookStats{Received: 80, AutoMessages: 72, Duplicates: 3, Late: 2, Unmatched: 1, Echoes: 88,
		BadSignature: 4, Undecodable: 1, Overflow: 5, Reordered: 6, Relayed: 80, RelayDropped: 7, RelayMissed: 8, RelayReconnects: 1}
	r.Targets[0].RelayHop = h
	return r
}

// TestWriteMarkdownWebhooks: the markdown shows the auto-message evidence of the terminal
// summary, line for line: the webhooks line (received, first auto messages, duplicates, late,
// unmatched, echoes, bad signatures, dropped, out of order) and the relay's with its hop.
func TestWriteMarkdownWebhooks(t *testing.T) {
	t.Parallel()
	r := relayedResult()
	out, text := markdown(t, r), summary(t, r)
	checkGolden(t, "markdown_relay.golden", out)
	checkTables(t, out)
	n := 0
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "webhooks: ") && !strings.HasPrefix(l, "webhook relay ") && !strings.HasPrefix(l, "relay hop ") {
			continue
		}
		n++
		if !strings.Contains(out, mdText(l)) {
			t.Errorf("markdown lacks the summary's line %q:\n%s", l, out)
		}
	}
	if n != 3 {
		t.Errorf("the summary has %d webhook, relay and hop lines, want 3:\n%s", n, text)
	}
	for _, want := range []string{"first auto messages 72", "dropped (queue full) 5", "out of order 6", "dropped by the relay 7 (shard too slow)",
		"relay hop (relay receive → shard receive", "1 negative (the relay's clock ahead)"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

// TestWriteMarkdownContent: the headline comes first and is the terminal summary's served line
// word for word; an unverified run says so; the exit code and its meaning are shown; failing
// thresholds and checks read FAIL.
func TestWriteMarkdownContent(t *testing.T) {
	t.Parallel()
	served := regexp.MustCompile(`(?m)^served    (.*)$`)
	for _, tc := range []struct {
		name string
		r    *report.Result
		want []string
		not  []string
	}{
		// Verified: the evidence, no "not verified", exit 3 for the failed threshold.
		{"verified", func() *report.Result { r := verifiedResult(); r.Thresholds = junitResult(t).Thresholds; return r }(),
			[]string{"**exit 3**: a threshold was breached", "| `step.create.p95 < 1ms` | va | 2.86s | ❌ FAIL |", "❌ FAIL", "> **ANOMALY**: 1 consumers got an auto message", "| in | 70 | 89.74% | gap \\< window | 68 of 70 |"},
			[]string{"NOT verified"}},
		// Unverified: the summary's warning follows the served line.
		{"unverified", reporttest.SummaryResult(),
			[]string{"auto messages were NOT verified:<br>\ntiming alone cannot prove a consumer got its auto message", "**exit 0**"},
			[]string{"auto message received"}},
		// Not valid: exit 4 wins, each failing check is FAIL, the relaxed one is marked.
		{"not valid", func() *report.Result { r := reporttest.SummaryResult(); r.Checks = reporttest.SampleChecks(); return r }(),
			[]string{"**exit 4**: the measurement is not valid", "### Measurement NOT VALID: 2 of 6 checks failed", "| `generator_lag` | lag p99 38ms", "| `stationary [va]` |", "⚠️ failed, relaxed"},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := markdown(t, tc.r)
			m := served.FindStringSubmatch(summary(t, tc.r))
			if m == nil {
				t.Fatal("the summary has no served line")
			}
			first := strings.SplitN(out, "\n", 4)
			if want := "**served**: " + mdText(m[1]); !strings.HasPrefix(first[2], want) {
				t.Errorf("markdown's headline is %q, want it to start with the summary's served line %q", first[2], want)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("markdown lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w) {
					t.Errorf("markdown has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestWriteMarkdownEscapes: a pipe or markup in a name is escaped, so it neither breaks a table
// nor opens an HTML tag.
func TestWriteMarkdownEscapes(t *testing.T) {
	t.Parallel()
	out := markdown(t, multiTargetResult(t))
	for _, w := range []string{`### Target lo\|\<b\>x\</b\> (account 222, live, region eu)`, "| `errors < 5%` | lo\\|\\<b\\>x\\</b\\> |"} {
		if !strings.Contains(out, w) {
			t.Errorf("markdown lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "<b>") {
		t.Errorf("markdown carries the raw tag <b>:\n%s", out)
	}
	for _, tc := range []struct{ in, want string }{
		{"a|b", "`a\\|b`"},   // a pipe in a cell's code span
		{"a`b", "`` a`b ``"}, // a backtick inside: a longer fence
		{"", ""},
	} {
		if got := mdCode(tc.in); got != tc.want {
			t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// checkTables checks that every row of every table has the cells of its header: a pipe that
// was not escaped would add one.
func checkTables(t *testing.T, md string) {
	t.Helper()
	cells := func(line string) int { return len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(line, -1)) }
	want := 0
	for i, line := range strings.Split(md, "\n") {
		switch {
		case !strings.HasPrefix(line, "|"):
			want = 0
		case want == 0:
			want = cells(line)
		case cells(line) != want:
			t.Errorf("line %d has %d cell borders, its table's header %d: %s", i+1, cells(line), want, line)
		}
	}
}

// TestWriteCapacityMarkdownGolden renders a capacity search.
func TestWriteCapacityMarkdownGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := writeCapacityMarkdown(&b, reporttest.CapacityFixture()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "capacity_markdown.golden", b.String())
	checkTables(t, b.String())
	if !strings.Contains(b.String(), "**sustainable: 103.125 journeys/s (between 103.125 and 106.25)") {
		t.Errorf("capacity markdown lacks its headline:\n%s", b.String())
	}
}
