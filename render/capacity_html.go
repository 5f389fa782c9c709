package render

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lpbench/lpbench/report"
)

// capacity.html follows report.html: one self-contained page, inline CSS (report.html's own
// style sheet) and inline SVG, no script, a Content-Security-Policy that refuses any request.

//go:embed capacity_html.tmpl
var capacityTemplateText string

var capacityTemplate = template.Must(template.Must(htmlTemplate.Clone()).Parse(capacityTemplateText))

// reportStyle is report.html's style sheet, shared by capacity.html.
var reportStyle = func() template.CSS {
	_, rest, _ := strings.Cut(htmlTemplateText, "<style>")
	css, _, _ := strings.Cut(rest, "</style>")
	return template.CSS(css) // our own embedded file: trusted
}()

// capacityPage is what capacity_html.tmpl renders.
type capacityPage struct {
	Title, Subtitle, Headline, Message, Banner, Schema string
	Style                                              template.CSS
	Facts                                              []htmlFact
	Charts                                             []svgChart
	Steps                                              htmlTable
	Links                                              []capacityLink
}

// capacityLink links a step's own report.
type capacityLink struct{ Href, Label string }

// writeCapacityHTML renders c as capacity.html: the outcome, and rate → share served, gap p99
// and CONVERSATION p99 with the SLO's lines and each step marked passed or failed, then the
// steps with links to their own reports.
func writeCapacityHTML(w io.Writer, c *report.Capacity) error {
	pg := capacityPage{Title: "Capacity search: profile " + c.Profile, Headline: CapacityHeadline(c), Message: c.Message,
		Schema: c.Schema, Style: reportStyle,
		Subtitle: fmt.Sprintf("%d steps, %s, started %s; SLO: %s", len(c.Steps),
			report.FormatDuration(time.Duration(c.Elapsed*float64(time.Second))), c.Start.UTC().Format(time.RFC3339), strings.Join(c.SLO, ", "))}
	switch c.Bound {
	case report.BoundGenerator:
		pg.Banner = "Generator-bound: the generator could not deliver the load, so no capacity figure of the target was measured."
	case report.BoundRateLimit:
		pg.Banner = "Rate-limited: " + c.QuotaLine() + "."
	case report.BoundBudget:
		pg.Banner = "Not converged: a cap (--max-steps or --max-conversations) ended the search before its rule did, so no rate is found."
	}
	bound := string(c.Bound)
	if bound == "" {
		bound = "-"
	}
	pg.Facts = []htmlFact{
		{Label: "sustainable", Value: rateOrDash(c.SustainableRate) + " journeys/s"},
		{Label: "highest pass", Value: rateOrDash(c.Interval[0]) + "/s"},
		{Label: "lowest fail", Value: rateOrDash(c.Interval[1]) + "/s"},
		{Label: "bound", Value: bound},
		{Label: "steps", Value: fmt.Sprint(len(c.Steps))},
	}
	pg.Charts = capacityCharts(c)
	pg.Steps = capacityStepTable(c)
	for i, st := range c.Steps {
		if st.Result != "" {
			href := strings.TrimSuffix(st.Result, "result.json") + "report.html"
			pg.Links = append(pg.Links, capacityLink{Href: href, Label: fmt.Sprintf("step %d (%s/s): report", i+1, rate(st.Rate))})
		}
	}
	var b bytes.Buffer
	if err := capacityTemplate.ExecuteTemplate(&b, "capacity.html", pg); err != nil {
		return fmt.Errorf("capacity html: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func rateOrDash(r float64) string {
	if r == 0 {
		return "-"
	}
	return rate(r)
}

// capacityStepTable lists the steps.
func capacityStepTable(c *report.Capacity) htmlTable {
	t := htmlTable{Caption: "Steps in the order they ran", Head: []string{"step", "phase", "rate/s", "verdict", "served", "gap p99", "create p99", "gap p99 growth", "failed"},
		Empty: "no step ran"}
	for i, st := range c.Steps {
		verdict := htmlCell{Text: "pass", Class: "pass"}
		if !st.Pass {
			verdict = htmlCell{Text: "fail", Class: "fail"}
		}
		t.Rows = append(t.Rows, []htmlCell{cellText(fmt.Sprint(i + 1)), cellText(st.Phase), cellNum(rate(st.Rate)), verdict,
			cellNum(shareOf(st.Served, st.Ended)), cellNum(secs(st.GapP99)), cellNum(secs(st.CreateP99)),
			cellNum(secs(st.GapGrowth) + "/s"), {Text: strings.Join(st.Why, "; "), Class: "msg"}})
	}
	return t
}

// capacityCharts draws the three rate charts.
func capacityCharts(c *report.Capacity) []svgChart {
	var served, gap, create []tsRef
	gap = append(gap, tsRef{name: "window", label: "window " + secs(c.Window), value: c.Window})
	for _, e := range c.SLO {
		th, err := report.ParseThreshold(e)
		if err != nil {
			continue
		}
		switch {
		case th.Metric == "automsg.missing" || th.Metric == "window.not_in":
			served = append(served, tsRef{name: "slo", label: "SLO: " + e, value: 100 * (1 - th.Value)})
		case strings.HasPrefix(th.Metric, "gap."):
			gap = append(gap, tsRef{name: "slo", label: "SLO: " + e, value: time.Duration(th.Value).Seconds()})
		case strings.HasPrefix(th.Metric, "step.create."):
			create = append(create, tsRef{name: "slo", label: "SLO: " + e, value: time.Duration(th.Value).Seconds()})
		}
	}
	return []svgChart{
		rateChart(c, "served", "Consumers served by rate", "share of ended journeys whose first auto message came (without verification: first SEND certainly in the window)", "served %",
			func(st report.CapacityStep) (float64, bool) { return 100 * st.Served, st.Ended > 0 }, false, served),
		rateChart(c, "gap-p99", "Gap p99 by rate", "create → first SEND, the figure judged against the window", "gap p99",
			func(st report.CapacityStep) (float64, bool) { return st.GapP99, st.GapP99 > 0 }, true, gap),
		rateChart(c, "create-p99", "CONVERSATION p99 by rate", "step.create p99: where the queue of a saturated target shows first", "create p99",
			func(st report.CapacityStep) (float64, bool) { return st.CreateP99, st.CreateP99 > 0 }, true, create),
	}
}

// rateChart draws value of each step against its rate: a line through the steps in rate order
// and a mark per step, green when it passed and red when it failed, with refs as dashed lines.
// Durations are in seconds.
func rateChart(c *report.Capacity, id, title, desc, yLabel string, value func(report.CapacityStep) (float64, bool), dur bool, refs []tsRef) svgChart {
	ch := svgChart{ID: id, Title: title, Desc: desc, Box: chartBox, XLabel: "arrival rate, journeys/s", YLabel: yLabel}
	steps := slices.Clone(c.Steps)
	slices.SortStableFunc(steps, func(a, b report.CapacityStep) int { return cmp.Compare(a.Rate, b.Rate) })
	hi, xhi := 0.0, 0.0
	for _, st := range steps {
		xhi = max(xhi, st.Rate)
		if v, ok := value(st); ok {
			hi = max(hi, v)
		}
	}
	for _, r := range refs {
		hi = max(hi, r.value)
	}
	if len(steps) == 0 {
		ch.Empty = "no step ran"
		return ch
	}
	b := ch.Box
	xtop, xt := linearAxis(xhi * 1.05)
	x := scale{0, xtop, b.L, b.R}
	top, yt := linearAxis(max(hi*1.05, 1e-3))
	if !dur {
		top, yt = linearAxis(100) // a share: 0–100 %
	}
	y := scale{0, top, b.B, b.T}
	for _, t := range xt {
		ch.XTicks = append(ch.XTicks, svgTick{coord(x.at(t)), report.TrimFloat(t)})
	}
	for _, t := range yt {
		label := report.TrimFloat(t)
		if dur {
			label = tickDur(time.Duration(t * float64(time.Second)))
		}
		ch.YTicks = append(ch.YTicks, svgTick{coord(y.at(t)), label})
	}
	var line, pass, fail pathData
	for _, st := range steps {
		v, ok := value(st)
		if !ok {
			continue
		}
		px, py := x.at(st.Rate), y.at(v)
		line.to(px, py)
		mark := &pass
		if !st.Pass {
			mark = &fail
		}
		mark.bar(px-4, px+4, py+4, py-4)
	}
	ch.Series = append(ch.Series, svgSeries{Name: "steps", Label: yLabel + " of each step", Kind: "line", Color: "c0", D: line.String()},
		svgSeries{Name: "pass", Label: "step passed", Kind: "bars", Color: "c2", D: pass.String()},
		svgSeries{Name: "fail", Label: "step failed", Kind: "bars", Color: "c3", D: fail.String()})
	for _, r := range refs {
		var d pathData
		d.to(b.L, y.at(r.value))
		d.to(b.R, y.at(r.value))
		ch.Series = append(ch.Series, svgSeries{Name: r.name, Label: r.label, Kind: "ref", Color: "cw", D: d.String()})
	}
	if c.Found {
		ch.Notes = append(ch.Notes, fmt.Sprintf("sustainable %s/s; interval [%s, %s]", rate(c.SustainableRate), rate(c.Interval[0]), rateOrDash(c.Interval[1])))
	}
	return ch
}
