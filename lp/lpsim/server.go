package lpsim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Server is a Sim listening on TCP addresses, like httptest.Server but a real server the product
// can run: the embedded default target of lpbench and the standalone `lpbench sim`.
//
// Like LivePerson, it has a host per service: URL is the domain API's (CSDS, and the /_lpsim/
// control routes), and Sentinel, the IdP and the messaging service each listen on a port of
// their own on the same address, which CSDS gives as their baseURIs. A request to another
// service's host is 404, as it would be at LivePerson. With Config.SingleHost every route is
// served at URL and CSDS gives URL's host for every service.
type Server struct {
	*Sim
	URL string // "http://HOST:PORT", e.g. "http://127.0.0.1:41234"; "https://…" with Config.TLS

	// CAFile is the file holding the CA certificate (PEM) of a TLS Server (Config.TLS), "" for
	// plain HTTP; CA is that certificate.
	CAFile string
	CA     []byte

	hosts     []*host // URL's first, then one per service unless SingleHost
	tls       *serverTLS
	closeOnce sync.Once

	// fresh holds the connections that have not begun a request yet. http.Server.Shutdown waits
	// up to 5 s for those (a client may be about to send on it); Close cuts them at once, since a
	// client's transport often dials connections it never uses.
	freshMu sync.Mutex
	fresh   map[net.Conn]struct{}
}

// host is one listening address of a Server and its http.Server.
type host struct {
	url      string
	srv      *http.Server
	served   chan struct{} // closed when http.Server.Serve has returned
	serveErr error         // what it returned, when not ErrServerClosed; read after served
}

// closeGrace bounds how long Close waits for requests still being read or handled once every
// simulated wait has been cancelled; past it, connections are cut.
const closeGrace = 5 * time.Second

// DefaultAddr is where NewServer listens, and NewServerAt and Serve when given "": loopback, a
// random free port.
const DefaultAddr = "127.0.0.1:0"

// NewServer starts a Sim for cfg on 127.0.0.1 with a random free port.
func NewServer(cfg Config) (*Server, error) { return NewServerAt(cfg, DefaultAddr) }

// NewServerAt starts a Sim for cfg listening on addr (host:port; "" = DefaultAddr). It refuses an
// address that is not loopback (127.0.0.0/8, ::1, "localhost") unless cfg.AllowRemote is set:
// an empty host, as in ":8080", means every interface and is not loopback.
func NewServerAt(cfg Config, addr string) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if !cfg.AllowRemote {
		if err := checkLoopback(addr); err != nil {
			return nil, err
		}
	}
	sim, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return serve(sim, addr)
}

// checkLoopback refuses addr unless its host is a loopback address or "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("lpsim: listen address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	host, _, _ = strings.Cut(host, "%") // an IPv6 zone
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("lpsim: refusing to listen on %q: not a loopback address (allow_remote permits it)", addr)
}

// serve starts sim on a new listener at addr, and one per service beside it (same host, ports
// of their own) unless sim's config says SingleHost.
func serve(sim *Sim, addr string) (*Server, error) {
	s := &Server{Sim: sim, fresh: make(map[net.Conn]struct{})}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if sim.cfg.TLS {
		listenHost, _, _ := net.SplitHostPort(addr)
		if s.tls, err = newServerTLS(listenHost, sim.cfg.TLSCAFile); err != nil {
			ln.Close()
			return nil, err
		}
		scheme, s.CAFile, s.CA = "https", s.tls.caFile, s.tls.caPEM
	}
	lns := []net.Listener{ln}
	handlers := []http.Handler{sim}
	if !sim.cfg.SingleHost {
		handlers[0] = sim.routes(func(svc service) bool { return svc == svcCSDS })
		ip, _, _ := net.SplitHostPort(ln.Addr().String())
		for svc := svcSentinel; svc < numServices; svc++ {
			l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
			if err != nil {
				for _, l := range lns {
					l.Close()
				}
				s.tls.remove()
				return nil, fmt.Errorf("lpsim: listening for %s: %w", serviceNames[svc], err)
			}
			_, sim.ports[svc], _ = net.SplitHostPort(l.Addr().String())
			lns = append(lns, l)
			handlers = append(handlers, sim.routes(func(s service) bool { return s == svc }))
		}
	}
	for i, l := range lns {
		h := &host{
			url: scheme + "://" + l.Addr().String(),
			srv: &http.Server{
				Handler:           handlers[i],
				ReadHeaderTimeout: 10 * time.Second,
				IdleTimeout:       2 * time.Minute,
				ConnState:         s.track,
			},
			served: make(chan struct{}),
		}
		if s.tls != nil {
			h.srv.TLSConfig = s.tls.config
			l = tls.NewListener(l, s.tls.config)
		}
		s.hosts = append(s.hosts, h)
		go func() {
			defer close(h.served)
			if err := h.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				h.serveErr = err
			}
		}()
	}
	s.URL = s.hosts[0].url
	return s, nil
}

// ServiceURL returns the base URL of the host serving the CSDS service name (sentinel, idp,
// asyncMessagingEnt): its own, or URL with Config.SingleHost or for any other name.
func (s *Server) ServiceURL(name string) string {
	if i := slices.Index(serviceNames[:], name); i > 0 && i < len(s.hosts) {
		return s.hosts[i].url
	}
	return s.URL
}

// track keeps fresh up to date; it is the http.Server's ConnState hook.
func (s *Server) track(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.freshMu.Lock()
		s.fresh[c] = struct{}{}
		s.freshMu.Unlock()
	case http.StateActive, http.StateClosed, http.StateHijacked:
		s.freshMu.Lock()
		delete(s.fresh, c)
		s.freshMu.Unlock()
	}
}

// closeFresh closes the connections that have not begun a request.
func (s *Server) closeFresh() {
	s.freshMu.Lock()
	defer s.freshMu.Unlock()
	for c := range s.fresh {
		c.Close()
		delete(s.fresh, c)
	}
}

// Close stops accepting connections and waits for outstanding requests: a graceful
// http.Server.Shutdown, bounded by closeGrace. Simulated latency, queues, stalls and trickles end
// at once, so a request being held is answered immediately, and connections on which no request
// has begun are closed, so Close is prompt. Webhook deliveries stop first: pending notifications
// are dropped (reason "shutdown") and attempts in flight cancelled. Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.Sim.shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		done := make(chan error, len(s.hosts))
		for _, h := range s.hosts {
			go func() {
				err := h.srv.Shutdown(ctx)
				if errors.Is(err, context.DeadlineExceeded) {
					h.srv.Close()
				}
				done <- err
			}()
		}
		// Sweep until every Shutdown returns: a connection accepted just before a listener
		// closed may turn up after the first sweep.
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for left := len(s.hosts); left > 0; {
			s.closeFresh()
			select {
			case <-done:
				left--
			case <-tick.C:
			}
		}
		for _, h := range s.hosts {
			<-h.served
		}
		s.tls.remove()
	})
}

// WriteBanner writes what a user of a standalone simulator needs to point a client at it: the
// base URL, the service hosts (unless SingleHost), then one line per account with its id, region, client id and, when the secret was
// generated locally (DefaultConfig, or an empty ClientSecret), the client secret, then how to
// register a webhook endpoint (the example names the first account):
//
//	lpsim listening on http://127.0.0.1:41234
//	service hosts (as CSDS gives them): sentinel http://127.0.0.1:41235 idp http://127.0.0.1:41236 asyncMessagingEnt http://127.0.0.1:41237
//	account 12345678 region va client_id lpbench-sim client_secret 5f0c…
//	register a webhook: POST http://127.0.0.1:41234/_lpsim/webhooks {"account":"12345678","url":"http://HOST:PORT/PATH"} (DELETE /_lpsim/webhooks/ID removes it)
//	lpbench run --sim-url http://127.0.0.1:41234 registers its own webhook receiver
//
// A secret given in the configuration is never written.
func (s *Server) WriteBanner(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "lpsim listening on %s\n", s.URL)
	if s.CAFile != "" {
		fmt.Fprintf(&b, "TLS certificates signed by the CA in %s (lpbench: --sim-ca %s, or ca_file in a target)\n", s.CAFile, s.CAFile)
	}
	if len(s.hosts) > 1 {
		b.WriteString("service hosts (as CSDS gives them):")
		for svc := svcSentinel; svc < numServices; svc++ {
			fmt.Fprintf(&b, " %s %s", serviceNames[svc], s.hosts[svc].url)
		}
		b.WriteByte('\n')
	}
	for _, a := range s.cfg.Accounts {
		fmt.Fprintf(&b, "account %s region %s client_id %s", a.ID, a.Region, a.ClientID)
		if a.generatedSecret {
			fmt.Fprintf(&b, " client_secret %s", a.ClientSecret)
		}
		b.WriteByte('\n')
	}
	if len(s.cfg.Accounts) > 0 {
		fmt.Fprintf(&b, "register a webhook: POST %s/_lpsim/webhooks {\"account\":%q,\"url\":\"http://HOST:PORT/PATH\"} (DELETE /_lpsim/webhooks/ID removes it)\n",
			s.URL, s.cfg.Accounts[0].ID)
		if s.CAFile != "" {
			fmt.Fprintf(&b, "lpbench run --sim-url %s --sim-ca %s registers its own webhook receiver\n", s.URL, s.CAFile)
		} else {
			fmt.Fprintf(&b, "lpbench run --sim-url %s registers its own webhook receiver\n", s.URL)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Serve runs a standalone simulator: it starts a Server for cfg on addr (see NewServerAt), writes
// its banner (WriteBanner) to out, serves until ctx is done, then shuts down gracefully (see
// Close) and returns nil. It returns an error when the server cannot start or stops serving on
// its own. The caller turns SIGINT and SIGTERM into the cancellation of ctx.
func Serve(ctx context.Context, addr string, cfg Config, out io.Writer) error {
	s, err := NewServerAt(cfg, addr)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.WriteBanner(out); err != nil {
		return fmt.Errorf("lpsim: writing the banner: %w", err)
	}
	stopped := make(chan *host, len(s.hosts))
	for _, h := range s.hosts {
		go func() {
			select {
			case <-h.served:
				stopped <- h
			case <-ctx.Done():
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case h := <-stopped:
		if h.serveErr == nil {
			return errors.New("lpsim: server stopped")
		}
		return fmt.Errorf("lpsim: server stopped: %w", h.serveErr)
	}
}
