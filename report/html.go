package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/sample"
)

// report.html is one self-contained file: inline CSS and inline SVG drawn here, no script, no
// font, no image, no link that fetches. It opens from a CI artifact store, an e-mail attachment or
// an air-gapped laptop alike, and a Content-Security-Policy in the page (default-src 'none')
// makes the browser refuse any request that a future edit might add by mistake. Every value goes
// through html/template, so a profile name or a target name cannot inject markup.

//go:embed html.tmpl
var htmlTemplateText string

var htmlTemplate = template.Must(template.New("report.html").Parse(htmlTemplateText))

// WriteHTML renders r as report.html: the run's metadata and effective profile, the thresholds,
// the charts (percentiles of every step and of the gap, the gap's distribution against the
// window, and arrival rate, lag, gap p99, journey p99 and failures over time), the tables of the
// whole run and of each target, and the targets side by side. The page is rendered into memory
// first, so that a failure leaves w untouched.
func WriteHTML(w io.Writer, r *Result) error {
	if r.Overall == nil {
		return errors.New("html report: the result has no metrics")
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, newHTMLPage(r)); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// htmlPage is what the template renders: everything computed and formatted beforehand, so that
// the template only lays it out.
type htmlPage struct {
	Title      string
	Subtitle   string
	Facts      []htmlFact
	Meta       htmlTable
	Targets    htmlTable
	Thresholds htmlTable
	Charts     []svgChart
	Whole      htmlSection
	PerTarget  []htmlSection
	SideBySide *htmlTable // nil with one target
	Effective  string
}

// htmlFact is one headline figure at the top of the page.
type htmlFact struct{ Label, Value, Class string }

// htmlSection is a titled group of tables: the whole run's, or one target's.
type htmlSection struct {
	ID, Title string
	Tables    []htmlTable
}

// htmlTable is a table: the first cell of each row is its header.
type htmlTable struct {
	Caption string
	Head    []string // column headings; none for a list of name–value pairs
	Rows    [][]htmlCell
	Note    string // under the table
	Empty   string // shown instead of the table when it has no rows
}

// htmlCell is one cell; Class is "num" for numbers (right-aligned), "pass" or "fail".
type htmlCell struct{ Text, Class string }

func cellText(s string) htmlCell       { return htmlCell{Text: s} }
func cellNum(s string) htmlCell        { return htmlCell{Text: s, Class: "num"} }
func cellCount(n int64) htmlCell       { return cellNum(strconv.FormatInt(n, 10)) }
func cellDur(d time.Duration) htmlCell { return cellNum(fmtDur(d)) }

func newHTMLPage(r *Result) *htmlPage {
	p := &htmlPage{
		Title: "lpbench report: " + r.Profile,
		Subtitle: fmt.Sprintf("%d target(s), %s/s for %s, window %s; started %s, ran %s (%s)",
			len(r.Targets), trimFloat(r.Rate), r.Duration, r.Window, r.Start.UTC().Format(time.RFC3339),
			r.Elapsed.Round(time.Millisecond), r.End),
		Facts:      facts(r),
		Meta:       metaTable(r),
		Targets:    targetsTable(r),
		Thresholds: thresholdTable(r.Thresholds),
		Charts:     charts(r),
		Effective:  r.Effective,
	}
	multi := len(r.Targets) > 1
	p.Whole = htmlSection{ID: "run", Title: "Whole run", Tables: metricsTables(r.Overall, r.Arrivals, r.Window)}
	if !multi && len(r.Targets) == 1 {
		p.Whole.Title = "Whole run (target " + r.Targets[0].Name + ")"
	}
	if multi {
		for i, m := range r.PerTarget {
			if i >= len(r.Targets) || m == nil {
				break
			}
			t := r.Targets[i]
			p.PerTarget = append(p.PerTarget, htmlSection{
				ID:     "target-" + strconv.Itoa(i),
				Title:  "Target " + t.Name + " (account " + t.Account + ", " + t.Kind + regionSuffix(t) + ")",
				Tables: metricsTables(m, m.Arrivals, r.Window),
			})
		}
		sbs := sideBySide(r)
		p.SideBySide = &sbs
	}
	return p
}

func regionSuffix(t TargetInfo) string {
	if t.Region == "" {
		return ""
	}
	return ", region " + t.Region
}

// facts are the headline figures: what a reader checks first.
func facts(r *Result) []htmlFact {
	m := r.Overall
	fs := []htmlFact{
		{"journeys started", strconv.FormatInt(m.Started(), 10), ""},
		{"ok", share(m.Outcomes[sample.OutcomeOK], m.Started()), ""},
		{"errors", share(m.Outcomes[sample.OutcomeFailed], ended(m)), ""},
		{"window missed", share(m.Verdicts[sample.VerdictMissed], judged(m)), ""},
	}
	if m.Gap.TotalCount() > 0 {
		p99 := Percentile(m.Gap, 99)
		class := "pass"
		if p99 >= r.Window {
			class = "fail"
		}
		fs = append(fs, htmlFact{"gap p99 / window", fmtDur(p99) + " / " + tickDur(r.Window), class})
	}
	if n := len(r.Thresholds); n > 0 {
		failed := 0
		for _, t := range r.Thresholds {
			if !t.Pass {
				failed++
			}
		}
		class := "pass"
		if failed > 0 {
			class = "fail"
		}
		fs = append(fs, htmlFact{"thresholds", fmt.Sprintf("%d passed, %d failed", n-failed, failed), class})
	}
	return fs
}

func metaTable(r *Result) htmlTable {
	shard := "whole run"
	if r.Shard.Count > 1 {
		shard = fmt.Sprintf("%d/%d (0 ≤ k < n)", r.Shard.Index, r.Shard.Count)
	}
	rows := [][2]string{
		{"profile", r.Profile},
		{"lpbench version", r.Version},
		{"Go version", r.GoVersion},
		{"started", r.Start.UTC().Format(time.RFC3339Nano)},
		{"elapsed", r.Elapsed.Round(time.Millisecond).String()},
		{"end", string(r.End)},
		{"shard", shard},
		{"window", r.Window.String()},
		{"peak rate", trimFloat(r.Rate) + "/s"},
		{"planned duration", r.Duration.String()},
		{"max in flight", strconv.Itoa(r.MaxInFlight)},
	}
	t := htmlTable{Caption: "Run"}
	for _, kv := range rows {
		t.Rows = append(t.Rows, []htmlCell{cellText(kv[0]), cellText(kv[1])})
	}
	return t
}

func targetsTable(r *Result) htmlTable {
	t := htmlTable{Caption: "Targets", Empty: "no targets",
		Head: []string{"target", "account", "kind", "region", "AppJWT fetches", "domain lookups"},
		Note: "AppJWT fetches and domain lookups are shared by all of a target's journeys (cached)."}
	for _, ti := range r.Targets {
		t.Rows = append(t.Rows, []htmlCell{cellText(ti.Name), cellText(ti.Account), cellText(ti.Kind), cellText(ti.Region),
			cellCount(ti.AppJWTFetches), cellCount(ti.DomainLookups)})
	}
	return t
}

func thresholdTable(rs []ThresholdResult) htmlTable {
	t := htmlTable{Caption: "Thresholds", Head: []string{"threshold", "scope", "measured", "result"},
		Empty: "no thresholds in the profile"}
	passed := 0
	for _, r := range rs {
		scope := "all targets"
		if r.Target != "" {
			scope = "target " + r.Target
		}
		result := htmlCell{"FAIL", "fail"}
		if r.Pass {
			result = htmlCell{"PASS", "pass"}
			passed++
		}
		t.Rows = append(t.Rows, []htmlCell{cellText(r.Expr), cellText(scope), cellNum(r.measured()), result})
	}
	if len(rs) > 0 {
		t.Note = fmt.Sprintf("thresholds: %d passed, %d failed", passed, len(rs)-passed)
	}
	return t
}

// metricsTables are the tables of one set of journeys (the whole run's or a target's), in the
// order of the terminal summary.
func metricsTables(m *Metrics, a Arrivals, window time.Duration) []htmlTable {
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
	n := judged(m)
	verdicts := htmlTable{Caption: fmt.Sprintf("Window verdicts (window %s, first SEND after CONVERSATION, %d journeys judged)", window, n),
		Head: []string{"verdict", "journeys", "share", "rule"},
		Rows: [][]htmlCell{
			{cellText("in"), cellCount(v[sample.VerdictIn]), cellNum(share(v[sample.VerdictIn], n)), cellText("gap < window")},
			{cellText("uncertain"), cellCount(v[sample.VerdictUncertain]), cellNum(share(v[sample.VerdictUncertain], n)), cellText("gap_min < window ≤ gap")},
			{cellText("missed"), cellCount(v[sample.VerdictMissed]), cellNum(share(v[sample.VerdictMissed], n)), cellText("gap_min ≥ window")},
		}}
	if m.Gap.TotalCount() > 0 {
		p99 := Percentile(m.Gap, 99)
		verdicts.Note = fmt.Sprintf("gap p99 %s, max %s: %s of the window left at p99", fmtDur(p99), fmtDur(maxOf(m.Gap)), fmtDur(window-p99))
	}
	ts := []htmlTable{counts, verdicts}
	if t, ok := byDelayTable(m); ok {
		ts = append(ts, t)
	}
	ts = append(ts, latencyTable(m), requestsTable(m))
	ts = append(ts, failuresTable("Failed journeys by step and class", &m.Failures))
	if extra, any := m.OtherStepFailures(); any {
		ts = append(ts, failuresTable("Other failed steps (did not decide the journey)", &extra))
	}
	return ts
}

// byDelayTable shows the verdicts by send delay, when the delays spread over more than one bucket.
func byDelayTable(m *Metrics) (htmlTable, bool) {
	t := htmlTable{Caption: "Window verdicts by send delay", Head: []string{"send delay", "judged", "in", "uncertain", "missed", "missed share"}}
	for i := range m.ByDelay {
		v := &m.ByDelay[i]
		n := judgedOf(v)
		if n == 0 {
			continue
		}
		lo, hi := m.DelayBucketRange(i)
		span := fmtDur(lo) + " – " + fmtDur(hi)
		if hi == 0 {
			span = "≥ " + fmtDur(lo)
		}
		t.Rows = append(t.Rows, []htmlCell{cellText(span), cellCount(n), cellCount(v[sample.VerdictIn]), cellCount(v[sample.VerdictUncertain]),
			cellCount(v[sample.VerdictMissed]), cellNum(share(v[sample.VerdictMissed], n))})
	}
	return t, len(t.Rows) >= 2
}

// latencyHistograms lists the histograms of the latency table in its order: the steps (automsg
// only when measured), then gap, gap_min, journey and lag.
func latencyHistograms(m *Metrics) []NamedHistogram {
	var hs []NamedHistogram
	for s := range sample.NumSteps {
		if m.Steps[s].TotalCount() == 0 && s == sample.AutoMsg {
			continue // not measured by this journey
		}
		hs = append(hs, NamedHistogram{"step." + s.String(), m.Steps[s]})
	}
	return append(hs, NamedHistogram{"gap", m.Gap}, NamedHistogram{"gap_min", m.GapMin},
		NamedHistogram{"journey", m.Journey}, NamedHistogram{"lag", m.Lag})
}

func latencyTable(m *Metrics) htmlTable {
	head := []string{"latency", "count"}
	for _, p := range SummaryPercentiles {
		head = append(head, "p"+trimFloat(p))
	}
	t := htmlTable{Caption: "Latency", Head: append(head, "max"),
		Note: "step.*: service time of successful steps; gap: send end − create begin (upper bound); " +
			"gap_min: send begin − create end (lower bound); journey: intended start → last step end; lag: actual − intended start."}
	for _, nh := range latencyHistograms(m) {
		row := []htmlCell{cellText(nh.Name), cellCount(nh.H.TotalCount())}
		for _, p := range SummaryPercentiles {
			row = append(row, cellDur(Percentile(nh.H, p)))
		}
		t.Rows = append(t.Rows, append(row, cellDur(maxOf(nh.H))))
	}
	return t
}

func requestsTable(m *Metrics) htmlTable {
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
func sideBySide(r *Result) htmlTable {
	ms := r.PerTarget[:min(len(r.PerTarget), len(r.Targets))]
	t := htmlTable{Caption: "Targets side by side", Head: []string{""}}
	for _, ti := range r.Targets[:len(ms)] {
		t.Head = append(t.Head, ti.Name)
	}
	t.Head = append(t.Head, "all targets")
	all := append(append([]*Metrics(nil), ms...), r.Overall)
	row := func(name string, cell func(m *Metrics) string) {
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
	row("journeys recorded", func(m *Metrics) string { return itoa(m.Started()) })
	row("ok", func(m *Metrics) string { return itoa(m.Outcomes[sample.OutcomeOK]) })
	row("failed", func(m *Metrics) string { return itoa(m.Outcomes[sample.OutcomeFailed]) })
	row("errors (of ended)", func(m *Metrics) string { return share(m.Outcomes[sample.OutcomeFailed], ended(m)) })
	for _, v := range []sample.Verdict{sample.VerdictIn, sample.VerdictUncertain, sample.VerdictMissed} {
		row("window "+v.String(), func(m *Metrics) string { return share(m.Verdicts[v], judged(m)) })
	}
	pct := func(h func(m *Metrics) *hdrhistogram.Histogram, p float64) func(m *Metrics) string {
		return func(m *Metrics) string { return fmtDur(Percentile(h(m), p)) }
	}
	for s := range sample.NumSteps {
		if r.Overall.Steps[s].TotalCount() == 0 {
			continue
		}
		for _, p := range []float64{50, 99} {
			row(fmt.Sprintf("step.%s p%g", s, p), pct(func(m *Metrics) *hdrhistogram.Histogram { return m.Steps[s] }, p))
		}
	}
	row("gap p50", pct(func(m *Metrics) *hdrhistogram.Histogram { return m.Gap }, 50))
	row("gap p99", pct(func(m *Metrics) *hdrhistogram.Histogram { return m.Gap }, 99))
	row("gap max", func(m *Metrics) string { return fmtDur(maxOf(m.Gap)) })
	row("journey p99", pct(func(m *Metrics) *hdrhistogram.Histogram { return m.Journey }, 99))
	row("lag p99", pct(func(m *Metrics) *hdrhistogram.Histogram { return m.Lag }, 99))
	return t
}

// charts are the page's charts, in order. Their ids (data-chart) and series names (data-series)
// are stable: tests and readers' bookmarks rely on them.
func charts(r *Result) []svgChart {
	m := r.Overall
	var curves []curve
	for s := range sample.NumSteps {
		if m.Steps[s].TotalCount() > 0 {
			curves = append(curves, curve{name: s.String(), label: "step." + s.String(), color: colorOf(int(s)), kind: "line", h: m.Steps[s]})
		}
	}
	if m.Gap.TotalCount() > 0 {
		curves = append(curves, curve{name: "gap", label: "gap (send end − create begin)", color: "cg", kind: "line gap", h: m.Gap})
	}
	cs := []svgChart{
		percentileChart("percentiles", "Latency by percentile",
			"Each step's service time and the gap at every percentile. Right is rarer: each decade of 1/(1−p) "+
				"is a tail ten times thinner. A curve ends at its largest value, where 1/(1−p) reaches its number of values.",
			curves),
		gapHistogramChart(m, r.Window),
	}

	s := m.Series
	rate := []tsLine{
		{"arrivals", "arrivals/s (started + dropped, by intended second)", "c0",
			countValue(func(p *Point) float64 { return float64(p.Arrivals + p.Dropped) })},
		{"target", "target rate/s", "c1", countValue(func(p *Point) float64 { return p.TargetRate })},
	}
	for i := range s {
		if s[i].Dropped > 0 {
			rate = append(rate, tsLine{"dropped", "dropped/s (pool full)", "c3",
				countValue(func(p *Point) float64 { return float64(p.Dropped) })})
			break
		}
	}
	var windowRef []tsRef
	if r.Window > 0 {
		windowRef = []tsRef{{"window", "window " + tickDur(r.Window), float64(r.Window)}}
	}
	cs = append(cs,
		timeChart("rate", "Arrival rate against the target",
			"Arrivals counted in the second they were intended for. Below the target means the generator fell behind or dropped arrivals.",
			"arrivals per second", s, false, rate, nil),
		timeChart("lag", "Lag p99 over time",
			"The generator's own lateness (actual − intended start) at p99, by the second journeys ended. It should stay far below the step times.",
			"lag p99", s, true,
			[]tsLine{{"lag-p99", "lag p99", "c4", durValue(func(p *Point) time.Duration { return p.LagP99 })}}, nil),
		timeChart("gap-p99", "Gap p99 over time",
			"The gap at p99 by the second journeys ended, against the window.",
			"gap p99", s, true,
			[]tsLine{{"gap-p99", "gap p99", "cg", durValue(func(p *Point) time.Duration { return p.GapP99 })}},
			windowRef),
		timeChart("journey-p99", "Journey p99 over time",
			"End-to-end time from the intended start (free of coordinated omission) at p99, by the second journeys ended.",
			"journey p99", s, true,
			[]tsLine{{"journey-p99", "journey p99", "c2", durValue(func(p *Point) time.Duration { return p.JourneyP99 })}}, nil),
		timeChart("failures", "Failures over time",
			"Failed journeys per second, and among them those whose window was certainly missed, by the second they ended.",
			"journeys per second", s, false,
			[]tsLine{
				{"failed", "failed/s", "c3", countValue(func(p *Point) float64 { return float64(p.Failed) })},
				{"missed", "window missed/s", "c5", countValue(func(p *Point) float64 { return float64(p.Missed) })},
			}, nil),
	)

	if len(r.Targets) > 1 {
		var tc []curve
		for i, tm := range r.PerTarget {
			if i < len(r.Targets) && tm != nil && tm.Gap.TotalCount() > 0 {
				tc = append(tc, curve{name: r.Targets[i].Name, label: "gap, target " + r.Targets[i].Name, color: colorOf(i), kind: "line", h: tm.Gap})
			}
		}
		cs = append(cs, percentileChart("gap-by-target", "Gap by percentile, per target",
			"The gap of each target's journeys at every percentile, on the same scale as above.", tc))
	}
	return cs
}
