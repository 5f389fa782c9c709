package prom

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lpbench/lpbench/profiles"
)

// Endpoint is where a command serves its runs' live metrics (Listen "": nowhere) and how long
// it stays up after them (Linger) for a final scrape.
type Endpoint struct {
	Listen string
	Linger time.Duration
}

// EndpointOf returns the endpoint the profile's outputs ask for, with listen and linger (the
// command line's, nil when not given) in place of its keys, checked. They do not change the
// profile: its effective form is what the shards of one run share (profile_hash), and each may
// serve its metrics on an address of its own.
func EndpointOf(out profiles.Outputs, listen *string, linger *time.Duration) (Endpoint, error) {
	ep := Endpoint{Listen: out.MetricsListen, Linger: out.MetricsLinger}
	if listen != nil {
		if *listen != "" {
			if err := profiles.CheckListen(*listen); err != nil {
				return ep, fmt.Errorf("-metrics-listen: %w", err)
			}
		}
		ep.Listen = *listen // "" given explicitly: no endpoint
	}
	if linger != nil {
		if *linger < 0 {
			return ep, fmt.Errorf("-metrics-linger must be ≥ 0, got %v", *linger)
		}
		ep.Linger = *linger
	}
	return ep, nil
}

// Live is a Set served on an endpoint.
type Live struct {
	Set    *Set
	srv    *Server
	linger time.Duration
}

// Start serves, on ep, a new Set of runs whose AUTO_MESSAGES window is window, labelled with
// shard k of a distributed run (shards > 0); nil when ep is nowhere. The error, when the
// address cannot be bound, names it and where it comes from.
func Start(ep Endpoint, window time.Duration, k, shards int) (*Live, error) {
	if ep.Listen == "" {
		return nil, nil
	}
	shard := "" // the shard label only for a shard of a distributed run
	if shards > 0 {
		shard = strconv.Itoa(k)
	}
	set := New(window, shard)
	srv, err := Serve(ep.Listen, set)
	if err != nil {
		return nil, fmt.Errorf("%w (-metrics-listen or outputs.metrics_listen)", err)
	}
	return &Live{Set: set, srv: srv, linger: ep.Linger}, nil
}

// URL is the endpoint's URL.
func (l *Live) URL() string { return l.srv.URL() }

// Lingers reports how long the endpoint stays up after the runs (0: it closes at once).
func (l *Live) Lingers() time.Duration { return l.linger }

// Finish keeps the endpoint up for its linger, or until ctx ends, then closes it.
func (l *Live) Finish(ctx context.Context) error {
	if l.linger == 0 {
		l.Close()
		return nil
	}
	return l.srv.Linger(ctx, l.linger)
}

// Close closes the endpoint at once (a command that ends before its run does); nil does
// nothing.
func (l *Live) Close() {
	if l != nil {
		_ = l.srv.Close()
	}
}
