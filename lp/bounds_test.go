package lp

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/sample"
)

// boundsSim is an lpsim simulator with one account, behind a TLS server on 127.0.0.1, with small
// service times for CONVERSATION and SEND and no queues, rate limits or webhooks.
func boundsSim(t *testing.T) (*lpsim.Sim, *httptest.Server, lpsim.Account) {
	t.Helper()
	cfg := lpsim.DefaultConfig()
	cfg.Accounts = cfg.Accounts[:1]
	cfg.Seed = 1
	cfg.Latency = map[lpsim.Endpoint]lpsim.Latency{
		lpsim.EndpointCreate: lpsim.Uniform(time.Millisecond, 4*time.Millisecond),
		lpsim.EndpointSend:   lpsim.Uniform(time.Millisecond, 3*time.Millisecond),
	}
	cfg.RegionLatency, cfg.Capacity, cfg.RateLimits = nil, nil, nil
	sim, err := lpsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(sim)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut by closing clients
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return sim, srv, sim.Config().Accounts[0]
}

// boundsJourney returns a journey against srv through a client that trusts srv's certificate,
// its transport shaped by tune.
func boundsJourney(t *testing.T, srv *httptest.Server, acct lpsim.Account, tune func(*http.Transport)) *Journey {
	t.Helper()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tune(tr)
	hc := &http.Client{Transport: tr, CheckRedirect: noRedirect}
	t.Cleanup(hc.CloseIdleConnections)
	c, err := NewClient(Target{Name: "tls", Account: acct.ID, CSDS: srv.URL, Scheme: "https",
		ClientID: acct.ClientID, ClientSecret: acct.ClientSecret, HTTP: hc})
	if err != nil {
		t.Fatal(err)
	}
	return &Journey{Client: c, Epoch: time.Now(), Opts: JourneyOptions{
		Window: 10 * time.Second, AutoMessages: true, Message: "hello", Close: true,
		RequestTimeout: 10 * time.Second, ConsumerPrefix: "bounds-",
	}}
}

// runBounds runs n journeys, at most conc at once, and returns their records, each of which
// must be OK.
func runBounds(t *testing.T, j *Journey, n, conc int) []sample.Record {
	t.Helper()
	recs := make([]sample.Record, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				recs[i].Index = int64(i)
				j.Run(context.Background(), &recs[i])
			}
		})
	}
	wg.Wait()
	for i := range recs {
		if r := &recs[i]; r.Outcome != sample.OutcomeOK {
			t.Fatalf("journey %d: outcome %v at %v (%v)", i, r.Outcome, r.Failed, r.Class)
		}
	}
	return recs
}

// checkBounds checks that the server's gap of every conversation of the ledger lies in the
// [gapMin, gap] of its journey's record, and that each traced request's interval lies within
// its step's span.
func checkBounds(t *testing.T, sim *lpsim.Sim, recs []sample.Record) {
	t.Helper()
	byID := make(map[string]*sample.Record, len(recs))
	for i := range recs {
		byID[recs[i].ConversationID] = &recs[i]
	}
	led := sim.Ledger()
	if got, want := len(led.Conversations), len(recs); got != want {
		t.Fatalf("ledger has %d conversations, want %d", got, want)
	}
	for _, c := range led.Conversations {
		r := byID[c.ID]
		if r == nil || !c.FirstSend {
			t.Fatalf("conversation %s: no journey, or no first send (%+v)", c.ID, c)
		}
		gap, gapMin, ok := r.Gap()
		if !ok || c.Gap < gapMin || c.Gap > gap {
			t.Errorf("conversation %s: server gap %v not in [%v, %v] (ok %v)", c.ID, c.Gap, gapMin, gap, ok)
		}
		for _, s := range []sample.Step{sample.Create, sample.Send} {
			sp := r.Steps[s]
			first := sp.Wrote >= sp.Begin && sp.Wrote <= sp.LastWrote && (sp.Retries > 0 || sp.Wrote == sp.LastWrote)
			if !first || sp.LastWrote == 0 || sp.FirstByte == 0 ||
				sp.LastWrote < sp.LastBegin || sp.FirstByte < sp.LastWrote || sp.FirstByte > sp.End {
				t.Errorf("journey %d, %v: trace [%v, %v] (first %v) not within span [%v, %v]",
					r.Index, s, sp.LastWrote, sp.FirstByte, sp.Wrote, sp.LastBegin, sp.End)
			}
		}
	}
}

// TestGapBoundsTLS: over TLS with kept-alive connections, 100 journeys (10 at once) each record
// a [gapMin, gap] that holds the gap the simulator measured between receiving CONVERSATION and
// the first SEND, and the traced steps carry their trace times; the untraced ones carry none.
func TestGapBoundsTLS(t *testing.T) {
	t.Parallel()
	sim, srv, acct := boundsSim(t)
	j := boundsJourney(t, srv, acct, func(*http.Transport) {})
	recs := runBounds(t, j, 100, 10)
	checkBounds(t, sim, recs)
	for _, s := range []sample.Step{sample.ConsumerJWS, sample.Close} {
		if sp := recs[0].Steps[s]; sp.Wrote != 0 || sp.LastWrote != 0 || sp.FirstByte != 0 {
			t.Errorf("%v: trace times %+v, want none", s, sp)
		}
	}
}

// TestGapBoundsRetried: when CONVERSATION and SEND are refused with 500s and retried, the bounds
// count from the attempts that took effect and still hold the simulator's gap.
func TestGapBoundsRetried(t *testing.T) {
	t.Parallel()
	sim, srv, acct := boundsSim(t)
	j := boundsJourney(t, srv, acct, func(*http.Transport) {})
	for _, s := range []sample.Step{sample.Create, sample.Send} {
		j.Opts.Retry.Steps[s] = true
	}
	j.Opts.Retry.Rules[sample.ClassHTTP5xx] = RetryRule{Retries: 8, Backoff: time.Millisecond}
	sim.SetFaults(lpsim.EndpointCreate, lpsim.Faults{Error500: 0.3})
	sim.SetFaults(lpsim.EndpointSend, lpsim.Faults{Error500: 0.3})
	recs := runBounds(t, j, 100, 10)
	checkBounds(t, sim, recs)
	for _, s := range []sample.Step{sample.Create, sample.Send} {
		retried := 0
		for _, r := range recs {
			if sp := r.Steps[s]; sp.Retries > 0 && sp.Wrote < sp.LastWrote {
				retried++
			}
		}
		if retried == 0 {
			t.Errorf("%v: no journey retried it (faults not injected?)", s)
		}
	}
}

// TestGapBandNarrower: where requests wait for connections (a handshake per request, or one
// connection shared by concurrent journeys), the band gap − gapMin from the trace times is
// narrower on average than the band from the step spans alone (send end − create begin) −
// (send begin − create end), computed from the same records, and the bounds still hold.
func TestGapBandNarrower(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tune func(*http.Transport)
		conc int
	}{
		// A new connection, so a TLS handshake, for every request.
		{"no keep-alive", func(tr *http.Transport) { tr.DisableKeepAlives = true }, 4},
		// One connection for 8 journeys at once: requests queue for it.
		{"one connection", func(tr *http.Transport) { tr.MaxConnsPerHost = 1 }, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, srv, acct := boundsSim(t)
			recs := runBounds(t, boundsJourney(t, srv, acct, tc.tune), 100, tc.conc)
			checkBounds(t, sim, recs)
			var oldSum, newSum time.Duration
			for _, r := range recs {
				gap, gapMin, _ := r.Gap()
				newSum += gap - gapMin
				untraced := r
				for _, s := range []sample.Step{sample.Create, sample.Send} {
					untraced.Steps[s].Wrote, untraced.Steps[s].LastWrote, untraced.Steps[s].FirstByte = 0, 0, 0
				}
				gap, gapMin, _ = untraced.Gap()
				oldSum += gap - gapMin
			}
			oldMean, newMean := oldSum/time.Duration(len(recs)), newSum/time.Duration(len(recs))
			t.Logf("mean band width: from spans %v, from trace times %v", oldMean, newMean)
			if newMean >= oldMean {
				t.Errorf("mean band width from trace times %v, want less than from spans %v", newMean, oldMean)
			}
		})
	}
}

// TestGapFallback: Gap uses the trace times where recorded and the span's times where not,
// and counts from the attempt that may have taken effect.
func TestGapFallback(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name         string
		create, send sample.Span
		gap, gapMin  time.Duration
		ok           bool
	}{
		// Trace times recorded: send first byte − create wrote, send wrote − create first byte.
		{"traced",
			sample.Span{Ran: true, Begin: ms(10), LastBegin: ms(10), Wrote: ms(15), LastWrote: ms(15), FirstByte: ms(40), End: ms(42)},
			sample.Span{Ran: true, Begin: ms(50), LastBegin: ms(50), Wrote: ms(53), LastWrote: ms(53), FirstByte: ms(70), End: ms(71)},
			ms(70 - 15), ms(53 - 40), true},
		// No trace times (an untraced transport): send end − create begin, send begin − create end.
		{"untraced",
			sample.Span{Ran: true, Begin: ms(10), LastBegin: ms(10), End: ms(42)},
			sample.Span{Ran: true, Begin: ms(50), LastBegin: ms(50), End: ms(71)},
			ms(71 - 10), ms(50 - 42), true},
		// Only some events seen: each missing one falls back alone.
		{"partly traced",
			sample.Span{Ran: true, Begin: ms(10), LastBegin: ms(10), Wrote: ms(15), LastWrote: ms(15), End: ms(42)},
			sample.Span{Ran: true, Begin: ms(50), LastBegin: ms(50), FirstByte: ms(70), End: ms(71)},
			ms(70 - 15), ms(50 - 42), true},
		// Create retried after an answered refusal: its last attempt counts.
		{"create retried, answered",
			sample.Span{Ran: true, Begin: ms(10), LastBegin: ms(30), Wrote: ms(12), LastWrote: ms(33), FirstByte: ms(40), End: ms(42), Retries: 1},
			sample.Span{Ran: true, Begin: ms(50), LastBegin: ms(50), Wrote: ms(53), LastWrote: ms(53), FirstByte: ms(70), End: ms(71)},
			ms(70 - 33), ms(53 - 40), true},
		// Create retried after an unanswered attempt, which may have created it: the first counts.
		{"create retried, unanswered",
			sample.Span{Ran: true, Begin: ms(10), LastBegin: ms(30), Wrote: ms(12), LastWrote: ms(33), FirstByte: ms(40), End: ms(42), Retries: 1, Unanswered: true},
			sample.Span{Ran: true, Begin: ms(50), LastBegin: ms(50), Wrote: ms(53), LastWrote: ms(53), FirstByte: ms(70), End: ms(71)},
			ms(70 - 12), ms(53 - 40), true},
		// Send retried after an unanswered attempt, which the server may have accepted first.
		{"send retried, unanswered",
			sample.Span{Ran: true, Begin: ms(10), LastBegin: ms(10), Wrote: ms(15), LastWrote: ms(15), FirstByte: ms(40), End: ms(42)},
			sample.Span{Ran: true, Begin: ms(50), LastBegin: ms(60), Wrote: ms(51), LastWrote: ms(63), FirstByte: ms(70), End: ms(71), Retries: 1, Unanswered: true},
			ms(70 - 15), ms(51 - 40), true},
		// Send failed: no gap.
		{"send failed",
			sample.Span{Ran: true, Begin: ms(10), LastBegin: ms(10), End: ms(42)},
			sample.Span{Ran: true, Begin: ms(50), LastBegin: ms(50), End: ms(71), Class: sample.ClassHTTP5xx},
			0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r sample.Record
			r.Steps[sample.Create], r.Steps[sample.Send] = tc.create, tc.send
			gap, gapMin, ok := r.Gap()
			if gap != tc.gap || gapMin != tc.gapMin || ok != tc.ok {
				t.Errorf("Gap() = %v, %v, %v; want %v, %v, %v", gap, gapMin, ok, tc.gap, tc.gapMin, tc.ok)
			}
		})
	}
}

// TestTraceComposes: a caller's own httptrace on the context still sees its events, and the
// request's times are recorded all the same.
func TestTraceComposes(t *testing.T) {
	t.Parallel()
	_, srv, acct := boundsSim(t)
	c := boundsJourney(t, srv, acct, func(*http.Transport) {}).Client
	var callerSaw atomic.Int32
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotFirstResponseByte: func() { callerSaw.Add(1) },
	})
	req, err := c.newRequest(ctx, http.MethodGet, srv.URL+"/api/account/"+acct.ID+"/service/baseURI.json?version=1.0", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	var tm reqTimes
	if _, err := callTimed(c, "csds", req, &tm, decodeDomains); err != nil {
		t.Fatal(err)
	}
	if got, want := callerSaw.Load(), int32(1); got != want {
		t.Errorf("caller's hook ran %d times, want %d", got, want)
	}
	if tm.wrote.Before(before) || tm.firstByte.Before(tm.wrote) || time.Now().Before(tm.firstByte) {
		t.Errorf("times %v, %v not in order within the call from %v", tm.wrote, tm.firstByte, before)
	}
}
