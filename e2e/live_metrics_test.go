package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
)

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPrometheus starts the distribution's Prometheus server scraping target every second,
// with native histograms (Prometheus 2.42 then scrapes the protobuf format and keeps only the
// native buckets of a histogram that has them), its storage in a temporary directory, and
// returns its web address once it is ready; it is killed when the test ends. Without the binary
// the test skips, except under CI, which installs it (.ci/run), where it fails.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("prometheus is not installed, and CI installs it (.ci/run: apt-get install prometheus): %v", err)
		}
		t.Skip("prometheus is not installed (apt-get install prometheus; CI installs it)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	body := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: lpbench\n    static_configs:\n      - targets: ['%s']\n", target)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	web := freeAddr(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+web, "--enable-feature=native-histograms")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + web + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return web
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30 s")
		}
	}
}

// promSample is one sample of an instant query: a float, or a native histogram's buckets.
type promSample struct {
	value   float64
	buckets [][2]float64 // lower and upper bounds of each populated bucket
}

// promResult is the answer of an instant query.
type promResult struct {
	Status string
	Error  string
	Data   struct {
		Result []struct {
			Value     [2]any            `json:"value"`     // [time, "value"]
			Histogram []json.RawMessage `json:"histogram"` // [time, {count, sum, buckets}]
		}
	}
}

// promGet runs an instant PromQL query at time at.
func promGet(t *testing.T, web, query string, at time.Time) promResult {
	t.Helper()
	q := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	resp, err := http.Get("http://" + web + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r promResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return r
}

// promQuery runs an instant PromQL query at time at and returns its only sample.
func promQuery(t *testing.T, web, query string, at time.Time) promSample {
	t.Helper()
	r := promGet(t, web, query, at)
	if r.Status != "success" || len(r.Data.Result) != 1 {
		t.Fatalf("%s: status %s %s, %d samples, want 1", query, r.Status, r.Error, len(r.Data.Result))
	}
	res := r.Data.Result[0]
	var s promSample
	if v, ok := res.Value[1].(string); ok {
		var err error
		if s.value, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	var h struct {
		Buckets [][4]any // [boundary rule, "lower", "upper", "count"]
	}
	if len(res.Histogram) == 2 {
		if err := json.Unmarshal(res.Histogram[1], &h); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	for _, b := range h.Buckets {
		lo, _ := strconv.ParseFloat(b[1].(string), 64)
		hi, _ := strconv.ParseFloat(b[2].(string), 64)
		s.buckets = append(s.buckets, [2]float64{lo, hi})
	}
	return s
}

// TestPrometheusScrapesARun: a real Prometheus server scrapes a run's metrics endpoint (given in
// the profile, outputs.metrics_listen) every second. Afterwards, PromQL's count of journeys and
// of started arrivals equals result.json's, and histogram_quantile over CONVERSATION's native
// histogram lands within the histogram's precision of result.json's p99 (see quantileBound).
func TestPrometheusScrapesARun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a Prometheus server and a 3 s run")
	}
	target := freeAddr(t)
	web := startPrometheus(t, target)
	dir := t.TempDir()
	prof := writeProfile(t, "load:\n  stages:\n    - {duration: 3s, rate: 50}\n"+relaxTiming+
		"outputs:\n  metrics_listen: "+target+"\n  metrics_linger: 5s\n")
	code, _, stderr := runBin(t, "run", prof, "--no-progress", "--out", dir)
	exited := time.Now()
	if code != exitcode.OK && code != exitcode.Thresholds && code != exitcode.NotValid { // the figures count either way
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res struct {
		Overall struct {
			Arrivals   struct{ Started int64 }
			Outcomes   map[string]int64
			Histograms map[string]struct {
				Count int64
				P99   int64 `json:"p99_ns"`
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	// The last scrapes were made while the endpoint lingered (5 s at 1 s intervals), after the
	// run; once lpbench has exited the next scrape fails and marks the series stale, so the
	// queries read just before it exited.
	at := exited.Add(-500 * time.Millisecond)
	var journeys int64
	for _, n := range res.Overall.Outcomes {
		journeys += n
	}
	if journeys < 100 {
		t.Fatalf("only %d journeys: too few to judge a p99", journeys)
	}
	if got := promQuery(t, web, "sum(lpbench_journeys_total)", at).value; got != float64(journeys) {
		t.Errorf("PromQL sum(lpbench_journeys_total) = %v, result.json counts %d journeys", got, journeys)
	}
	if got := promQuery(t, web, "sum(lpbench_arrivals_started_total)", at).value; got != float64(res.Overall.Arrivals.Started) {
		t.Errorf("PromQL sum(lpbench_arrivals_started_total) = %v, result.json %d", got, res.Overall.Arrivals.Started)
	}
	h := res.Overall.Histograms["step.create"]
	hist := promQuery(t, web, `sum(lpbench_step_seconds{step="create"})`, at)
	est := promQuery(t, web, `histogram_quantile(0.99, sum(lpbench_step_seconds{step="create"}))`, at).value
	p99 := float64(h.P99) / 1e9
	bound, why := quantileBound(hist.buckets, h.Count, 0.99)
	t.Logf("step.create p99: result.json %.6fs, histogram_quantile %.6fs (ratio %.4f, bound %.4f: %s)", p99, est, est/p99, bound, why)
	if r := est / p99; r > bound || r < 1/bound {
		t.Errorf("histogram_quantile(0.99) of step.create = %.6fs, result.json's p99 %.6fs: ratio %.4f outside [1/%.4f, %.4f] (%s)", est, p99, r, bound, bound, why)
	}
	checkDashboardQueries(t, web, at)
}

// checkDashboardQueries runs every query of the Grafana dashboard (deploy/grafana), its
// variables replaced, on the scraped run: each is valid PromQL, and each has data but those of
// failures (the run had none).
func checkDashboardQueries(t *testing.T, web string, at time.Time) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "deploy", "grafana", "lpbench.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	vars := strings.NewReplacer("$target", ".*", "$__rate_interval", "10s")
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			r := promGet(t, web, vars.Replace(tg.Expr), at)
			switch {
			case r.Status != "success":
				t.Errorf("dashboard panel %q: %s: %s", p.Title, tg.Expr, r.Error)
			case len(r.Data.Result) == 0 && !strings.Contains(tg.Expr, "lpbench_failures_total"):
				t.Errorf("dashboard panel %q: %s: no data", p.Title, tg.Expr)
			}
		}
	}
}

// quantileBound returns how far (as a ratio, either way) histogram_quantile(q) over a native
// histogram of n samples may land from the result's percentile, and why.
//
// Prometheus finds the bucket where the cumulative count reaches rank q·n, the sample of rank
// ⌈q·n⌉, and interpolates inside it: its estimate lies in that sample's bucket. The result's
// percentile is HdrHistogram's value of rank ⌊q·n + ½⌋, at most 0.1 % above the sample (3
// significant digits). When the two ranks agree, both lie in one bucket, whose bounds are a factor
// f apart (f = 2^(2^−schema): 1.0905 at the 1.1 factor lpbench asks for): the ratio is within f,
// with 0.1 % more for HdrHistogram. When they differ by one, the two samples may lie in adjacent
// buckets: within f².
func quantileBound(buckets [][2]float64, n int64, q float64) (float64, string) {
	f := 0.0
	for _, b := range buckets {
		if b[0] > 0 {
			f = max(f, b[1]/b[0]) // the widest bucket (the resolution may have been halved)
		}
	}
	if f == 0 {
		return 1, "no buckets"
	}
	rank := q * float64(n)                               // as Prometheus computes it
	prom, hdr := int64(math.Ceil(rank)), int64(rank+0.5) // as HdrHistogram does
	if prom == hdr {
		return f * 1.001, fmt.Sprintf("one native bucket: factor %.4f × 1.001 (ranks %d agree)", f, prom)
	}
	return f * f * 1.001, fmt.Sprintf("two native buckets: factor %.4f² × 1.001 (ranks %d and %d)", f, hdr, prom)
}

// TestQuantileBound: one bucket's factor when the ranks agree, two when they differ.
func TestQuantileBound(t *testing.T) {
	t.Parallel()
	b := [][2]float64{{0.03125, 0.0340783666457893}}
	f := 0.0340783666457893 / 0.03125
	for _, tc := range []struct {
		n    int64
		want float64
	}{{150, f * 1.001}, {200, f * 1.001}, {155, f * f * 1.001}} {
		if got, _ := quantileBound(b, tc.n, 0.99); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("n %d: bound %v, want %v", tc.n, got, tc.want)
		}
	}
	if strings.Contains(fmt.Sprint(quantileBound(nil, 10, 0.99)), "bucket:") {
		t.Error("no buckets gave a bucket bound")
	}
}

// TestInterruptEndsMetricsLinger: the binary keeps its metrics endpoint up after the run, serving
// the final figures, and SIGINT during that wait ends it at once, with the run's exit code.
func TestInterruptEndsMetricsLinger(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "run", "--duration", "1s", "--rate", "10", "--out", t.TempDir(), "--no-progress",
		"--relax-check", "generator_lag", "--relax-check", "generator_cpu", "--relax-check", "load_delivered", "--relax-check", "arrivals",
		"--metrics-listen", addr, "--metrics-linger", "30s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	var said strings.Builder
	for lines.Scan() && !strings.Contains(lines.Text(), "stays up") {
		said.WriteString(lines.Text() + "\n")
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("no metrics while lingering: %v\n%s", err, said.String())
	}
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(body.String(), `lpbench_arrivals_planned_total{target="sim"} 10`) {
		t.Errorf("the lingering endpoint does not serve the final arrivals:\n%s", body)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() { // drain what is left, so that the process never blocks on its stderr
		for lines.Scan() {
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == int(exitcode.Thresholds)) {
		t.Errorf("exit: %v, want the run's (0, or 3)", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to stop after SIGINT during the linger", took)
	}
}
