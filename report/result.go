package report

import (
	"time"
)

// Arrivals are the load generator's counts for the whole run: every planned arrival is started,
// dropped (the pool was full at its intended time) or not started (the run was stopped first).
type Arrivals struct {
	Planned, Started, Dropped, NotStarted int64
}

// TargetInfo describes one target of the run.
type TargetInfo struct {
	Name    string
	Account string
	Kind    string // "sim", "simurl" or "live"
	Region  string
	// Shared fetches made for all the target's journeys.
	AppJWTFetches, DomainLookups int64
}

// EndReason tells why a run ended.
type EndReason string

// End reasons.
const (
	EndCompleted   EndReason = "completed"
	EndInterrupted EndReason = "interrupted"
	EndAborted     EndReason = "thresholds aborted"
)

// Result is everything a run measured, ready to render.
type Result struct {
	Profile     string
	Start       time.Time
	Elapsed     time.Duration
	End         EndReason
	Window      time.Duration
	Rate        float64       // peak arrival rate, per second
	Duration    time.Duration // planned length of the arrival schedule
	MaxInFlight int
	Arrivals    Arrivals
	Targets     []TargetInfo
	PerTarget   []*Metrics // same order as Targets
	Overall     *Metrics
	Thresholds  []ThresholdResult
}
