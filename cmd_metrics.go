package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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

// endpoint returns the endpoint of the profile's outputs with the flags given (set) in place.
func (f *metricsFlags) endpoint(out profiles.Outputs, set map[string]bool) (prom.Endpoint, error) {
	var listen *string
	var linger *time.Duration
	if set["metrics-listen"] {
		listen = &f.listen
	}
	if set["metrics-linger"] {
		linger = &f.linger
	}
	return prom.EndpointOf(out, listen, linger)
}

// startMetrics serves the live metrics on ep, fed by the runs of o, and says where; nil when ep
// is nowhere. An address that cannot be bound is a usage error (exit 2), found before anything
// is sent.
func startMetrics(ep prom.Endpoint, window time.Duration, o *engine.Options, stderr io.Writer) (*prom.Live, error) {
	live, err := prom.Start(ep, window, o.Shard, o.Shards)
	if err != nil || live == nil {
		return nil, usageErr(err)
	}
	o.Live = live.Set
	fmt.Fprintf(stderr, "lpbench: live metrics at %s\n", live.URL())
	return live, nil
}

// finishMetrics keeps the endpoint up for its linger, which an interrupt ends, then closes it.
func finishMetrics(live *prom.Live, stderr io.Writer) {
	if live == nil {
		return
	}
	if d := live.Lingers(); d > 0 {
		fmt.Fprintf(stderr, "lpbench: the metrics endpoint stays up %s for a final scrape (interrupt to end it now)\n", d)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := live.Finish(ctx); err != nil {
		fmt.Fprintf(stderr, "lpbench: closing the metrics endpoint: %v\n", err)
	}
}
