package lp

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCounter is a server that answers each request once n requests are in (all at once, each on
// a connection of its own) and counts its connections that were opened and closed.
type connCounter struct {
	srv            *httptest.Server
	opened, closed atomic.Int64
}

func newConnCounter(t *testing.T, n int) *connCounter {
	cc := &connCounter{}
	var arrived sync.WaitGroup
	arrived.Add(n)
	cc.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait()
		_, _ = w.Write([]byte(`{"token":"x"}`))
	}))
	cc.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			cc.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			cc.closed.Add(1)
		}
	}
	cc.srv.Start()
	t.Cleanup(cc.srv.Close)
	return cc
}

// awaitClosed polls (boundedly) until the server has seen want connections closed, and fails if
// it saw another number.
func (cc *connCounter) awaitClosed(t *testing.T, what string, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for cc.closed.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := cc.closed.Load(); got != want {
		t.Fatalf("%s: %d connections closed, want %d (opened %d)", what, got, want, cc.opened.Load())
	}
}

// TestSharedHostsKeepFewIdleConnections: a burst of requests to a host a journey visits once (the
// ConsumerJWS on the idp host) opens a connection per request, none waiting for another, and
// then keeps at most sharedIdleConns of them idle; the same burst to the messaging host keeps
// every connection (each journey in flight holds one). CloseIdleConnections closes both kinds.
func TestSharedHostsKeepFewIdleConnections(t *testing.T) {
	const n = sharedIdleConns + 44
	for _, tc := range []struct {
		op       string
		keptIdle int64
	}{{"consumerjws", sharedIdleConns}, {"create", n}} {
		t.Run(tc.op, func(t *testing.T) {
			cc := newConnCounter(t, n)
			c, err := NewClient(Target{Name: "t", Account: testAccount, CSDS: cc.srv.URL, Scheme: "http", MaxInFlight: n})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					req, err := c.newRequest(ctx, http.MethodPost, cc.srv.URL+"/", []byte("{}"), "application/json")
					if err == nil {
						_, _, _, err = c.do(tc.op, req, nil)
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := cc.opened.Load(); got != n {
				t.Fatalf("%d connections opened for %d requests at once", got, n)
			}
			cc.awaitClosed(t, "after the burst", n-tc.keptIdle)
			c.CloseIdleConnections()
			cc.awaitClosed(t, "after CloseIdleConnections", n)
		})
	}
}
