package lp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/sample"
)

// silentListener accepts TCP connections and never reads from or writes to them (a server that
// never answers the TLS handshake), until the test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// hangingServer is an HTTP server whose handler reads the request and then waits until the
// request ends or the test does; peak is the most connections it had open at once.
func hangingServer(t *testing.T) (srv *httptest.Server, peak *atomic.Int64, arrived chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	arrived = make(chan struct{}, 1024)
	peak = new(atomic.Int64)
	var mu sync.Mutex
	var open int64
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open++
			peak.Store(max(peak.Load(), open))
		case http.StateClosed, http.StateHijacked:
			open--
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv, peak, arrived
}

// TestUnsent: a request that failed before its headers were written (a TLS handshake never
// answered, a refused connection, a wait for a connection from a full pool) is marked Unsent; one
// the server received and then sat on is not. Every one ends by its deadline, whatever it was
// waiting for.
func TestUnsent(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	silent := silentListener(t)
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) *Client
		class  sample.Class
		unsent bool
	}{
		// The server accepts the TCP connection and never answers the TLS handshake.
		{"tls handshake unanswered", func(t *testing.T) *Client {
			return newTestClient(t, Target{Account: testAccount, CSDS: "https://" + silent, InsecureSkipVerify: true})
		}, sample.ClassTimeout, true},
		// Nobody listens: the dial fails.
		{"refused", func(t *testing.T) *Client {
			return newTestClient(t, Target{Account: testAccount, CSDS: refusedURL, Scheme: "http"})
		}, sample.ClassNetwork, true},
		// The server received the request and never answered.
		{"accepted and hung", func(t *testing.T) *Client {
			srv, _, _ := hangingServer(t)
			return newTestClient(t, Target{Account: testAccount, CSDS: srv.URL, Scheme: "http"})
		}, sample.ClassTimeout, false},
		// Every connection the target's bound allows (MaxInFlight 1 + SpareConns) is held by a
		// request the server sits on: the next one waits for a connection from the pool.
		{"pool full", func(t *testing.T) *Client {
			srv, _, arrived := hangingServer(t)
			c := newTestClient(t, Target{Account: testAccount, CSDS: srv.URL, Scheme: "http", MaxInFlight: 1})
			holdConns(t, c, 1+SpareConns, arrived)
			return c
		}, sample.ClassTimeout, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.client(t)
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			_, err := c.LookupDomains(ctx)
			took := time.Since(start)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if got, want := e.Class, tc.class; got != want {
				t.Errorf("class = %v (%v), want %v", got, err, want)
			}
			if got, want := e.Unsent, tc.unsent; got != want {
				t.Errorf("Unsent = %v (%v), want %v", got, err, want)
			}
			// Generous: the deadline must end the wait, not a transport limit of 10 s or more.
			if took > timeout+2*time.Second {
				t.Errorf("the request took %v, its deadline was %v", took, timeout)
			}
		})
	}
}

// newTestClient returns a client for tg whose idle connections close when the test ends.
func newTestClient(t *testing.T, tg Target) *Client {
	t.Helper()
	c, err := NewClient(tg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// holdConns starts n requests through c that the server sits on until the test ends, and waits
// until it has received them all.
func holdConns(t *testing.T, c *Client, n int, arrived <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for range n {
		go c.LookupDomains(ctx) //nolint:errcheck // ends with the test
	}
	for range n {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatalf("the server did not receive %d held requests", n)
		}
	}
}

// TestMaxConnsPerHost: past saturation, the default client opens no more connections to a host
// than the target's MaxInFlight plus SpareConns; the requests beyond wait for one and end by
// their deadline as unsent.
func TestMaxConnsPerHost(t *testing.T) {
	t.Parallel()
	srv, peak, arrived := hangingServer(t)
	const maxInFlight = 4
	c := newTestClient(t, Target{Account: testAccount, CSDS: srv.URL, Scheme: "http", MaxInFlight: maxInFlight})
	holdConns(t, c, maxInFlight+SpareConns, arrived)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	const waiting = 2 * (maxInFlight + SpareConns)
	var unsent atomic.Int64
	var wg sync.WaitGroup
	for range waiting {
		wg.Go(func() {
			_, err := c.LookupDomains(ctx)
			if e := (*Error)(nil); errors.As(err, &e) && e.Unsent && e.Class == sample.ClassTimeout {
				unsent.Add(1)
			}
		})
	}
	wg.Wait()
	if got, want := peak.Load(), int64(maxInFlight+SpareConns); got != want {
		t.Errorf("the server had %d connections open at once, want %d (MaxInFlight %d + SpareConns)", got, want, maxInFlight)
	}
	if got, want := unsent.Load(), int64(waiting); got != want {
		t.Errorf("%d requests timed out unsent, want %d (all that waited for a connection)", got, want)
	}
}

// TestJourneyUnsent: the journey records Unsent on the failed step's span when its last request
// was never written (the domain lookup to a server that never answers TLS), and not when the
// server received it (a SEND the simulator holds past the request timeout).
func TestJourneyUnsent(t *testing.T) {
	t.Parallel()
	cfg := lpsim.DefaultConfig()
	cfg.Accounts = cfg.Accounts[:1]
	cfg.Latency = map[lpsim.Endpoint]lpsim.Latency{lpsim.EndpointSend: lpsim.Fixed(time.Minute)}
	cfg.RegionLatency, cfg.Capacity, cfg.RateLimits = nil, nil, nil
	sim, err := lpsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	acct := sim.Config().Accounts[0]
	for _, tc := range []struct {
		name   string
		target Target
		step   sample.Step
		unsent bool
	}{
		// The lookup never got past the TLS handshake.
		{"lookup unsent", Target{Account: acct.ID, CSDS: "https://" + silentListener(t), InsecureSkipVerify: true}, sample.Lookup, true},
		// The SEND reached the simulator, which holds it a minute.
		{"send held by the server", Target{Account: acct.ID, CSDS: srv.URL, Scheme: "http",
			ClientID: acct.ClientID, ClientSecret: acct.ClientSecret}, sample.Send, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.target.Name = "unsent"
			c, err := NewClient(tc.target)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			j := &Journey{Client: c, Epoch: time.Now(), Opts: JourneyOptions{Window: 10 * time.Second, AutoMessages: true,
				// The steps before the held SEND must not time out on a busy machine.
				Message: "hello", LookupPerConsumer: true, RequestTimeout: 2 * time.Second, ConsumerPrefix: "unsent-"}}
			var rec sample.Record
			j.Run(context.Background(), &rec)
			if got, want := rec.Failed, tc.step; got != want || rec.Outcome != sample.OutcomeFailed {
				t.Fatalf("outcome %v at %v (%v), want failed at %v", rec.Outcome, got, rec.Class, want)
			}
			sp := rec.Steps[tc.step]
			if got, want := sp.Class, sample.ClassTimeout; got != want {
				t.Errorf("class = %v, want %v", got, want)
			}
			if got, want := sp.Unsent, tc.unsent; got != want {
				t.Errorf("Unsent = %v, want %v", got, want)
			}
		})
	}
}

// TestMaxConns: the bound on connections per host follows the journeys in flight, and never
// passes half the descriptor limit.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		maxInFlight int
		nofile      uint64
		want        int
	}{
		// The journeys in flight and the spare connections, well within the descriptors.
		{"in flight", 500, 1 << 20, 500 + SpareConns},
		// More journeys than descriptors: half the limit.
		{"descriptors", 50000, 20000, 10000},
		// Journeys not known: half the limit.
		{"in flight not known", 0, 20000, 10000},
		// Descriptors not known: the journeys.
		{"limit not known", 100, 0, 100 + SpareConns},
		// Neither known: no bound.
		{"nothing known", 0, 0, 0},
		// An unlimited descriptor limit (RLIM_INFINITY) bounds nothing.
		{"unlimited", 0, ^uint64(0), 0},
	} {
		if got, want := maxConns(tc.maxInFlight, tc.nofile), tc.want; got != want {
			t.Errorf("%s: maxConns(%d, %d) = %d, want %d", tc.name, tc.maxInFlight, tc.nofile, got, want)
		}
	}
}
