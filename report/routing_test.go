package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
	"github.com/lpbench/lpbench/sample"
)

// routedResult returns the one-target summary result of a target that asked for skill 1234:
// 10 conversations checked, 7 on it, 2 on another skill, 1 whose skill was never seen.
func routedResult() *report.Result {
	r := reporttest.SummaryResult()
	m := r.PerTarget[0]
	for range 7 {
		m.AddForTest(&sample.Record{Routing: sample.RoutingMatched})
	}
	for range 2 {
		m.AddForTest(&sample.Record{Routing: sample.RoutingMismatched})
	}
	m.AddForTest(&sample.Record{Routing: sample.RoutingUnseen})
	m.AddForTest(&sample.Record{}) // not checked: not counted
	r.Targets[0].Skill = "1234"
	return r
}

// TestRoutingMismatched: routing.mismatched is the share of checked conversations on another
// skill than the one asked for; no data when no conversation was checked.
func TestRoutingMismatched(t *testing.T) {
	t.Parallel()
	th, err := report.ParseThreshold("routing.mismatched < 10%")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, pass := th.Assess(routedResult().Overall); !ok || pass || v != 0.2 {
		t.Errorf("routing.mismatched = %v (data %v, pass %v), want 0.2 failing", v, ok, pass)
	}
	if _, ok, pass := th.Assess(report.NewMetrics()); ok || pass {
		t.Errorf("routing.mismatched with nothing checked: data %v, pass %v; want no data, failing", ok, pass)
	}
	m := report.NewMetrics()
	m.AddForTest(&sample.Record{Routing: sample.RoutingMatched})
	if v, ok, pass := th.Assess(m); !ok || !pass || v != 0 {
		t.Errorf("routing.mismatched of one matched = %v (data %v, pass %v)", v, ok, pass)
	}
}

// TestRoutingSummaryAndFile: the summary says where the conversations went ("routed to skill
// 1234: 7 of 10", the others named); result.json carries the counts and the skill and reads them
// back, merging adds them, and a result without them (an older file) reads as nothing checked.
func TestRoutingSummaryAndFile(t *testing.T) {
	t.Parallel()
	r := routedResult()
	want := "routed to skill 1234: 7 of 10, 2 to another skill (routing.mismatched), 1 with no conversation change seen\n"
	if out := summary(t, r); !strings.Contains(out, want) {
		t.Errorf("summary lacks %q:\n%s", want, out)
	}
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"routing": {`, `"matched": 7`, `"mismatched": 2`, `"unseen": 1`, `"routing_skill": "1234"`} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("result.json lacks %s", w)
		}
	}
	back, err := report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if out := summary(t, back); !strings.Contains(out, want) {
		t.Errorf("read back, the summary lacks %q:\n%s", want, out)
	}
	merged := report.NewMetrics()
	merged.Window = back.Overall.Window
	for range 2 {
		if err := merged.Merge(back.Overall); err != nil {
			t.Fatal(err)
		}
	}
	if checked, matched, mismatched := merged.RoutingChecked(); checked != 20 || matched != 14 || mismatched != 4 {
		t.Errorf("merged routing: %d checked, %d matched, %d mismatched", checked, matched, mismatched)
	}

	old := reporttest.SummaryResult()
	b.Reset()
	if err := report.WriteJSON(&b, old); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `"routing`) {
		t.Errorf("a result without routing writes routing keys:\n%s", b.String())
	}
	back, err = report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if checked, _, _ := back.Overall.RoutingChecked(); checked != 0 || strings.Contains(summary(t, back), "routed to") {
		t.Errorf("a result without routing reads %d checked", checked)
	}

	// A skill asked for where no change notification could be received: said, not hidden.
	unverified := reporttest.SummaryResult()
	unverified.Targets[0].Skill = "1234"
	if out := summary(t, unverified); !strings.Contains(out, "routed to skill 1234: not verified") {
		t.Errorf("summary of an unverified routing:\n%s", out)
	}
}

// summary renders r's terminal summary.
func summary(t *testing.T, r *report.Result) string {
	t.Helper()
	var b strings.Builder
	if err := render.Summary(r)(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
