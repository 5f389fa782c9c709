package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/sample"
)

// inFlightFootprint holds n journeys in flight — each waiting for a first SEND the simulator
// sits on — and returns the memory they hold, per journey: heap in use plus goroutine stacks,
// after a GC, less the same before they started. The simulator runs in this process, so the
// figure includes its side of each connection (a goroutine, its buffers, a timer).
func inFlightFootprint(tb testing.TB, n int) (perJourney float64) {
	cfg := lpsim.DefaultConfig()
	cfg.Accounts = cfg.Accounts[:1]
	cfg.Latency = map[lpsim.Endpoint]lpsim.Latency{lpsim.EndpointSend: lpsim.Fixed(time.Hour)}
	cfg.RegionLatency, cfg.Capacity, cfg.RateLimits = nil, nil, nil
	sim, err := lpsim.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var sending atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/send") {
			sending.Add(1)
		}
		sim.ServeHTTP(w, r)
	}))
	defer srv.Close()
	acct := sim.Config().Accounts[0]
	p := profiles.Defaults()
	p.Load.MaxInFlight = n
	p.Journey.RequestTimeout = time.Hour
	t := profiles.Target{Name: "va", Account: acct.ID, CSDS: srv.URL, ClientIDEnv: "ID", ClientSecretEnv: "SECRET"}
	creds := map[string]string{"ID": acct.ClientID, "SECRET": acct.ClientSecret}
	j, err := NewJourney(p, t, nil, func(k string) string { return creds[k] }, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	defer j.Client.CloseIdleConnections()

	before := footprint()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	recs := make([]sample.Record, n)
	for i := range recs {
		wg.Go(func() {
			recs[i].Index = int64(i)
			j.Run(ctx, &recs[i])
		})
	}
	for deadline := time.Now().Add(time.Minute); sending.Load() < int64(n); {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d journeys reached SEND in a minute", sending.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the last SENDs' handlers settle into their wait
	held := footprint()
	cancel()
	wg.Wait()
	return float64(held-before) / float64(n)
}

// footprint returns the heap in use and the goroutine stacks, after a GC.
func footprint() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse)
}

// BenchmarkInFlightMemory reports the memory one journey in flight holds (bytes/journey, heap
// and stacks, the in-process simulator's side of its connection included), with 2,000 journeys
// held at their first SEND. Run it with -benchtime=1x. On Go 1.26/amd64 it reads about 64 KB, of
// which lpbench's side is about 30 KB: its goroutine and the connection's two (≈ 18 KB of
// stacks), the connection's read and write buffers (8 KB), the request and its context (≈ 4 KB);
// a journey waiting for a connection holds about 15 KB. RSS is about twice the live heap (GOGC).
func BenchmarkInFlightMemory(b *testing.B) {
	var per float64
	for b.Loop() {
		per = inFlightFootprint(b, 2000)
	}
	b.ReportMetric(per, "bytes/journey")
}

// TestInFlightMemory bounds the memory a journey in flight holds: 500 journeys held at their
// first SEND. 128 KB a journey (client and in-process simulator) is twice what it takes
// (BenchmarkInFlightMemory says how much) and far below what a leak per request would add.
func TestInFlightMemory(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("measures memory: not under -race (its shadow memory) or -short")
	}
	if per := inFlightFootprint(t, 500); per > 128<<10 {
		t.Errorf("a journey in flight holds %.0f bytes, want ≤ 128 KB", per)
	} else {
		t.Logf("a journey in flight holds %.0f bytes (client and in-process simulator)", per)
	}
}

// TestInFlightBound: the runners' bound is max_in_flight, cut to what the process can give a
// connection each.
func TestInFlightBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                        string
		maxInFlight, capacity, want int
	}{
		{"within capacity", 500, 9984, 500},     // the profile's bound holds
		{"past capacity", 50000, 9984, 9984},    // cut to the connections the process can hold
		{"capacity not known", 50000, 0, 50000}, // no limit known: the profile's
	} {
		if got, want := inFlightBound(tc.maxInFlight, tc.capacity), tc.want; got != want {
			t.Errorf("%s: inFlightBound(%d, %d) = %d, want %d", tc.name, tc.maxInFlight, tc.capacity, got, want)
		}
	}
}
