package lpsim

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loopClient drives one consumer's journeys (create, send, close, again) against a server over a
// keep-alive connection, reusing request bodies.
type loopClient struct {
	http *http.Client
	rm   remote // the server's hosts
	j    *journeyRequests
}

// newLoopClients authenticates n consumers of account A on the server at base, each with its own
// connection.
func newLoopClients(t testing.TB, base string, n int, prefix string) []*loopClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = n
	tr.DisableCompression = true
	hc := &http.Client{Transport: tr}
	rm := newRemoteClient(base, hc)
	cs := make([]*loopClient, n)
	for i := range cs {
		c := newConsumer(t, rm, accA, prefix+strconv.Itoa(i))
		cs[i] = &loopClient{http: hc, rm: rm, j: newJourneyRequests(t, c)}
	}
	return cs
}

// runLoad runs whole journeys from every client until d has passed and returns the number of
// requests and of journeys; every request must succeed.
func runLoad(t testing.TB, cs []*loopClient, d time.Duration) (requests, journeys int64, elapsed time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var total, done atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			var out bytes.Buffer
			// Whole journeys only, so the ledger can be compared exactly.
			for i := 0; ctx.Err() == nil || i%3 != 0; i++ {
				st, err := c.do(context.Background(), i, &out)
				total.Add(1)
				if err != nil || st != http.StatusOK {
					t.Errorf("request %d: status %d, error %v: %s", i, st, err, out.Bytes())
					return
				}
				if i%3 == 2 {
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	// Close the clients' connections: a server's graceful shutdown would otherwise wait for
	// connections the transport dialled but never used.
	cs[0].http.CloseIdleConnections()
	return total.Load(), done.Load(), elapsed
}

// do sends request i of the cycle and reads the whole answer (so the connection is reused).
func (c *loopClient) do(ctx context.Context, i int, out *bytes.Buffer) (int, error) {
	tmpl := c.j.next(i)
	// A body of its own: the transport may still be writing a request's body after Do returned
	// (an early answer, a cancel), while the template's reader and bytes are reused.
	body, err := io.ReadAll(tmpl.Body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.rm.url(tmpl.URL.RequestURI()), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = tmpl.Header
	req.ContentLength = tmpl.ContentLength
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	out.Reset()
	if _, err := out.ReadFrom(resp.Body); err != nil {
		return 0, err
	}
	c.j.answered(i, out.Bytes())
	return resp.StatusCode, nil
}

// TestLoopbackLoad is the simulator's own load test: a handful of clients on keep-alive
// connections to 127.0.0.1 run journeys (create, send, close) for 2 s with the latency model off.
// It logs the request rate achieved (client and server share this process and its CPUs: see
// BENCHMARKS.md for figures and commands), and checks that every request succeeded and the
// ledger agrees with the clients.
func TestLoopbackLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("2 s load test")
	}
	const clients = 8
	srv := startServer(t, testConfig())
	n, journeys, elapsed := runLoad(t, newLoopClients(t, srv.URL, clients, "load-"), 2*time.Second)
	t.Logf("%d requests (%d journeys) in %v from %d clients: %.0f requests/s (GOMAXPROCS %d)",
		n, journeys, elapsed.Round(time.Millisecond), clients, float64(n)/elapsed.Seconds(), runtime.GOMAXPROCS(0))
	l := srv.Ledger()
	if l.ConversationsCreated != journeys || l.FirstSends != journeys || l.ConversationsClosed != journeys {
		t.Errorf("ledger: created %d, first sends %d, closed %d; clients finished %d journeys", l.ConversationsCreated, l.FirstSends, l.ConversationsClosed, journeys)
	}
	// The rate is logged, not judged: what a shared machine gives this process says nothing of
	// the server (BenchmarkLoopback measures it). A server that served nothing is broken.
	if journeys == 0 {
		t.Errorf("no journey finished in %v", elapsed)
	}
}

// helperServerEnv, when set, turns this test binary into a standalone simulator
// (TestHelperStandaloneServer) for TestStandaloneLoad.
const helperServerEnv = "LPSIM_HELPER_SERVER"

// TestHelperStandaloneServer is not a test: run by TestStandaloneLoad in a child process, it
// serves testConfig() with Serve on 127.0.0.1:0, banner on stdout, until its stdin closes.
func TestHelperStandaloneServer(t *testing.T) {
	if os.Getenv(helperServerEnv) != "1" {
		t.Skip("the server process of TestStandaloneLoad")
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := Serve(ctx, "127.0.0.1:0", testConfig(), os.Stdout); err != nil {
		t.Fatal(err)
	}
}

// TestStandaloneLoad measures the standalone server on one core: a child process (this test
// binary, as TestHelperStandaloneServer) runs Serve with GOMAXPROCS=1, and clients in this
// process load it over 127.0.0.1 for 2 s, latency off. The figure that does not depend on how
// fast the clients are is requests per second of the server's CPU time (user + system, from the
// OS): what one core serves when saturated.
func TestStandaloneLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("2 s load test in a child process")
	}
	const clients = 8
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStandaloneServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperServerEnv+"=1", "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	defer func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("no banner from the server process: %v", lines.Err())
	}
	base, ok := strings.CutPrefix(lines.Text(), "lpsim listening on ")
	if !ok {
		t.Fatalf("banner %q", lines.Text())
	}
	go io.Copy(io.Discard, stdout) // the rest of the banner and the child's test output

	n, journeys, elapsed := runLoad(t, newLoopClients(t, base, clients, "standalone-"), 2*time.Second)
	stdin.Close() // the server stops
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("server process: %v", err)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	t.Logf("%d requests (%d journeys) in %v from %d clients: %.0f requests/s; server (GOMAXPROCS=1) CPU %v, %.0f%% of one core: %.0f requests per server CPU-second",
		n, journeys, elapsed.Round(time.Millisecond), clients, float64(n)/elapsed.Seconds(),
		cpu.Round(time.Millisecond), 100*cpu.Seconds()/elapsed.Seconds(), float64(n)/cpu.Seconds())
	// Logged, not judged, as in TestLoopbackLoad.
	if journeys == 0 {
		t.Errorf("no journey finished in %v", elapsed)
	}
}

// BenchmarkLoopback measures requests over real HTTP on 127.0.0.1 (keep-alive, latency off):
// client and server in one process, one request per op.
func BenchmarkLoopback(b *testing.B) {
	cfg := testConfig()
	srv, err := NewServer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	par := runtime.GOMAXPROCS(0) * 4 // goroutines per RunParallel: 4 per P
	cs := newLoopClients(b, srv.URL, par, "bench-loop-")
	var next atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := cs[int(next.Add(1)-1)%len(cs)]
		var out bytes.Buffer
		for i := 0; pb.Next(); i++ {
			if st, err := c.do(context.Background(), i, &out); err != nil || st != http.StatusOK {
				b.Errorf("status %d, error %v: %s", st, err, out.Bytes())
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	// Close the clients' connections first: the server's graceful shutdown would otherwise wait
	// for connections the transport dialled but never used.
	cs[0].http.CloseIdleConnections()
}
