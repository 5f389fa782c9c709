package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// The tables of report.html for one set of journeys (the whole run's or a target's), and the
// targets side by side.

// metricsTables are the tables of one set of journeys (the whole run's or a target's), in the
// order of the terminal summary.
func metricsTables(m *report.Metrics, a report.Arrivals, window time.Duration) []htmlTable {
	o := m.Outcomes
	started := m.Started()
	counts := htmlTable{Caption: "Arrivals and outcomes", Head: []string{"", "count", "share"},
		Rows: [][]htmlCell{
			{cellText("arrivals planned"), cellCount(a.Planned), cellNum(share(a.Planned, a.Planned))},
			{cellText("started"), cellCount(a.Started), cellNum(share(a.Started, a.Planned))},
			{cellText("dropped (pool full)"), cellCount(a.Dropped), cellNum(share(a.Dropped, a.Planned))},
			{cellText("not started (stopped)"), cellCount(a.NotStarted), cellNum(share(a.NotStarted, a.Planned))},
			{cellText("journeys recorded"), cellCount(started), cellNum(share(started, started))},
			{cellText("ok"), cellCount(o[sample.OutcomeOK]), cellNum(share(o[sample.OutcomeOK], started))},
			{cellText("failed"), cellCount(o[sample.OutcomeFailed]), cellNum(share(o[sample.OutcomeFailed], started))},
			{cellText("interrupted"), cellCount(o[sample.OutcomeInterrupted]), cellNum(share(o[sample.OutcomeInterrupted], started))},
		},
		Note: fmt.Sprintf("planned %d = started %d + dropped %d + not started %d; recorded %d = ok %d + failed %d + interrupted %d",
			a.Planned, a.Started, a.Dropped, a.NotStarted, started, o[sample.OutcomeOK], o[sample.OutcomeFailed], o[sample.OutcomeInterrupted]),
	}

	v := m.Verdicts
	n := report.Judged(m)
	verdicts := htmlTable{Caption: fmt.Sprintf("Window verdicts (window %s, first SEND after CONVERSATION, %d journeys judged)", window, n),
		Head: []string{"verdict", "journeys", "share", "rule"},
		Rows: [][]htmlCell{
			{cellText("in"), cellCount(v[sample.VerdictIn]), cellNum(share(v[sample.VerdictIn], n)), cellText("gap < window")},
			{cellText("uncertain"), cellCount(v[sample.VerdictUncertain]), cellNum(share(v[sample.VerdictUncertain], n)), cellText("gap_min < window ≤ gap")},
			{cellText("missed"), cellCount(v[sample.VerdictMissed]), cellNum(share(v[sample.VerdictMissed], n)), cellText("gap_min ≥ window")},
		}}
	if awaited, _ := m.AutoMessages(); awaited > 0 {
		verdicts.Head = append(verdicts.Head, "auto message received", "of those that waited")
		for i, verdict := range []sample.Verdict{sample.VerdictIn, sample.VerdictUncertain, sample.VerdictMissed} {
			verdicts.Rows[i] = append(verdicts.Rows[i], cellCount(m.AutoMsgReceived[verdict]), cellCount(m.AutoMsgAwaited[verdict]))
		}
	}
	if m.Gap.TotalCount() > 0 {
		p99 := hdr.Percentile(m.Gap, 99)
		verdicts.Note = fmt.Sprintf("gap p99 %s, max %s: %s of the window left at p99", report.FormatDuration(p99), report.FormatDuration(hdr.MaxOf(m.Gap)), report.FormatDuration(window-p99))
	}
	ts := []htmlTable{counts, verdicts}
	if t, ok := byDelayTable(m); ok {
		ts = append(ts, t)
	}
	ts = append(ts, latencyTable(m), requestsTable(m))
	ts = append(ts, failuresTable("Failed journeys by step and class", &m.Failures))
	if extra, found := m.OtherStepFailures(); found {
		ts = append(ts, failuresTable("Other failed steps (did not decide the journey)", &extra))
	}
	return ts
}

// byDelayTable shows the verdicts by send delay, when the delays spread over more than one bucket.
func byDelayTable(m *report.Metrics) (htmlTable, bool) {
	t := htmlTable{Caption: "Window verdicts by send delay", Head: []string{"send delay", "judged", "in", "uncertain", "missed", "missed share"}}
	for _, r := range delayRows(m) {
		t.Rows = append(t.Rows, []htmlCell{cellText(r.span), cellCount(r.judged), cellCount(r.in), cellCount(r.uncertain),
			cellCount(r.missed), cellNum(r.missedShare)})
	}
	return t, len(t.Rows) >= 2
}

// latencyHistograms lists the histograms of the latency table in its order: the steps (automsg
// only when measured), then gap, gap_min, journey and lag.
func latencyHistograms(m *report.Metrics) []report.NamedHistogram {
	var hs []report.NamedHistogram
	for s := range sample.NumSteps {
		if m.Steps[s].TotalCount() == 0 && s == sample.AutoMsg {
			continue // not measured by this journey
		}
		hs = append(hs, report.NamedHistogram{Name: "step." + s.String(), H: m.Steps[s]})
	}
	return append(hs, report.NamedHistogram{Name: "gap", H: m.Gap}, report.NamedHistogram{Name: "gap_min", H: m.GapMin},
		report.NamedHistogram{Name: "journey", H: m.Journey}, report.NamedHistogram{Name: "lag", H: m.Lag})
}

func latencyTable(m *report.Metrics) htmlTable {
	head := []string{"latency", "count"}
	for _, p := range SummaryPercentiles {
		head = append(head, "p"+report.TrimFloat(p))
	}
	t := htmlTable{Caption: "Latency", Head: append(head, "max"),
		Note: "step.*: service time of successful steps; gap: SEND's first response byte − CONVERSATION written (upper bound); " +
			"gap_min: SEND written − CONVERSATION's first response byte (lower bound); journey: intended start → last step end; " +
			"lag: actual − intended start."}
	for _, nh := range latencyHistograms(m) {
		name, dur := nh.Name, cellDur
		if st, ok := sample.ParseStep(strings.TrimPrefix(nh.Name, "step.")); ok && strings.HasPrefix(nh.Name, "step.") {
			name = stepLabel(m, st)
			dur = func(d time.Duration) htmlCell { return cellNum(stepDuration(m, st, d)) }
		}
		row := []htmlCell{cellText(name), cellCount(nh.H.TotalCount())}
		for _, p := range SummaryPercentiles {
			row = append(row, dur(hdr.Percentile(nh.H, p)))
		}
		t.Rows = append(t.Rows, append(row, dur(hdr.MaxOf(nh.H))))
	}
	if anyCached(m) {
		t.Note += " " + cachedNote + "."
	}
	return t
}

func requestsTable(m *report.Metrics) htmlTable {
	t := htmlTable{Caption: "Requests per step", Head: []string{"step", "requests", "retries"},
		Note: "Retry waits are in the step times, and for create and send in the gap."}
	for s := range sample.NumSteps {
		if s == sample.AutoMsg {
			continue // no request: the auto message is awaited
		}
		t.Rows = append(t.Rows, []htmlCell{cellText(s.String()), cellCount(m.Requests[s]), cellCount(m.Retries[s])})
	}
	return t
}

func failuresTable(caption string, f *[sample.NumSteps][sample.NumClasses]int64) htmlTable {
	t := htmlTable{Caption: caption, Head: []string{"step", "class", "count"}, Empty: "none"}
	for s := range sample.NumSteps {
		for c := range sample.NumClasses {
			if n := f[s][c]; n > 0 {
				t.Rows = append(t.Rows, []htmlCell{cellText(s.String()), cellText(sample.Class(c).String()), cellCount(n)})
			}
		}
	}
	return t
}

// sideBySide puts the targets' main figures in columns, the whole run last.
func sideBySide(r *report.Result) htmlTable {
	ms := r.PerTarget[:min(len(r.PerTarget), len(r.Targets))]
	t := htmlTable{Caption: "Targets side by side", Head: []string{""}}
	for _, ti := range r.Targets[:len(ms)] {
		t.Head = append(t.Head, ti.Name)
	}
	t.Head = append(t.Head, "all targets")
	all := append(append([]*report.Metrics(nil), ms...), r.Overall)
	row := func(name string, cell func(m *report.Metrics) string) {
		cells := []htmlCell{cellText(name)}
		for _, m := range all {
			if m == nil {
				cells = append(cells, cellNum("-"))
				continue
			}
			cells = append(cells, cellNum(cell(m)))
		}
		t.Rows = append(t.Rows, cells)
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	row("journeys recorded", func(m *report.Metrics) string { return itoa(m.Started()) })
	row("ok", func(m *report.Metrics) string { return itoa(m.Outcomes[sample.OutcomeOK]) })
	row("failed", func(m *report.Metrics) string { return itoa(m.Outcomes[sample.OutcomeFailed]) })
	row("errors (of ended)", func(m *report.Metrics) string { return share(m.Outcomes[sample.OutcomeFailed], report.Ended(m)) })
	for _, v := range []sample.Verdict{sample.VerdictIn, sample.VerdictUncertain, sample.VerdictMissed} {
		row("window "+v.String(), func(m *report.Metrics) string { return share(m.Verdicts[v], report.Judged(m)) })
	}
	pct := func(h func(m *report.Metrics) *hdrhistogram.Histogram, p float64) func(m *report.Metrics) string {
		return func(m *report.Metrics) string { return report.FormatDuration(hdr.Percentile(h(m), p)) }
	}
	for s := range sample.NumSteps {
		if r.Overall.Steps[s].TotalCount() == 0 {
			continue
		}
		for _, p := range []float64{50, 99} {
			row(fmt.Sprintf("step.%s p%g", s, p), pct(func(m *report.Metrics) *hdrhistogram.Histogram { return m.Steps[s] }, p))
		}
	}
	row("gap p50", pct(func(m *report.Metrics) *hdrhistogram.Histogram { return m.Gap }, 50))
	row("gap p99", pct(func(m *report.Metrics) *hdrhistogram.Histogram { return m.Gap }, 99))
	row("gap max", func(m *report.Metrics) string { return report.FormatDuration(hdr.MaxOf(m.Gap)) })
	row("journey p99", pct(func(m *report.Metrics) *hdrhistogram.Histogram { return m.Journey }, 99))
	row("lag p99", pct(func(m *report.Metrics) *hdrhistogram.Histogram { return m.Lag }, 99))
	return t
}
