package lpsim

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestCapacityConcurrency: with 2 slots and a fixed 50 ms service time, 10 concurrent requests
// need at least 5 rounds (250 ms); the queue shows in the ledger, while arrival times stay at
// arrival.
func TestCapacityConcurrency(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Latency = map[Endpoint]Latency{EndpointCSDS: Fixed(50 * time.Millisecond)}
	cfg.Capacity = map[Endpoint]ServiceLimit{EndpointCSDS: {Concurrency: 2}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if st, b := call(t, s, "GET", csdsAllPath(accA), ""); st != 200 {
				t.Errorf("status %d: %s", st, b)
			}
		})
	}
	wg.Wait()
	if got, least := time.Since(start), 240*time.Millisecond; got < least {
		t.Errorf("%d requests through 2 slots of 50ms took %v, want >= %v", n, got, least)
	}
	q := s.Ledger().Queues[EndpointCSDS]
	// Of 10 requests arriving together at 2 slots, 8 wait; goroutines may start late, so only
	// bounds are asserted.
	if q.Queued < 1 || q.Queued > n-2 {
		t.Errorf("queued = %d, want 1..%d", q.Queued, n-2)
	}
	if q.MaxDepth < 1 || q.MaxDepth > n-2 {
		t.Errorf("max depth = %d, want 1..%d", q.MaxDepth, n-2)
	}
	if q.Wait < 50*time.Millisecond || q.MaxWait < 50*time.Millisecond || q.MaxWait > q.Wait {
		t.Errorf("wait %v, max wait %v: want >= 50ms each, max <= total", q.Wait, q.MaxWait)
	}
	// Other endpoints are unlimited and show no queue.
	if q := s.Ledger().Queues[EndpointCreate]; q != (QueueStats{}) {
		t.Errorf("create queue = %+v, want zero", q)
	}
}

// TestCapacityArrivalTime: a CONVERSATION that queues keeps its arrival time in the ledger, and
// the queue counts in the time the client waits.
func TestCapacityArrivalTime(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Window = 10 * time.Second
	cfg.Latency = map[Endpoint]Latency{EndpointCreate: Fixed(100 * time.Millisecond)}
	cfg.Capacity = map[Endpoint]ServiceLimit{EndpointCreate: {Concurrency: 1}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newConsumer(t, s, accA, "first"), newConsumer(t, s, accA, "second")
	var wg sync.WaitGroup
	wg.Go(func() { a.create(t, true) })
	time.Sleep(20 * time.Millisecond) // b arrives while a holds the only slot
	before := s.elapsed()
	start := time.Now()
	st, _, id := b.create(t, true)
	took := time.Since(start)
	wg.Wait()
	if st != 200 {
		t.Fatalf("create: %d", st)
	}
	if took < 150*time.Millisecond {
		t.Errorf("queued create answered after %v, want >= 150ms (queue + service)", took)
	}
	if got := conversationOf(t, s, id).CreateReceived - before; got > 50*time.Millisecond {
		t.Errorf("CreateReceived %v after arrival, want at arrival", got)
	}
}

// TestCapacityRate: a rate capacity paces requests (they wait, none is refused).
func TestCapacityRate(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Capacity = map[Endpoint]ServiceLimit{EndpointCSDS: {Rate: 100}} // burst 1
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if st, _ := call(t, s, "GET", csdsAllPath(accA), ""); st != http.StatusOK {
				t.Errorf("status %d", st)
			}
		})
	}
	wg.Wait()
	// 30 requests at 100/s with a burst of 1: the last enters service 290 ms after the first.
	if got, least := time.Since(start), 250*time.Millisecond; got < least {
		t.Errorf("%d requests at 100/s took %v, want >= %v", n, got, least)
	}
	if q := s.Ledger().Queues[EndpointCSDS]; q.Queued < n/2 || q.MaxDepth < 2 {
		t.Errorf("queue %+v: want most requests queued", q)
	}
}

// TestCapacityClosePrompt: requests waiting in a queue are answered at once when the server
// closes.
func TestCapacityClosePrompt(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Latency = map[Endpoint]Latency{EndpointCSDS: Fixed(time.Minute)}
	cfg.Capacity = map[Endpoint]ServiceLimit{EndpointCSDS: {Concurrency: 1, Rate: 0.01}}
	srv := startServer(t, cfg)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if resp, err := http.Get(srv.URL + csdsAllPath(accA)); err == nil {
				resp.Body.Close()
			}
		})
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Ledger().Requests[EndpointCSDS][200] < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("requests never reached the server")
		}
	}
	start := time.Now()
	srv.Close()
	wg.Wait()
	if got := time.Since(start); got > 3*time.Second {
		t.Errorf("Close took %v with queued requests", got)
	}
}

// TestRegionLatency: the region's offset is added to every answer for accounts of the region.
func TestRegionLatency(t *testing.T) {
	t.Parallel()
	cfg := testConfig() // accA in va, accB in lo
	cfg.RegionLatency = map[string]time.Duration{"lo": 80 * time.Millisecond}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	call(t, s, "GET", csdsAllPath(accB), "")
	if got := time.Since(start); got < 80*time.Millisecond {
		t.Errorf("lo answer after %v, want >= 80ms", got)
	}
	start = time.Now()
	call(t, s, "GET", csdsAllPath(accA), "")
	if got := time.Since(start); got > 70*time.Millisecond {
		t.Errorf("va answer after %v, want no offset", got)
	}
}

// TestCapacityKnee: below an endpoint's capacity the service time is all a request waits; above
// it, the queue grows and so does latency: the knee a ramp must show. Capacity here is 4 slots of
// a fixed 20 ms: 200 requests/s.
func TestCapacityKnee(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("1 s of paced load")
	}
	cfg := testConfig()
	cfg.Latency = map[Endpoint]Latency{EndpointCSDS: Fixed(20 * time.Millisecond)}
	cfg.Capacity = map[Endpoint]ServiceLimit{EndpointCSDS: {Concurrency: 4}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// median runs requests at rate per second for d, open loop, and returns their median latency.
	median := func(rate float64, d time.Duration) time.Duration {
		n := int(rate * d.Seconds())
		lat := make([]time.Duration, n)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range n {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
			wg.Go(func() {
				t0 := time.Now()
				call(t, s, "GET", csdsAllPath(accA), "")
				lat[i] = time.Since(t0)
			})
		}
		wg.Wait()
		slices.Sort(lat)
		return lat[n/2]
	}
	below := median(100, 400*time.Millisecond)
	above := median(400, 400*time.Millisecond)
	t.Logf("median latency at 100/s: %v; at 400/s: %v", below, above)
	if below > 40*time.Millisecond {
		t.Errorf("at half the capacity, median %v: want about the 20ms service time", below)
	}
	// At twice the capacity for 0.4 s the queue reaches ~80 requests: the median waits ~200 ms.
	if above < 60*time.Millisecond {
		t.Errorf("at twice the capacity, median %v: want well above the 20ms service time", above)
	}
}
