// Package profiles defines what a run does: its load, its journey and its target. For now it holds
// the built-in default profile, smoke; profiles read from YAML files come later with the same
// shape.
package profiles

import (
	"errors"
	"fmt"
	"time"
)

// Profile describes one run.
type Profile struct {
	Name        string
	Description string
	Load        Load
	Journey     Journey
	Window      time.Duration // the AUTO_MESSAGES window the first SEND is judged against
	Sim         Sim           // the embedded simulator target
}

// Load is the arrival schedule: a constant rate for a duration, at most MaxInFlight journeys at
// once (arrivals that find the pool full are dropped and counted).
type Load struct {
	Rate        float64 // journeys per second
	Duration    time.Duration
	MaxInFlight int
}

// Journey shapes every synthetic consumer's journey.
type Journey struct {
	LookupPerConsumer bool          // each consumer queries CSDS (otherwise a cached answer, 60 s)
	AutoMessages      bool          // Client-Properties AUTO_MESSAGES on CONVERSATION and SEND
	SendDelay         time.Duration // think time between CONVERSATION and the first SEND
	Message           string
	Close             bool
	RequestTimeout    time.Duration
}

// Sim configures the embedded simulator.
type Sim struct {
	Account        string
	AppJWTLifetime time.Duration
	AutoMessages   bool // the account has the AUTO_MESSAGES feature
}

// Smoke returns the default profile: a short load of the whole journey against the embedded
// simulator, under 30 seconds.
func Smoke() Profile {
	return Profile{
		Name:        "smoke",
		Description: "20 journeys/s for 10 s against the embedded simulator",
		Load:        Load{Rate: 20, Duration: 10 * time.Second, MaxInFlight: 500},
		Journey: Journey{
			AutoMessages:   true,
			Message:        "Hi from lpbench - Auto Messages feature",
			Close:          true,
			RequestTimeout: 30 * time.Second,
		},
		Window: 10 * time.Second,
		Sim:    Sim{Account: "12345678", AppJWTLifetime: time.Hour, AutoMessages: true},
	}
}

// Validate reports every impossible value of p at once, each naming its key.
func (p Profile) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if p.Load.Rate <= 0 {
		bad("load.rate", "must be > 0, got %g", p.Load.Rate)
	}
	if p.Load.Duration <= 0 {
		bad("load.duration", "must be > 0, got %v", p.Load.Duration)
	}
	if p.Load.MaxInFlight < 1 {
		bad("load.max_in_flight", "must be ≥ 1, got %d", p.Load.MaxInFlight)
	}
	if p.Window <= 0 {
		bad("window", "must be > 0, got %v", p.Window)
	}
	if p.Journey.SendDelay < 0 {
		bad("journey.send_delay", "must be ≥ 0, got %v", p.Journey.SendDelay)
	}
	if p.Journey.RequestTimeout <= 0 {
		bad("journey.request_timeout", "must be > 0, got %v", p.Journey.RequestTimeout)
	}
	if p.Sim.AppJWTLifetime < time.Second {
		bad("sim.appjwt_lifetime", "must be ≥ 1s, got %v", p.Sim.AppJWTLifetime)
	}
	return errors.Join(errs...)
}
