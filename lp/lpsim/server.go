package lpsim

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a Sim listening on 127.0.0.1, like httptest.Server but a real server the product
// can run: the embedded default target of lpbench and a standalone `lpbench sim`.
type Server struct {
	*Sim
	URL string // "http://127.0.0.1:PORT"

	srv       *http.Server
	served    chan struct{} // closed when Serve has returned
	closeOnce sync.Once
}

// closeGrace bounds how long Close waits for requests still being read or handled once every
// simulated wait has been cancelled; past it, connections are cut.
const closeGrace = 5 * time.Second

// NewServer starts a Sim for cfg on 127.0.0.1 with a random free port.
func NewServer(cfg Config) (*Server, error) {
	sim, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return serve(sim, "127.0.0.1:0")
}

// serve starts sim on a new listener at addr.
func serve(sim *Sim, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		Sim: sim,
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{
			Handler:           sim,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
		},
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		s.srv.Serve(ln) // returns ErrServerClosed on Close; nothing else to report
	}()
	return s, nil
}

// Close stops accepting connections and waits for outstanding requests. Simulated latency and
// stalls end at once, so a request being held is answered immediately and Close is prompt.
// Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.Sim.shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		if err := s.srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			s.srv.Close()
		}
		<-s.served
	})
}
