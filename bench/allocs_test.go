package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// canned is an http.RoundTripper that answers every request from memory, with no connection and
// no server in the process: the first request to each method and path goes to the simulator
// (through its handler, no socket), whose answer is kept and replayed for every later one. So the
// same consumer's token and conversation id come back every time, which the client does not mind,
// and what a journey allocates through it is the client's own: lp's requests and decoding,
// net/http.Client.Do and the recorder, plus two allocations per request for the canned answer
// (its Response and body reader; a real transport allocates far more, and the same for any client).
// It calls the request's trace hooks as a real transport does.
type canned struct {
	sim     http.Handler
	mu      sync.Mutex
	answers map[string]*cannedAnswer
}

type cannedAnswer struct {
	status int
	header http.Header
	body   []byte
}

// cannedBody is a replayed answer's body.
type cannedBody struct{ bytes.Reader }

func (*cannedBody) Close() error { return nil }

// RoundTrip reads the request's body (as a transport does), then replays the answer of its
// method and path. It calls the request's trace hooks that lp uses as net/http's transport calls
// them (a connection from the pool, the headers written, the answer's first byte): lp recycles a
// request's trace only once they all ran.
func (c *canned) RoundTrip(req *http.Request) (*http.Response, error) {
	trace := httptrace.ContextClientTrace(req.Context())
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Reused: true})
	}
	if trace != nil && trace.WroteHeaders != nil {
		trace.WroteHeaders()
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	key := req.Method + " " + req.URL.Path
	c.mu.Lock()
	a := c.answers[key]
	if a == nil {
		if req.GetBody != nil {
			req.Body, _ = req.GetBody()
		}
		w := httptest.NewRecorder()
		c.sim.ServeHTTP(w, req)
		a = &cannedAnswer{status: w.Code, header: w.Header().Clone(), body: w.Body.Bytes()}
		c.answers[key] = a
	}
	c.mu.Unlock()
	if trace != nil && trace.GotFirstResponseByte != nil {
		trace.GotFirstResponseByte()
	}
	body := &cannedBody{}
	body.Reset(a.body)
	return &http.Response{Status: http.StatusText(a.status), StatusCode: a.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: a.header, Body: body, ContentLength: int64(len(a.body)), Request: req}, nil
}

// cannedJourney returns lpbench's journey (built as `lpbench run` builds it, see newJourney) whose
// client talks to canned instead of the network.
func cannedJourney(b testing.TB, epoch time.Time) *lp.Journey {
	sim, err := lpsim.New(fastConfig())
	if err != nil {
		b.Fatal(err)
	}
	const url = "http://sim.invalid"
	j := newJourney(b, url, sim.Config().Accounts[0], epoch)
	t := j.Client.Target()
	t.Transport = &canned{sim: sim, answers: map[string]*cannedAnswer{}}
	if j.Client, err = lp.NewClient(t); err != nil {
		b.Fatal(err)
	}
	return j
}

// BenchmarkJourneyAllocs is lpbench's code path for one journey, as BenchmarkJourney, with the
// network and the simulator taken out (canned): what is left is the client's own work, and its
// allocations per journey and bytes per journey are the generator's alone. One op is one journey,
// run one after another on one goroutine; the journeys' records go to a recorder as in a run.
// It reports allocs/journey and B/journey from the runtime's counters, so they show without
// -benchmem.
func BenchmarkJourneyAllocs(b *testing.B) { journeyAllocs(b, false) }

// BenchmarkJourneyAllocsJournal is BenchmarkJourneyAllocs with the run's journal written (three
// entries per journey, one write(2) each): the difference is what the journal costs a journey.
func BenchmarkJourneyAllocsJournal(b *testing.B) { journeyAllocs(b, true) }

func journeyAllocs(b *testing.B, withJournal bool) {
	epoch := time.Now()
	j := cannedJourney(b, epoch)
	if withJournal {
		jl, err := journal.Create(filepath.Join(b.TempDir(), journal.FileName))
		if err != nil {
			b.Fatal(err)
		}
		defer jl.Close()
		j.Opts.Journal = jl
	}
	rec := report.NewRecorder(report.RecorderOptions{Targets: []string{"va"}, Epoch: epoch, Window: 10 * time.Second})
	run := func(i int) {
		r := sample.Record{Index: int64(i), Intended: time.Since(epoch)}
		j.Run(context.Background(), &r)
		if r.Outcome != sample.OutcomeOK {
			b.Fatalf("journey %d: outcome %v, class %v at %v", i, r.Outcome, r.Class, r.Failed)
		}
		rec.Record(&r)
	}
	run(0) // the shared lookups and the first answers of each endpoint, outside the count
	var m0, m1 runtime.MemStats
	b.ResetTimer()
	runtime.ReadMemStats(&m0)
	for i := range b.N {
		run(i + 1)
	}
	runtime.ReadMemStats(&m1)
	b.StopTimer()
	rec.Close()
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/journey")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N), "B/journey")
}

// TestCannedJourney checks that the canned transport serves a whole journey, several times over,
// with the requests of a real one: every step ran once and succeeded.
func TestCannedJourney(t *testing.T) {
	t.Parallel()
	j := cannedJourney(t, time.Now())
	for i := range 3 {
		var r sample.Record
		r.Index = int64(i)
		j.Run(context.Background(), &r)
		if got, want := r.Outcome, sample.OutcomeOK; got != want {
			t.Fatalf("journey %d: outcome %v, want %v (class %v at %v)", i, got, want, r.Class, r.Failed)
		}
		for _, s := range []sample.Step{sample.ConsumerJWS, sample.Create, sample.Send, sample.Close} {
			if got, want := r.Steps[s].Attempts, uint8(1); got != want {
				t.Errorf("journey %d, step %v: %d requests, want %d", i, s, got, want)
			}
		}
		if r.ConversationID == "" {
			t.Errorf("journey %d: no conversation id", i)
		}
	}
	if got := fmt.Sprint(j.Client.DomainLookups(), j.Client.AppJWTFetches()); got != "1 1" {
		t.Errorf("domain lookups and AppJWT fetches: %s, want 1 1", got)
	}
}

// journeyAllocsCeiling bounds the allocations of one journey through the canned transport (see
// BenchmarkJourneyAllocs): TestJourneyAllocs fails when they grow past it. 120 measured, and one
// more since CONVERSATION's attempts run on a context detached from the run's (so that one in
// flight when the run stops is awaited and its conversation closed).
const journeyAllocsCeiling = 121

// TestJourneyAllocs: one journey of lpbench's code path, network and simulator taken out,
// allocates no more than journeyAllocsCeiling.
func TestJourneyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	epoch := time.Now()
	j := cannedJourney(t, epoch)
	rec := report.NewRecorder(report.RecorderOptions{Targets: []string{"va"}, Epoch: epoch, Window: 10 * time.Second})
	defer rec.Close()
	i := int64(0)
	run := func() {
		i++
		r := sample.Record{Index: i, Intended: time.Since(epoch)}
		j.Run(context.Background(), &r)
		if r.Outcome != sample.OutcomeOK {
			t.Fatalf("journey %d: outcome %v, class %v at %v", i, r.Outcome, r.Class, r.Failed)
		}
		rec.Record(&r)
	}
	run() // the shared lookups and the first answers of each endpoint, outside the count
	if n := testing.AllocsPerRun(500, run); n > journeyAllocsCeiling {
		t.Errorf("%.0f allocations per journey, ceiling %d", n, journeyAllocsCeiling)
	} else {
		t.Logf("%.0f allocations per journey", n)
	}
}
