package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// fastConfig is the simulator of the cost figures (bench/sim-fast.yaml): one account, no latency,
// no capacity queues, no rate limits, no webhooks.
func fastConfig() lpsim.Config {
	cfg := lpsim.DefaultConfig()
	cfg.Accounts = cfg.Accounts[:1]
	cfg.Latency, cfg.RegionLatency = nil, nil
	cfg.Capacity, cfg.RateLimits = nil, nil
	return cfg
}

// clientSide labels the calling goroutine, and so every goroutine it starts from now on (the
// transport's connection goroutines, the recorder's), side=client: in a CPU profile,
// `go tool pprof -tagfocus side=client` then shows the generator's cost without the in-process
// simulator's, whose goroutines were started before.
func clientSide() {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("side", "client")))
}

// newJourney returns lpbench's journey for the simulator at url, built by the engine as `lpbench
// run` builds a target's, with the default profile's journey options.
func newJourney(b testing.TB, url string, acct lpsim.Account, epoch time.Time) *lp.Journey {
	t := profiles.Target{Name: "va", Account: acct.ID, CSDS: url, ClientIDEnv: "ID", ClientSecretEnv: "SECRET"}
	creds := map[string]string{"ID": acct.ClientID, "SECRET": acct.ClientSecret}
	j, err := engine.NewJourney(profiles.Defaults(), t, nil, func(k string) string { return creds[k] }, epoch)
	if err != nil {
		b.Fatal(err)
	}
	return j
}

// BenchmarkJourney is lpbench's code path for one journey — lp.Journey.Run (ConsumerJWS,
// CONVERSATION, first SEND, close over HTTP) and report.Recorder.Record — against an in-process
// simulator with latency off, from 8 goroutines. One op is one journey. The wall-clock figure
// includes the simulator; profile it with -cpuprofile and read the generator's part with
// -tagfocus side=client (see BENCHMARKS.md).
func BenchmarkJourney(b *testing.B) {
	srv, err := lpsim.NewServer(fastConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	clientSide()
	epoch := time.Now()
	j := newJourney(b, srv.URL, srv.Config().Accounts[0], epoch)
	rec := report.NewRecorder(report.RecorderOptions{Targets: []string{"va"}, Epoch: epoch, Window: 10 * time.Second})
	var next atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := sample.Record{Index: next.Add(1), Intended: time.Since(epoch)}
			j.Run(context.Background(), &r)
			if r.Outcome != sample.OutcomeOK {
				failed.Add(1)
			}
			rec.Record(&r)
		}
	})
	_, all := rec.Close()
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d journeys failed: %v", n, b.N, all.Failures)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "journeys/s")
}

// BenchmarkPlainJourney is the same load through the baseline client (Plain): the same requests
// with no bookkeeping. Its profile, next to BenchmarkJourney's, shows what lpbench adds.
func BenchmarkPlainJourney(b *testing.B) {
	srv, err := lpsim.NewServer(fastConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	clientSide()
	acct := srv.Config().Accounts[0]
	c := NewPlain(acct.ID)
	if err := c.Setup(srv.URL, acct.ClientID, acct.ClientSecret); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Journey(int(next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "journeys/s")
}

// exactLatency holds every CONVERSATION and SEND request (close included) for exactly d before
// the simulator answers it: it sleeps to a millisecond before the deadline and spins the rest,
// because a Go timer in a process that is otherwise idle fires up to a millisecond late (the
// runtime waits in epoll with millisecond resolution).
func exactLatency(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/messaging/") {
			deadline := time.Now().Add(d)
			time.Sleep(d - time.Millisecond)
			for time.Now().Before(deadline) {
			}
		}
		h.ServeHTTP(w, r)
	})
}

// BenchmarkStepTiming measures lpbench's timing fidelity: journeys one after another against an
// in-process simulator whose CONVERSATION and SEND take exactly 20 ms (exactLatency). The
// lpbench case records the steps as lpbench does; the plain case times the same requests with
// the baseline client (time.Since around each request and its answer). Each reports the p50 of
// CONVERSATION and SEND minus 20 ms — what the client sees beyond the server's time, loopback
// included — and the p50 of ConsumerJWS, which the server answers at once: the floor of any
// step. lpbench's own timing error is its figure minus the plain one. -benchtime 300x gives 300
// samples per step.
func BenchmarkStepTiming(b *testing.B) {
	const latency = 20 * time.Millisecond
	run := func(b *testing.B, journey func(i int, jws, create, send *hdrhistogram.Histogram)) {
		jws, create, send := hdr.New(), hdr.New(), hdr.New()
		b.ResetTimer()
		for i := range b.N {
			journey(i, jws, create, send)
		}
		b.StopTimer()
		b.ReportMetric(float64(hdr.Percentile(create, 50)-latency)/1e3, "create-p50-err-µs")
		b.ReportMetric(float64(hdr.Percentile(send, 50)-latency)/1e3, "send-p50-err-µs")
		if jws.TotalCount() > 0 {
			b.ReportMetric(float64(hdr.Percentile(jws, 50))/1e3, "consumerjws-p50-µs")
		}
	}
	sim, err := lpsim.New(fastConfig())
	if err != nil {
		b.Fatal(err)
	}
	// The simulator's CSDS gives the address it was reached at (this server) for every service.
	srv := httptest.NewServer(exactLatency(sim, latency))
	defer srv.Close()
	acct := sim.Config().Accounts[0]

	b.Run("lpbench", func(b *testing.B) {
		epoch := time.Now()
		j := newJourney(b, srv.URL, acct, epoch)
		run(b, func(i int, jws, create, send *hdrhistogram.Histogram) {
			r := sample.Record{Index: int64(i), Intended: time.Since(epoch)}
			j.Run(context.Background(), &r)
			if r.Outcome != sample.OutcomeOK {
				b.Fatalf("journey %d: %v at %v", i, r.Class, r.Failed)
			}
			_ = jws.RecordValue(int64(r.Steps[sample.ConsumerJWS].Duration()))
			_ = create.RecordValue(int64(r.Steps[sample.Create].Duration()))
			_ = send.RecordValue(int64(r.Steps[sample.Send].Duration()))
		})
	})
	b.Run("plain", func(b *testing.B) {
		c := NewPlain(acct.ID)
		if err := c.Setup(srv.URL, acct.ClientID, acct.ClientSecret); err != nil {
			b.Fatal(err)
		}
		var create, send *hdrhistogram.Histogram
		c.Timed = func(step string, d time.Duration) {
			if step == "create" {
				_ = create.RecordValue(int64(d))
			} else {
				_ = send.RecordValue(int64(d))
			}
		}
		run(b, func(i int, _, cr, se *hdrhistogram.Histogram) {
			create, send = cr, se
			if err := c.Journey(i); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkTimerLateness measures how late a 20 ms time.Sleep wakes up in an otherwise idle Go
// process: the error a simulator's fixed latency carries before any client measures it (lpsim
// waits with timers). One op is one sleep; it reports the p50 and p99 lateness.
func BenchmarkTimerLateness(b *testing.B) {
	const d = 20 * time.Millisecond
	h := hdr.New()
	for range b.N {
		t0 := time.Now()
		time.Sleep(d)
		_ = h.RecordValue(int64(time.Since(t0) - d))
	}
	b.ReportMetric(float64(hdr.Percentile(h, 50))/1e3, "late-p50-µs")
	b.ReportMetric(float64(hdr.Percentile(h, 99))/1e3, "late-p99-µs")
}
