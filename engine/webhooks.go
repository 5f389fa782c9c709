package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/sample"
)

// webhooks is the run's webhook endpoint: one receiver per target whose auto messages are
// verified, at <base>/webhook/<target>, on one listener.
type webhooks struct {
	srv       *http.Server
	base      string
	receivers []*lp.Receiver // by target index; nil where not verified
	// unregister removes the receivers' registrations from the simulators, at stop.
	unregister []func() error
}

// startWebhooks starts the receivers, registers them with the simulators — the embedded one in
// process, a standalone one over its /_lpsim/webhooks call — as an app installation would, and
// sets the journeys of verified targets to wait for auto messages. It returns nil when no
// target's auto messages are verified.
func startWebhooks(p profiles.Profile, targets []*targetRun, sim *lpsim.Server) (*webhooks, error) {
	var verified bool
	for _, tr := range targets {
		verified = verified || p.VerifiesAutoMessages(&tr.prof)
	}
	if !verified {
		return nil, nil
	}
	ln, err := net.Listen("tcp", p.Webhooks.Listen)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	w := &webhooks{base: p.Webhooks.PublicURL, receivers: make([]*lp.Receiver, len(targets))}
	if w.base == "" {
		w.base = "http://" + ln.Addr().String()
	}
	mux := http.NewServeMux()
	for i, tr := range targets {
		if !p.VerifiesAutoMessages(&tr.prof) {
			continue
		}
		rcv := lp.NewReceiver(tr.client.Target().ClientSecret, 0)
		w.receivers[i] = rcv
		path := "/webhook/" + url.PathEscape(tr.prof.Name)
		mux.Handle("POST "+path, rcv)
		if err := w.register(tr, sim, w.base+path); err != nil {
			w.unregisterAll()
			ln.Close()
			return nil, fmt.Errorf("target %s: registering the webhook receiver with the simulator: %w", tr.prof.Name, err)
		}
		tr.journey.Opts.Receiver = rcv
		tr.journey.Opts.AwaitAutoMessage = p.Journey.AwaitAutoMessage
	}
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 64 << 10}
	// Serve ends with ErrServerClosed at stop, or earlier if the listener fails: then the run goes
	// on and its journeys report no_auto_message, which is what a consumer would have seen.
	go func() { _ = w.srv.Serve(ln) }()
	return w, nil
}

// register adds the receiver's URL to the target's simulator account, when the target is a
// simulator (a live target's webhooks are registered in its app installation, by its owner).
func (w *webhooks) register(tr *targetRun, sim *lpsim.Server, hookURL string) error {
	switch tr.kind {
	case profiles.KindSim:
		id, err := sim.AddWebhook(tr.prof.Account, hookURL)
		if err != nil {
			return err
		}
		w.unregister = append(w.unregister, func() error { return sim.RemoveWebhook(id) })
	case profiles.KindSimURL:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		base := tr.prof.CSDSURL()
		client := controlClient(tr.client.Target())
		id, err := lpsim.RegisterWebhook(ctx, client, base, tr.prof.Account, hookURL)
		if err != nil {
			return certificateError(err, tr.client.Target().CAFile)
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
// the server down, drains the receivers and returns their counters by target (nil for a target
// whose auto messages were not verified).
func (w *webhooks) stop(grace time.Duration, targets int) []*sample.WebhookStats {
	if w == nil {
		return make([]*sample.WebhookStats, targets)
	}
	time.Sleep(grace)
	w.unregisterAll()
	// The grace was the time for deliveries to come in: finish those under way, briefly, then
	// close whatever is left (a connection opened but unused would hold Shutdown for 5 s).
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if w.srv.Shutdown(ctx) != nil {
		w.srv.Close()
	}
	out := make([]*sample.WebhookStats, len(w.receivers))
	for i, r := range w.receivers {
		if r == nil {
			continue
		}
		r.Close()
		st := r.Stats()
		out[i] = &st
	}
	return out
}
