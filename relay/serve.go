package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultAddr is where `lpbench relay` listens by default: every interface, since LivePerson
// (or an Ingress in front) and the shards reach it from elsewhere.
const DefaultAddr = ":8080"

// ShutdownTimeout bounds a graceful shutdown: deliveries under way are answered and every
// subscription is sent what it had queued, within this time.
const ShutdownTimeout = 10 * time.Second

// Serve listens on addr and serves a relay of cfg until ctx ends, then shuts down gracefully:
// readiness fails at once, subscription streams get their queued frames and a bye frame,
// deliveries under way are answered. It writes a banner line with the URL to out.
func Serve(ctx context.Context, addr string, cfg Config, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	r := New(cfg)
	srv := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(out, "lpbench relay %s listening on http://%s\n", r.instance, ln.Addr()); err != nil {
		srv.Close()
		return fmt.Errorf("relay: writing the banner: %w", err)
	}
	select {
	case err := <-served:
		return fmt.Errorf("relay: server stopped: %w", err)
	case <-ctx.Done():
	}
	r.logf("shutting down: refusing new subscriptions and deliveries (503), sending %d subscriber(s) what they have queued", len(r.Stats().Subscribers))
	defer func() {
		st := r.Stats()
		r.logf("stopped: %d deliveries received, %d refused while shutting down", st.Received, st.ShuttingDown)
	}()
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	closed := make(chan struct{})
	go func() { r.Close(); close(closed) }()
	err = srv.Shutdown(sctx) // waits for the streams too: Close ends them
	select {
	case <-closed:
	case <-sctx.Done():
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("relay: shutting down: %w", err)
	}
	if err != nil {
		srv.Close()
	}
	return nil
}
