package prom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves a Set at /metrics over HTTP.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	done   chan error
	closed sync.Once
	err    error
}

// Serve listens on addr (host:port; port 0 picks a free one) and serves s's metrics at
// /metrics, in Prometheus' text or protobuf format as the scraper asks (the protobuf one carries
// the native histograms). The error, when the address cannot be bound, names it.
func Serve(addr string, s *Set) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics endpoint: cannot listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	srv := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln, done: make(chan error, 1)}
	go func() { srv.done <- srv.srv.Serve(ln) }()
	return srv, nil
}

// URL returns the endpoint's URL, e.g. http://127.0.0.1:9464/metrics.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/metrics" }

// Linger keeps serving for d, or until ctx ends, then closes the server: scrapes in progress
// get 5 s to finish.
func (s *Server) Linger(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return s.Close()
}

// Close stops the server; scrapes in progress get 5 s to finish. Closing again does nothing.
func (s *Server) Close() error {
	s.closed.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.err = s.srv.Shutdown(ctx)
		if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
			s.err = errors.Join(s.err, err)
		}
	})
	return s.err
}
