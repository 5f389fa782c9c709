package render

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
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

// writeHTML renders r as report.html: the run's metadata and effective profile, the thresholds,
// the charts (percentiles of every step and of the gap, the gap's distribution against the
// window, and arrival rate, lag, gap p99, journey p99 and failures over time), the tables of the
// whole run and of each target, and the targets side by side. The page is rendered into memory
// first, so that a failure leaves w untouched.
func writeHTML(w io.Writer, r *report.Result) error {
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
	Checks     htmlTable
	// Invalid holds a line per failed measurement check: the banner atop the page.
	Invalid    []string
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
func cellDur(d time.Duration) htmlCell { return cellNum(report.FormatDuration(d)) }

func newHTMLPage(r *report.Result) *htmlPage {
	p := &htmlPage{
		Title: "lpbench report: " + r.Profile,
		Subtitle: fmt.Sprintf("%d target(s), %s/s for %s, window %s; started %s, ran %s (%s)",
			len(r.Targets), report.TrimFloat(r.Rate), r.Duration, r.Window, r.Start.UTC().Format(time.RFC3339),
			r.Elapsed.Round(time.Millisecond), r.End),
		Facts:      facts(r),
		Meta:       metaTable(r),
		Targets:    targetsTable(r),
		Thresholds: thresholdTable(r.Thresholds),
		Checks:     checksTable(r.Checks),
		Invalid:    invalidLines(r.Checks),
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

func regionSuffix(t report.TargetInfo) string {
	if t.Region == "" {
		return ""
	}
	return ", region " + t.Region
}

// facts are the headline figures: what a reader checks first.
func facts(r *report.Result) []htmlFact {
	m := r.Overall
	fs := []htmlFact{headlineFact(m)}
	if h := m.Headline(); h.Anomalies > 0 {
		fs = append(fs, htmlFact{"ANOMALY: auto messages after a missed window", strconv.FormatInt(h.Anomalies, 10), "fail"})
	}
	fs = append(fs, []htmlFact{
		{"journeys started", strconv.FormatInt(m.Started(), 10), ""},
		{"ok", share(m.Outcomes[sample.OutcomeOK], m.Started()), ""},
		{"errors", share(m.Outcomes[sample.OutcomeFailed], report.Ended(m)), ""},
		{"window missed", share(m.Verdicts[sample.VerdictMissed], report.Judged(m)), ""},
	}...)
	if m.Gap.TotalCount() > 0 {
		p99 := hdr.Percentile(m.Gap, 99)
		class := "pass"
		if p99 >= r.Window {
			class = "fail"
		}
		fs = append(fs, htmlFact{"gap p99 / window", report.FormatDuration(p99) + " / " + tickDur(r.Window), class})
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

// headlineFact is the report's first card: the share of consumers served — by their first auto
// message where it was verified, by timing alone (and saying so) where it was not.
func headlineFact(m *report.Metrics) htmlFact {
	h := m.Headline()
	label := "first auto message received"
	if !h.Verified {
		label = "first SEND certainly in the window (auto messages NOT verified)"
	}
	class := "fail"
	if h.Of > 0 && h.Served == h.Of {
		class = "pass"
	}
	return htmlFact{label, fmt.Sprintf("%d of %d consumers (%s)", h.Served, h.Of, share(h.Served, h.Of)), class}
}

func metaTable(r *report.Result) htmlTable {
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
		{"peak rate", report.TrimFloat(r.Rate) + "/s"},
		{"planned duration", r.Duration.String()},
		{"max in flight", strconv.Itoa(r.MaxInFlight)},
	}
	t := htmlTable{Caption: "Run"}
	for _, kv := range rows {
		t.Rows = append(t.Rows, []htmlCell{cellText(kv[0]), cellText(kv[1])})
	}
	return t
}

func targetsTable(r *report.Result) htmlTable {
	t := htmlTable{Caption: "Targets", Empty: "no targets",
		Head: []string{"target", "account", "kind", "region", "AppJWT fetches", "domain lookups"},
		Note: "AppJWT fetches and domain lookups are shared by all of a target's journeys (cached)."}
	for _, ti := range r.Targets {
		t.Rows = append(t.Rows, []htmlCell{cellText(ti.Name), cellText(ti.Account), cellText(ti.Kind), cellText(ti.Region),
			cellCount(ti.AppJWTFetches), cellCount(ti.DomainLookups)})
	}
	return t
}

// checksTable lists the measurement checks: name, scope, measured, limit, result, and what it
// means.
func checksTable(cs []report.Check) htmlTable {
	t := htmlTable{Caption: "Measurement checks", Head: []string{"check", "scope", "measured", "limit", "result", "meaning"},
		Empty: "no measurement checks in this result"}
	for _, c := range cs {
		scope := "whole run"
		if c.Target != "" {
			scope = c.Target
		}
		st := stateOf(c)
		result := htmlCell{checkWords.html[st], "pass"}
		if !c.OK {
			result.Class = "fail"
		}
		// Measured and limit wrap, as the meaning does: long ones ("p99 ≤ 10ms, above it under 3 s
		// in a row") would make the table wider than the page.
		t.Rows = append(t.Rows, []htmlCell{cellText(c.Name), cellText(scope), {c.Measured, "wrap"}, {c.Limit, "wrap"}, result, {c.Message, "msg"}})
	}
	return t
}

// invalidLines returns a line per failed (not relaxed) check, for the page's banner.
func invalidLines(cs []report.Check) []string {
	var out []string
	for _, c := range cs {
		if c.Failed() {
			out = append(out, c.Line())
		}
	}
	return out
}

func thresholdTable(rs []report.ThresholdResult) htmlTable {
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
		t.Rows = append(t.Rows, []htmlCell{cellText(r.Expr), cellText(scope), cellNum(measured(r)), result})
	}
	if len(rs) > 0 {
		t.Note = fmt.Sprintf("thresholds: %d passed, %d failed", passed, len(rs)-passed)
	}
	return t
}
