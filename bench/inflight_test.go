package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptrace"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/sample"
)

// stalledSimEnv, set in a child process, makes TestMain run a standalone simulator whose
// CONVERSATION never answers in time (10 minutes), until the parent kills it.
const stalledSimEnv = "LPBENCH_BENCH_STALLED_SIM"

func TestMain(m *testing.M) {
	if os.Getenv(stalledSimEnv) != "" {
		cfg := fastConfig()
		cfg.Latency = map[lpsim.Endpoint]lpsim.Latency{lpsim.EndpointCreate: lpsim.Fixed(10 * time.Minute)}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if err := lpsim.Serve(ctx, "127.0.0.1:0", cfg, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// stalledSim starts the stalled simulator in a child process (so that its memory is not the
// generator's) and returns its URL and first account; the child ends with the test.
func stalledSim(t testing.TB) (string, lpsim.Account) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), stalledSimEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var url string
	acct := lpsim.Account{}
	sc := bufio.NewScanner(out)
	for sc.Scan() && (url == "" || acct.ClientSecret == "") {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 4 && f[0] == "lpsim" && f[1] == "listening":
			url = f[3]
		case len(f) >= 8 && f[0] == "account" && acct.ID == "":
			acct.ID, acct.ClientID, acct.ClientSecret = f[1], f[5], f[7]
		}
	}
	if url == "" || acct.ClientSecret == "" {
		t.Fatalf("the stalled simulator gave no URL and account (%v)", sc.Err())
	}
	go func() { // keep the pipe drained
		for sc.Scan() {
		}
	}()
	return url, acct
}

// inflightBytes holds n journeys in flight — each waiting for its CONVERSATION's answer from the
// stalled simulator, as journeys wait on a saturated target — started one after the other (each
// once the previous one's CONVERSATION was written: one connection to the idp host serves them
// all), or all at once with burst (each ConsumerJWS on a connection of its own, idle afterwards:
// the worst case, as the order of the connections' reuse varies), and returns the generator's heap
// and goroutine stacks per journey in flight (after a GC, over the same figure with none), and
// goroutines per journey. The journeys are built as a run builds them, for a run of n in flight.
func inflightBytes(t testing.TB, n int, burst bool) (heapPerJourney, stacksPerJourney, goroutinesPerJourney float64) {
	url, acct := stalledSim(t)
	epoch := time.Now()
	j := newJourney(t, url, acct, epoch)
	tgt := j.Client.Target()
	tgt.MaxInFlight = n
	var err error
	if j.Client, err = lp.NewClient(tgt); err != nil {
		t.Fatal(err)
	}
	j.Opts.Close = false // nothing to close: no conversation is opened
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The shared lookups, and one connection per host, before the count.
	first := sample.Record{Index: 0}
	warm, warmCancel := context.WithTimeout(ctx, 200*time.Millisecond)
	j.Run(warm, &first)
	warmCancel()
	base := heapAndStacks()
	g0 := runtime.NumGoroutine()
	// In flight: every journey past its ConsumerJWS, its CONVERSATION written and unanswered:
	// two requests written per journey. (The counting hook makes each request's trace one of
	// its own instead of a recycled one: a few hundred bytes per journey more, counted.)
	wrote := make(chan struct{}, 2*n)
	tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote <- struct{}{} }})
	var wg sync.WaitGroup
	timeout := time.After(2 * time.Minute)
	await := func(k int) {
		for range k {
			select {
			case <-wrote:
			case <-timeout:
				t.Fatalf("not every journey in flight after 2 minutes")
			}
		}
	}
	for i := range n {
		wg.Go(func() {
			rec := &sample.Record{Index: int64(i + 1)}
			j.Run(tctx, rec)
		})
		if !burst {
			await(2) // its ConsumerJWS and CONVERSATION written: the next journey reuses the idp connection
		}
	}
	if burst {
		await(2 * n)
	}
	held := heapAndStacks()
	g1 := runtime.NumGoroutine()
	cancel()
	wg.Wait()
	j.Client.CloseIdleConnections()
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return per(held.heap, base.heap), per(held.stacks, base.stacks), float64(g1-g0) / float64(n)
}

// memory is the heap in use and the goroutine stacks.
type memory struct{ heap, stacks uint64 }

// heapAndStacks returns the heap in use and goroutine stacks, after a GC.
func heapAndStacks() memory {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{m.HeapAlloc, m.StackInuse}
}

// BenchmarkInFlight reports the generator's memory per journey in flight (heap and goroutine
// stacks, B/journey, and each) and goroutines per journey, for 2,000 journeys held in flight by a
// stalled simulator in another process (see inflightBytes), started one after the other
// ("sequential") or all at once ("burst"). One op is one such measurement.
func BenchmarkInFlight(b *testing.B) {
	for _, burst := range []bool{false, true} {
		name := map[bool]string{false: "sequential", true: "burst"}[burst]
		b.Run(name, func(b *testing.B) {
			var heap, stacks, gs float64
			for b.Loop() {
				heap, stacks, gs = inflightBytes(b, 2000, burst)
			}
			b.ReportMetric(heap+stacks, "B/journey")
			b.ReportMetric(heap, "heap-B/journey")
			b.ReportMetric(stacks, "stack-B/journey")
			b.ReportMetric(gs, "goroutines/journey")
		})
	}
}

// inflightCeiling bounds the generator's memory per journey in flight, heap and stacks (see
// inflightBytes, journeys started one after the other): TestInFlightBytes fails past it.
const inflightCeiling = 34 << 10

// TestInFlightBytes: a journey in flight, waiting for its CONVERSATION's answer, holds no more
// than inflightCeiling bytes of the generator's heap and goroutine stacks.
func TestInFlightBytes(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("holds 500 journeys in flight against a child process; not under -race")
	}
	heap, stacks, gs := inflightBytes(t, 500, false)
	t.Logf("per journey in flight: %.0f B (heap %.0f, stacks %.0f), %.2f goroutines", heap+stacks, heap, stacks, gs)
	if heap+stacks > inflightCeiling {
		t.Errorf("%.0f bytes per journey in flight, ceiling %d", heap+stacks, inflightCeiling)
	}
}
