package lifecycle

import (
	"fmt"
	"io"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/interrupt"
	"github.com/lpbench/lpbench/prom"
)

// startMetrics serves the live metrics on ep, fed by the runs of o, and says where; nil when ep
// is nowhere. An address that cannot be bound is a usage error (exit 2), found before anything
// is sent and mended on the command line or in the profile.
func startMetrics(ep prom.Endpoint, window time.Duration, o *engine.Options, stderr io.Writer) (*prom.Live, error) {
	live, err := prom.Start(ep, window, o.Shard, o.Shards)
	if err != nil || live == nil {
		return nil, exitcode.AsUsage(err)
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
	ctx, stop := interrupt.Context()
	defer stop()
	if err := live.Finish(ctx); err != nil {
		fmt.Fprintf(stderr, "lpbench: closing the metrics endpoint: %v\n", err)
	}
}
