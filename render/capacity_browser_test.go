package render

import (
	"testing"

	"github.com/lpbench/lpbench/report/reporttest"
)

// TestCapacityHTMLInBrowser opens capacity.html in Chromium like TestHTMLInBrowser does
// report.html: no console error, no request but the page's, three charts laid out with their
// series (steps, passes, fails, SLO lines), no script, no horizontal overflow, a drawn
// screenshot.
func TestCapacityHTMLInBrowser(t *testing.T) {
	checkPageInBrowser(t, "capacity.html", renderCapacityHTML(t, reporttest.CapacityFixture()), []pageCheck{
		// The three rate charts.
		{"charts", `document.querySelectorAll('svg.chart').length`, 3},
		{"charts laid out", `[...document.querySelectorAll('svg.chart')].filter(s => s.getBoundingClientRect().width > 600).length`, 3},
		// Steps, passes, fails and the SLO line on the served chart; the window too on the gap chart.
		{"served series", `document.querySelectorAll('svg.chart[data-chart="served"] .series').length`, 4},
		{"gap series", `document.querySelectorAll('svg.chart[data-chart="gap-p99"] .series').length`, 4},
		// Every step in the table.
		{"step rows", `document.querySelectorAll('#steps tbody tr').length`, len(reporttest.CapacityFixture().Steps)},
		{"scripts", `document.scripts.length`, 0},
		{"horizontal overflow", `Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`, 0},
	})
}
