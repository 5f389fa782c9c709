package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
)

// Preflight is a run's set-up without its load, for checking the targets before a run (lpbench
// doctor): each target's client built as a run builds it (a -sim-url simulator's credentials
// included), and, for the targets whose auto messages are verified, the webhook receiver started
// and registered with the simulators as a run registers it (or subscribed to the relay). Every
// delivery reaching a receiver, well signed or not, is shown to the tap first.
type Preflight struct {
	Targets []PreflightTarget
	targets []*targetRun
	hooks   *webhooks
	sim     *lpsim.Server // the embedded simulator it started, closed by Close; nil otherwise
}

// PreflightTarget is one target of a Preflight.
type PreflightTarget struct {
	Profile profiles.Target
	Client  *lp.Client
	// WebhookURL is where its app installation's webhooks must point (public_url's, the relay's,
	// or, for a simulator, the receiver's own address); "" when its auto messages are not
	// verified (no receiver).
	WebhookURL string
}

// Delivery is one webhook delivery as it reached a receiver: posted to it, or relayed.
type Delivery struct {
	Target int // index into Preflight.Targets
	Header http.Header
	Body   []byte
}

// NewPreflight sets up profile p's targets as Run does (o.SimURL, o.SimCA, o.Sim, o.Getenv are
// read) and calls tap, from any goroutine, with every webhook delivery. Its errors are those of
// Run before the first arrival (an *InputError when the profile or options are to blame). Close
// must follow.
func NewPreflight(p profiles.Profile, o Options, tap func(Delivery)) (*Preflight, error) {
	o.defaults()
	if err := useSimURL(&p, &o); err != nil {
		return nil, err
	}
	pf := &Preflight{}
	sim := o.Sim
	if sim == nil && needsSim(p) {
		var err error
		if sim, err = lpsim.NewServer(p.Sim); err != nil {
			return nil, fmt.Errorf("starting the embedded simulator: %w", err)
		}
		pf.sim = sim
	}
	if o.RunID == "" {
		o.RunID = NewRunID()
	}
	o.tap = tap
	targets, hooks, err := prepare(context.Background(), p, sim, o)
	if err != nil {
		pf.Close()
		return nil, err
	}
	pf.targets, pf.hooks = targets, hooks
	for i, tr := range targets {
		pt := PreflightTarget{Profile: tr.prof, Client: tr.client}
		if hooks != nil && hooks.receivers[i] != nil {
			pt.WebhookURL = hooks.base + webhookPath(tr.prof.Name)
		}
		pf.Targets = append(pf.Targets, pt)
	}
	return pf, nil
}

// Close stops the receivers, removes their registrations and stops the embedded simulator.
func (pf *Preflight) Close() {
	if pf.hooks != nil {
		pf.hooks.stop(0, len(pf.targets))
	}
	for _, tr := range pf.targets {
		tr.client.CloseIdleConnections()
	}
	if pf.sim != nil {
		pf.sim.Close()
	}
}

// MeasureClock bounds the offset of the clock of t's domain API from the local clock by the
// Date header of its answer (see report.ClockOffset).
func MeasureClock(ctx context.Context, t lp.Target) (*report.ClockOffset, error) {
	return measureClock(ctx, t.Name, t.CSDS, t)
}

// webhookPath is the path of a target's receiver, at the listener or the relay.
func webhookPath(target string) string { return "/webhook/" + url.PathEscape(target) }

// tapped returns h, or, with a tap, a handler that shows each delivery to the tap first.
func tapped(target int, h http.Handler, tap func(Delivery)) http.Handler {
	if tap == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		tap(Delivery{Target: target, Header: r.Header.Clone(), Body: body})
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	})
}
