package profiles

import (
	"errors"
	"fmt"
	"time"
)

// Override is what a command line changes in a profile before it runs: its load, in-flight
// cap, window, relaxed checks and webhook relay. A zero field changes nothing.
type Override struct {
	// Rate and Duration replace the load by one constant stage: Rate journeys/s (0: the load's
	// peak) for Duration (0: the load's length).
	Rate        float64
	Duration    time.Duration
	MaxInFlight int
	Window      time.Duration
	Relax       []string // measurement checks to relax
	// Relay, when set, is the webhook relay to subscribe to (webhooks.relay), "" included.
	Relay *string
}

// Apply puts o into p, refusing a relay where the profile would refuse one (flag names the
// option in the error, e.g. "--webhook-relay").
func (o Override) Apply(p *Profile, flag string) error {
	if o.Rate > 0 || o.Duration > 0 {
		rate, d := o.Rate, o.Duration
		if rate == 0 {
			rate = p.Load.Plan(0, 1).PeakRate()
		}
		if d == 0 {
			d = p.Load.Plan(0, 1).Duration()
		}
		p.Load.Stages = []Stage{{Duration: d, Rate: Rate{From: rate, To: rate}}}
	}
	if o.MaxInFlight > 0 {
		p.Load.MaxInFlight = o.MaxInFlight
	}
	if o.Window > 0 {
		p.Window = o.Window
	}
	for _, name := range o.Relax {
		if !p.Checks.Relaxed(name) {
			p.Checks.Relax = append(p.Checks.Relax, name)
		}
	}
	if o.Relay == nil {
		return nil
	}
	switch {
	case *o.Relay == "":
		return errors.New(flag + " wants the relay's base URL, e.g. http://lpbench-relay:8080, got \"\"")
	case !p.Webhooks.Enabled:
		return fmt.Errorf("%s: profile %s has webhooks.enabled false: no receiver to subscribe", flag, p.Name)
	case p.Webhooks.PublicURL != "":
		return fmt.Errorf("%s: profile %s sets webhooks.public_url: with a relay, LivePerson's webhook URL is the relay's; remove public_url", flag, p.Name)
	}
	if err := CheckRelayURL(*o.Relay); err != nil {
		return fmt.Errorf("%s: %v", flag, err)
	}
	p.Webhooks.Relay = *o.Relay
	return nil
}
