package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
)

// TestLabelsRoundTrip: a run's labels are written to result.json and read back; a result
// without labels has no labels key (the golden files stay as they were).
func TestLabelsRoundTrip(t *testing.T) {
	t.Parallel()
	r := reporttest.SummaryResult()
	r.Labels = map[string]string{"build": "1234", "env": "ci <&>"}
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"labels": {`) {
		t.Error("result.json lacks labels")
	}
	back, err := report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Labels) != 2 || back.Labels["env"] != "ci <&>" || back.Labels["build"] != "1234" {
		t.Errorf("labels read back %v", back.Labels)
	}
	r.Labels = nil
	b.Reset()
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `"labels"`) {
		t.Error("result.json without labels has a labels key")
	}
	merged, err := report.Merge([]*report.Result{back})
	if err != nil || merged.Labels["build"] != "1234" {
		t.Errorf("merged labels %v, %v", merged.Labels, err)
	}
}

// trendFixture is a trend of 12 runs of two metrics: a regression at the last run, run 5
// excluded (its checks failed), the first three not judged.
func trendFixture() *history.Trend {
	t := &history.Trend{Title: "lpbench history trend: nightly", Subtitle: "12 runs <script>"}
	start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	create := history.TrendChart{Target: "sim", Metric: "step.create.p50", Kind: report.KindDuration}
	served := history.TrendChart{Target: "sim", Metric: "served", Kind: report.KindShare}
	for i := range 12 {
		t.Runs = append(t.Runs, history.TrendRun{Seq: int64(i + 1), RunID: "r" + string(rune('a'+i)), Start: start.Add(time.Duration(i) * 24 * time.Hour), Excluded: i == 4})
		v := float64(100+i%3) * 1e6
		p := history.TrendPoint{Value: v, OK: true}
		if i >= 3 && i != 4 {
			p.Band, p.Lo, p.Hi = true, 95e6, 106e6
		}
		if i == 11 {
			p.Value, p.Flag = 118e6, history.FlagRegression
		}
		create.Points = append(create.Points, p)
		sp := history.TrendPoint{Value: 0.999, OK: i != 7}
		if i >= 3 && i != 4 {
			sp.Band, sp.Lo, sp.Hi = true, 0.997, 1
		}
		served.Points = append(served.Points, sp)
	}
	t.Charts = []history.TrendChart{create, served}
	return t
}

func renderTrend(t *testing.T, tr *history.Trend) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeTrendHTML(&b, tr); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestTrendHTML: trend.html has a chart per metric with its bands and marks, the flagged change
// in the table, every run listed, escaped text, and no script or link that fetches.
func TestTrendHTML(t *testing.T) {
	t.Parallel()
	page := renderTrend(t, trendFixture())
	for _, want := range []string{
		`data-chart="sim:step.create.p50"`, `data-chart="sim:served"`, `class="band"`, `data-series="regression"`,
		"<td>step.create.p50</td>", `<td class="fail">regression</td>`, "118ms", "95.0ms – 106ms",
		"checks failed: excluded", "12 runs &lt;script&gt;", "default-src 'none'",
		// Run 5, in no baseline, is a hollow grey mark off the line, with a legend entry.
		`class="series hollow cx" data-series="excluded"`, `<span class="swatch hollow"></span><span class="lbl">run in no baseline`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("trend.html lacks %q", want)
		}
	}
	if n := strings.Count(page, `data-series="excluded"`); n != 2 {
		t.Errorf("%d excluded series, want one per chart", n)
	}
	if n := strings.Count(page, `class="band"`); n != 2*8 {
		t.Errorf("%d bands, want 16 (8 judged runs × 2 charts)", n)
	}
	for _, bad := range []string{"<script", "src=\"http", "href=\"http"} {
		if strings.Contains(page, bad) {
			t.Errorf("trend.html has %q", bad)
		}
	}
	empty := renderTrend(t, &history.Trend{Title: "lpbench history trend", Subtitle: "no run matches"})
	if !strings.Contains(empty, "no change flagged") {
		t.Error("an empty trend does not say so")
	}
}

// TestTrendHTMLInBrowser opens trend.html in Chromium like TestHTMLInBrowser does report.html:
// no console error, no request but the page's, the charts laid out with their series and bands,
// the flagged change and every run in the tables, no script, no horizontal overflow, a drawn
// screenshot.
func TestTrendHTMLInBrowser(t *testing.T) {
	checkPageInBrowser(t, "trend.html", renderTrend(t, trendFixture()), []pageCheck{
		{"charts", `document.querySelectorAll('svg.chart').length`, 2},
		{"charts laid out", `[...document.querySelectorAll('svg.chart')].filter(s => s.getBoundingClientRect().width > 600).length`, 2},
		{"series", `document.querySelectorAll('svg.chart[data-chart="sim:step.create.p50"] .series').length`, 4},
		{"excluded mark drawn", `document.querySelector('svg.chart[data-chart="sim:step.create.p50"] [data-series="excluded"]').getBoundingClientRect().width > 0 ? 1 : 0`, 1},
		{"bands drawn", `[...document.querySelectorAll('svg.chart rect.band')].filter(r => r.getBoundingClientRect().height > 0).length`, 16},
		{"regression mark drawn", `document.querySelector('svg.chart[data-chart="sim:step.create.p50"] [data-series="regression"]').getBoundingClientRect().width > 0 ? 1 : 0`, 1},
		{"flagged rows", `document.querySelectorAll('#flagged tbody tr').length`, 1},
		{"run rows", `document.querySelectorAll('#runs tbody tr').length`, 12},
		{"scripts", `document.scripts.length`, 0},
		{"horizontal overflow", `Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`, 0},
	})
}
