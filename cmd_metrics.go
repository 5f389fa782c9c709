package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/prom"
)

// metricsFlags are the flags of the live metrics endpoint, on run and capacity.
type metricsFlags struct {
	listen string
	linger time.Duration
}

func (f *metricsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "metrics-listen", "", "serve live Prometheus metrics at http://ADDR/metrics while running, ADDR host:port (default: outputs.metrics_listen of the profile, else none)")
	fs.DurationVar(&f.linger, "metrics-linger", 0, "how long the metrics endpoint stays up after the run, for a final scrape; an interrupt ends it, 0 closes it at once (default: outputs.metrics_linger, else 30s)")
}

// metricsEndpoint is where the live metrics are served ("": nowhere) and how long after the run.
type metricsEndpoint struct {
	listen string
	linger time.Duration
}

// endpoint returns the endpoint the profile's outputs ask for, the flags given (set) in place of
// its keys, checked. The flags do not change the profile: its effective form is what the shards
// of one run share (profile_hash), and each may serve its metrics on an address of its own.
func (f *metricsFlags) endpoint(out profiles.Outputs, set map[string]bool) (metricsEndpoint, error) {
	ep := metricsEndpoint{listen: out.MetricsListen, linger: out.MetricsLinger}
	if set["metrics-listen"] {
		if f.listen != "" {
			if err := profiles.CheckListen(f.listen); err != nil {
				return ep, fmt.Errorf("-metrics-listen: %w", err)
			}
		}
		ep.listen = f.listen // "" given explicitly: no endpoint
	}
	if set["metrics-linger"] {
		if f.linger < 0 {
			return ep, fmt.Errorf("-metrics-linger must be ≥ 0, got %v", f.linger)
		}
		ep.linger = f.linger
	}
	return ep, nil
}

// liveMetrics is a command's metrics endpoint.
type liveMetrics struct {
	srv    *prom.Server
	linger time.Duration
}

// startMetrics serves the live metrics on ep, fed by the runs of o (window: their AUTO_MESSAGES
// window), and says where; nil when ep is nowhere. An address that cannot be bound is a usage
// error (exit 2), found before anything is sent and mended on the command line or in the
// profile, as an output directory that cannot be made is.
func startMetrics(ep metricsEndpoint, window time.Duration, o *engine.Options, stderr io.Writer) (*liveMetrics, error) {
	if ep.listen == "" {
		return nil, nil
	}
	shard := "" // the shard label only for a shard of a distributed run (--shard)
	if o.Shards > 0 {
		shard = strconv.Itoa(o.Shard)
	}
	set := prom.New(window, shard)
	srv, err := prom.Serve(ep.listen, set)
	if err != nil {
		return nil, usageError("%v (-metrics-listen or outputs.metrics_listen)", err)
	}
	o.Live = set
	fmt.Fprintf(stderr, "lpbench: live metrics at %s\n", srv.URL())
	return &liveMetrics{srv: srv, linger: ep.linger}, nil
}

// finish keeps the endpoint up for its linger, which an interrupt ends, then closes it.
func (m *liveMetrics) finish(stderr io.Writer) {
	if m == nil {
		return
	}
	if m.linger == 0 {
		m.close()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "lpbench: the metrics endpoint stays up %s for a final scrape (interrupt to end it now)\n", m.linger)
	if err := m.srv.Linger(ctx, m.linger); err != nil {
		fmt.Fprintf(stderr, "lpbench: closing the metrics endpoint: %v\n", err)
	}
}

// close closes the endpoint at once (a command that ends before its run does).
func (m *liveMetrics) close() {
	if m != nil {
		_ = m.srv.Close()
	}
}
