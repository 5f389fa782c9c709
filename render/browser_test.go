package render

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser test opens report.html in a real Chromium (Debian's package: `apt-get install -y
// chromium`) and checks what only a browser can tell: the page parses and lays out with no
// console error, it asks nothing of the network, every chart has its series, and a screenshot
// shows something. It is skipped where no Chromium is installed, except in CI (CI is set),
// where a missing browser fails it: a test that CI skips silently protects nothing.

// chromePath returns the Chromium to drive: $LPBENCH_CHROME, else Debian's or Ubuntu's binary.
func chromePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LPBENCH_CHROME"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("LPBENCH_CHROME: %v", err)
		}
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found, and CI must run the browser test: apt-get install -y chromium, or set LPBENCH_CHROME")
	}
	t.Skip("no Chromium found (apt-get install -y chromium, or set LPBENCH_CHROME); CI does not skip this test")
	return ""
}

// pageEvents collects what the browser reports while the page is open. Listen calls add on the
// goroutine that reads the browser's messages, so it only appends under a lock.
type pageEvents struct {
	mu       sync.Mutex
	errors   []string // console errors, uncaught exceptions, log entries at level error
	requests []string // every request the page made, by URL
}

func (e *pageEvents) add(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, fmt.Sprint(a.Value, a.Description))
			}
			e.errors = append(e.errors, "console."+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		msg := "exception"
		if d := ev.ExceptionDetails; d != nil {
			msg += ": " + d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
		}
		e.errors = append(e.errors, msg)
	case *log.EventEntryAdded:
		if ev.Entry != nil && ev.Entry.Level == log.EntryLevelError {
			e.errors = append(e.errors, fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			e.requests = append(e.requests, ev.Request.URL)
		}
	}
}

func (e *pageEvents) snapshot() (errors, requests []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.errors...), append([]string(nil), e.requests...)
}

func TestHTMLInBrowser(t *testing.T) {
	chrome := chromePath(t)
	dir := t.TempDir()
	page := []byte(renderHTML(t, htmlResult(t)))
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}

	bctx, url, events, others := openInBrowser(t, chrome, dir, file)
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening the page: %v", err)
	}

	// Every chart is there, with its series.
	for id, want := range wantSeries {
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](
			fmt.Sprintf(`document.querySelectorAll('svg.chart[data-chart="%s"] .series').length`, id)))
		if err != nil {
			t.Fatalf("counting the series of %s: %v", id, err)
		}
		if n != len(want) {
			t.Errorf("chart %s has %d series in the browser, want %d", id, n, len(want))
		}
	}
	for _, c := range []struct {
		name, js string
		want     int
	}{
		// No chart more or less than expected.
		{"charts", `document.querySelectorAll('svg.chart').length`, len(wantSeries)},
		// Every chart is drawn with a width, not collapsed.
		{"charts laid out", `[...document.querySelectorAll('svg.chart')].filter(s => s.getBoundingClientRect().width > 600).length`, len(wantSeries)},
		// No script.
		{"scripts", `document.scripts.length`, 0},
		// Nothing wider than the 1280-px window: tables and the profile scroll in their boxes.
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
	shotPath := filepath.Join(t.TempDir(), "report.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shotPath, len(shot))
	if keep := os.Getenv("LPBENCH_SCREENSHOT"); keep != "" { // e.g. for CI to keep as an artifact
		if err := os.WriteFile(keep, shot, 0o644); err != nil {
			t.Error(err)
		}
	}
	checkPage(t, bctx, url, shot, events, others)
}

// checkPage judges a page opened by openInBrowser once its own checks are done: its screenshot
// is drawn, and after a moment for late requests (a favicon comes after the load) and messages,
// the browser reported no error, the page asked for nothing but itself, and the server was
// pageCheck is one count a page must show in the browser: a script that returns an int.
type pageCheck struct {
	name, js string
	want     int
}

// checkPageInBrowser writes page as file name in a fresh directory, opens it in Chromium, runs
// every check, and then checks the page as checkPage does (console, requests, screenshot).
func checkPageInBrowser(t *testing.T, name, page string, checks []pageCheck) {
	t.Helper()
	chrome := chromePath(t)
	dir := t.TempDir()
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	bctx, url, events, others := openInBrowser(t, chrome, dir, file)
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening the page: %v", err)
	}
	for _, c := range checks {
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

// asked for nothing else.
func checkPage(t *testing.T, bctx context.Context, url string, shot []byte, events *pageEvents, others func() []string) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	checkNotBlank(t, img)
	if err := chromedp.Do(bctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	errs, reqs := events.snapshot()
	for _, e := range errs {
		t.Errorf("browser reported: %s", e)
	}
	for _, r := range reqs {
		if r != url {
			t.Errorf("page made a request: %s", r)
		}
	}
	if len(reqs) == 0 {
		t.Error("no request seen, not even the page's: the network events were not collected")
	}
	for _, o := range others() {
		t.Errorf("server was asked for %s", o)
	}
}

// openInBrowser serves file alone on 127.0.0.1 and starts headless Chromium (chrome) on a tab
// that listens to the page's events, with its profile under dir; it returns the tab, the page's
// URL, the events, and the other paths the server was asked for (a self-contained page asks for
// none: a favicon, a font or a stylesheet would show up there). Everything stops with the test.
func openInBrowser(t *testing.T, chrome, dir, file string) (bctx context.Context, url string, events *pageEvents, others func() []string) {
	t.Helper()
	var mu sync.Mutex
	var asked []string
	page := "/" + filepath.Base(file)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == page {
			http.ServeFile(w, r, file)
			return
		}
		mu.Lock()
		asked = append(asked, r.URL.String())
		mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox, // containers and CI runners often run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 2000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	events = &pageEvents{}
	if err := chromedp.Do(bctx); err != nil { // starts the browser and opens the tab
		t.Fatalf("starting %s: %v", chrome, err)
	}
	if err := chromedp.Listen(bctx, events.add); err != nil {
		t.Fatal(err)
	}
	return bctx, srv.URL + page, events, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

// checkNotBlank fails unless the screenshot is 1280 px wide and drawn: more than 1% of its pixels
// not white, in more than a few colours (text, lines and bars in the series' colours).
func checkNotBlank(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != 1280 {
		t.Errorf("screenshot is %d px wide, want 1280", b.Dx())
	}
	colours := map[[3]uint32]bool{}
	inked, total := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			total++
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				inked++
			}
			if len(colours) <= 1000 {
				colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			}
		}
	}
	if share := float64(inked) / float64(total); share <= 0.01 {
		t.Errorf("screenshot looks blank: %.2f%% of pixels not white", 100*share)
	}
	if len(colours) < 16 {
		t.Errorf("screenshot has %d colours, want at least 16", len(colours))
	}
}
