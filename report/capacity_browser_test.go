package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCapacityHTMLInBrowser opens capacity.html in Chromium like TestHTMLInBrowser does
// report.html: no console error, no request but the page's, three charts laid out with their
// series (steps, passes, fails, SLO lines), no script, no horizontal overflow, a drawn
// screenshot.
func TestCapacityHTMLInBrowser(t *testing.T) {
	chrome := chromePath(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "capacity.html")
	if err := os.WriteFile(file, []byte(renderCapacityHTML(t, capacityFixture())), 0o644); err != nil {
		t.Fatal(err)
	}
	bctx, url, events, others := openInBrowser(t, chrome, dir, file)
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening the page: %v", err)
	}
	for _, c := range []struct {
		name, js string
		want     int
	}{
		// The three rate charts.
		{"charts", `document.querySelectorAll('svg.chart').length`, 3},
		{"charts laid out", `[...document.querySelectorAll('svg.chart')].filter(s => s.getBoundingClientRect().width > 600).length`, 3},
		// Steps, passes, fails and the SLO line on the served chart; the window too on the gap chart.
		{"served series", `document.querySelectorAll('svg.chart[data-chart="served"] .series').length`, 4},
		{"gap series", `document.querySelectorAll('svg.chart[data-chart="gap-p99"] .series').length`, 4},
		// Every step in the table.
		{"step rows", `document.querySelectorAll('#steps tbody tr').length`, len(capacityFixture().Steps)},
		{"scripts", `document.scripts.length`, 0},
		{"horizontal overflow", `Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`, 0},
	} {
		got, err := chromedp.Run(bctx, chromedp.Evaluate[int](c.js))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	checkPage(t, bctx, url, shot, events, others)
}
