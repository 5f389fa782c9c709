package main

import (
	"io"

	"github.com/lpbench/lpbench/interrupt"
	"github.com/lpbench/lpbench/relay"
)

// cmdRelay serves the webhook relay of distributed runs until SIGINT or SIGTERM, then shuts it
// down gracefully.
func cmdRelay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("relay", "relay [-listen ADDR] [-queue N] [-queue-bytes N] [-max-targets N]\n\nAccepts LivePerson's webhook deliveries at /webhook/<target> and streams them, unchanged, to every\nshard subscribed for the target (lpbench run -webhook-relay URL). It checks no signature and holds no\nsecret. Also /healthz, /readyz, /stats (JSON) and /metrics (Prometheus text).\n", stderr)
	listen := fs.String("listen", relay.DefaultAddr, "address to listen on (every interface by default: LivePerson, or an Ingress, and the shards reach it from elsewhere)")
	queue := fs.Int("queue", relay.DefaultQueueFrames, "deliveries queued per subscriber at most; a slower subscriber loses its oldest (counted, and told)")
	queueBytes := fs.Int64("queue-bytes", relay.DefaultQueueBytes, "bytes queued per subscriber at most (the relay's memory is about subscribers × this)")
	maxTargets := fs.Int("max-targets", relay.DefaultMaxTargets, "targets kept at most; a delivery or subscription for a new one beyond it gets 404 (counted)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return flagError(fs, "unexpected argument %q", pos[0])
	}
	if *queue < 1 {
		return usageError("-queue must be ≥ 1, got %d", *queue)
	}
	if *queueBytes < relay.MaxBody {
		return usageError("-queue-bytes must be ≥ %d (one delivery of the largest size), got %d", relay.MaxBody, *queueBytes)
	}
	if *maxTargets < 1 {
		return usageError("-max-targets must be ≥ 1, got %d", *maxTargets)
	}
	ctx, stop := interrupt.Context()
	defer stop()
	if err := relay.Serve(ctx, *listen, relay.Config{QueueFrames: *queue, QueueBytes: *queueBytes, MaxTargets: *maxTargets, Log: stderr}, stdout); err != nil {
		return usageError("%v", err)
	}
	return nil
}
