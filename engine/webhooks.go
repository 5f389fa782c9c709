package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/relay"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// webhooks is the run's webhook endpoint: one receiver per target whose auto messages are
// verified, at <base>/webhook/<target>, on one listener — or, with a webhook relay
// (webhooks.relay), no listener: each receiver subscribes to the relay for its target.
type webhooks struct {
	srv       *http.Server // nil with a relay
	base      string
	relay     string
	receivers []*lp.Receiver // by target index; nil where not verified
	subs      []*relay.Subscription
	hops      []*report.RelayHop // by target index, with a relay
	// unregister removes the receivers' registrations from the simulators, at stop.
	unregister []func() error
}

// startWebhooks starts the receivers, registers them with the simulators — the embedded one in
// process, a standalone one over its /_lpsim/webhooks call — as an app installation would, and
// sets the journeys of verified targets to wait for auto messages. It returns nil when no
// target's auto messages are verified.
func startWebhooks(p profiles.Profile, targets []*targetRun, sim *lpsim.Server, o Options) (*webhooks, error) {
	var verified bool
	for _, tr := range targets {
		verified = verified || p.VerifiesAutoMessages(&tr.prof)
	}
	if !verified {
		return nil, nil
	}
	w := &webhooks{base: p.Webhooks.PublicURL, relay: p.Webhooks.Relay, receivers: make([]*lp.Receiver, len(targets)),
		hops: make([]*report.RelayHop, len(targets))}
	var ln net.Listener
	if w.relay != "" {
		w.base = strings.TrimRight(w.relay, "/")
	} else {
		var err error
		if ln, err = net.Listen("tcp", p.Webhooks.Listen); err != nil {
			return nil, fmt.Errorf("webhook receiver: %w", err)
		}
		if w.base == "" {
			w.base = "http://" + ln.Addr().String()
		}
	}
	mux := http.NewServeMux()
	for i, tr := range targets {
		if !p.VerifiesAutoMessages(&tr.prof) {
			continue
		}
		rcv := lp.NewReceiver(tr.client.Target().ClientSecret, 0)
		w.receivers[i] = rcv
		path := webhookPath(tr.prof.Name)
		err := w.subscribe(i, tr, o)
		if err == nil {
			mux.Handle("POST "+path, tapped(i, rcv, o.tap))
			err = w.register(tr, sim, w.base+path)
		}
		if err != nil {
			w.abandon(ln)
			return nil, fmt.Errorf("target %s: %w", tr.prof.Name, err)
		}
		tr.journey.Opts.Receiver = rcv
		tr.journey.Opts.AwaitAutoMessage = p.Journey.AwaitAutoMessage
	}
	if ln != nil {
		w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 64 << 10}
		// Serve ends with ErrServerClosed at stop, or earlier if the listener fails: then the run
		// goes on and its journeys report no_auto_message, which is what a consumer would have seen.
		go func() { _ = w.srv.Serve(ln) }()
	}
	return w, nil
}

// subscribe, with a relay, subscribes target i's receiver: the relayed deliveries go into the
// receiver as if posted to it, and their hop is recorded. The subscription is in place when it
// returns, before the first conversation. Without a relay it does nothing.
func (w *webhooks) subscribe(i int, tr *targetRun, o Options) error {
	if w.relay == "" {
		return nil
	}
	rcv, hop := w.receivers[i], report.NewRelayHop()
	rcv.OnHop = hop.Record
	w.hops[i] = hop
	name := fmt.Sprintf("%s.shard-%d-of-%d", o.RunID, o.Shard, max(o.Shards, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := relay.Subscribe(ctx, relay.Subscriber{
		URL: w.relay, Target: tr.prof.Name, Name: name,
		Deliver: func(d relay.Delivery) {
			if o.tap != nil {
				o.tap(Delivery{Target: i, Header: d.Header, Body: d.Body})
			}
			rcv.Deliver(d.Body, d.Header.Get(lp.HeaderSignature), d.Received)
		},
		Notice: func(msg string) { o.emit(Event{Kind: EventRelay, Target: tr.prof.Name, Message: msg}) },
	})
	if err != nil {
		return err
	}
	// Subscribe's context bounds the subscribing only: the stream lives until stop.
	w.subs = append(w.subs, sub)
	return nil
}

// abandon undoes a start that failed half-way.
func (w *webhooks) abandon(ln net.Listener) {
	w.unregisterAll()
	for _, s := range w.subs {
		s.Close()
	}
	for _, r := range w.receivers {
		if r != nil {
			r.Close()
		}
	}
	if ln != nil {
		ln.Close()
	}
}

// register adds the receiver's URL to the target's simulator account, when the target is a
// simulator (a live target's webhooks are registered in its app installation, by its owner).
func (w *webhooks) register(tr *targetRun, sim *lpsim.Server, hookURL string) error {
	switch tr.kind {
	case profiles.KindSim:
		id, err := sim.AddWebhook(tr.prof.Account, hookURL)
		if err != nil {
			return fmt.Errorf("registering the webhook receiver with the simulator: %w", err)
		}
		w.unregister = append(w.unregister, func() error { return sim.RemoveWebhook(id) })
	case profiles.KindSimURL:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		base := tr.prof.CSDSURL()
		client := controlClient(tr.client.Target())
		id, err := lpsim.RegisterWebhook(ctx, client, base, tr.prof.Account, hookURL)
		if err != nil {
			return fmt.Errorf("registering the webhook receiver with the simulator: %w", certificateError(err, tr.client.Target().CAFile))
		}
		w.unregister = append(w.unregister, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			defer client.CloseIdleConnections()
			return lpsim.UnregisterWebhook(ctx, client, base, id)
		})
	}
	return nil
}

// unregisterAll removes every registration; a simulator that is gone by then has nothing left
// to remove, so its error is of no consequence to the run.
func (w *webhooks) unregisterAll() {
	for _, f := range w.unregister {
		_ = f()
	}
	w.unregister = nil
}

// stop keeps receiving for grace (deliveries after the last journey still count), then shuts
// the server down (or ends the relay subscriptions), drains the receivers and returns their
// counters by target (nil for a target whose auto messages were not verified), with the relay
// hops (nil without a relay).
func (w *webhooks) stop(grace time.Duration, targets int) ([]*sample.WebhookStats, []*report.RelayHop) {
	if w == nil {
		return make([]*sample.WebhookStats, targets), make([]*report.RelayHop, targets)
	}
	time.Sleep(grace)
	w.unregisterAll()
	if w.srv != nil {
		// The grace was the time for deliveries to come in: finish those under way, briefly, then
		// close whatever is left (a connection opened but unused would hold Shutdown for 5 s).
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		if w.srv.Shutdown(ctx) != nil {
			w.srv.Close()
		}
	}
	// Each Close waits, within relay.DefaultDrain, for what the relay still has for its target.
	relayed := make([]relay.SubscriptionStats, len(w.subs))
	var wg sync.WaitGroup
	for i, s := range w.subs {
		wg.Go(func() {
			s.Close() // Deliver is not called after
			relayed[i] = s.Stats()
		})
	}
	wg.Wait()
	out := make([]*sample.WebhookStats, len(w.receivers))
	for i, r := range w.receivers {
		if r == nil {
			continue
		}
		r.Close()
		st := r.Stats()
		if w.relay != "" {
			rs := relayed[0]
			relayed = relayed[1:]
			st.RelayDropped, st.RelayMissed, st.RelayReconnects, st.RelayUncertain = rs.Dropped, rs.Missed, rs.Reconnects, rs.Uncertain
		}
		out[i] = &st
	}
	return out, w.hops
}
