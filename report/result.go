package report

import (
	"slices"
	"strings"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// Arrivals are the load generator's counts for the whole run: every planned arrival is started,
// dropped (the pool was full at its intended time, or the generator reached it more than
// load.max_lag late) or not started (the run was stopped first).
type Arrivals struct {
	Planned int64 `json:"planned"`
	Started int64 `json:"started"`
	Dropped int64 `json:"dropped"`
	// Late is the part of Dropped the generator reached more than load.max_lag after its
	// intended time: the generator's own lateness (a starved CPU), not a full pool.
	Late       int64 `json:"late"`
	NotStarted int64 `json:"not_started"`
}

// TargetInfo describes one target of the run.
type TargetInfo struct {
	Name    string `json:"name"`
	Account string `json:"account"`
	Kind    string `json:"kind"` // "sim", "simurl" or "live"
	Region  string `json:"region,omitempty"`
	// Insecure: TLS certificates of this target were not verified (a target marked local).
	Insecure bool `json:"insecure,omitempty"`
	// Shared fetches made for all the target's journeys.
	AppJWTFetches int64 `json:"appjwt_fetches"`
	DomainLookups int64 `json:"domain_lookups"`
	// Webhooks are the webhook receiver's counters for this target; nil when its auto messages
	// were not verified.
	Webhooks *sample.WebhookStats `json:"webhooks,omitempty"`
	// RelayHop is the webhook relay's hop for this target's deliveries; nil without a relay.
	RelayHop *RelayHop `json:"relay_hop,omitempty"`
	// Skill is the skill the target's conversations asked to be routed to, when the journeys
	// checked it (Metrics.Routing); "" otherwise.
	Skill string `json:"routing_skill,omitempty"`
}

// Shard says which part of a sharded run a result holds; Count 1 (or 0) is a whole run.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// EndReason tells why a run ended.
type EndReason string

// End reasons.
const (
	EndCompleted   EndReason = "completed"
	EndInterrupted EndReason = "interrupted"
	EndAborted     EndReason = "thresholds aborted"
	EndFailed      EndReason = "failed"
)

// Result is everything a run measured, ready to render.
type Result struct {
	Version     string // lpbench's version
	GoVersion   string
	Shard       Shard
	Effective   string // the effective profile as YAML, secrets removed (it reads back as a profile)
	Profile     string
	Start       time.Time
	Elapsed     time.Duration
	End         EndReason
	Reason      string // why a failed run ended
	Window      time.Duration
	Rate        float64       // peak arrival rate, per second
	Duration    time.Duration // planned length of the arrival schedule
	MaxInFlight int
	// MaxInFlightAsked is the profile's max_in_flight when the process could not give that many
	// journeys a connection each (its file descriptor limit) and MaxInFlight is lower; else 0.
	MaxInFlightAsked int
	Arrivals         Arrivals
	Targets          []TargetInfo
	PerTarget        []*Metrics // same order as Targets
	Overall          *Metrics
	Thresholds       []ThresholdResult
	// Checks judge the measurement itself (see Check); a failed one makes the run not valid.
	Checks []Check

	// RunID is the distributed run the result belongs to: every shard of one run has the same
	// (--run-id, LPBENCH_RUN_ID, else a random one); it is the {run} of the consumer ids.
	RunID string
	// ProfileHash is the sha256 (hex) of Effective: shards of one run ran the same profile.
	ProfileHash string
	// StartAt is the start barrier (--start-at) the run waited for; zero: none. With a barrier,
	// Start is StartAt.
	StartAt time.Time
	// Waited is how long the run waited, after its set-up, for the barrier.
	Waited time.Duration
	// JoinedLate is how long after the barrier the run was ready to send: the arrivals intended
	// before that were not sent (counted not started). Merged: the latest shard's.
	JoinedLate time.Duration
	// Clock bounds the offset of the local clock from the first target's (nil: not measured).
	Clock *ClockOffset
	// Relay is the webhook relay the run's receivers subscribed to (webhooks.relay); "" when
	// they listened themselves. The shards of one run share it.
	Relay string
	// MissingShards, of a merged result, are the shard indexes that were not merged
	// (merge --allow-partial): the result is partial, not the planned load.
	MissingShards []int
	// Labels are the run's key=value labels (--label): a build id, an environment, a region. The
	// history compares only runs with the same labels.
	Labels map[string]string
}

// ClockOffset bounds the offset of the target's clock from the local clock (target − local),
// read from its HTTP Date header: the true offset lies in [Min, Max]. Date has a resolution of
// 1 s, so the bounds are at least 1 s apart: an offset of a few milliseconds cannot be seen,
// only one that puts 0 outside the bounds.
type ClockOffset struct {
	Min    time.Duration `json:"min_ns"`
	Max    time.Duration `json:"max_ns"`
	Target string        `json:"target"`
}

// Excludes reports whether the bounds prove an offset larger than d (either way).
func (c *ClockOffset) Excludes(d time.Duration) bool {
	return c != nil && (c.Min > d || c.Max < -d)
}

// ByTarget returns each target's metrics by the target's name.
func (r *Result) ByTarget() map[string]*Metrics {
	m := make(map[string]*Metrics, len(r.Targets))
	for i, t := range r.Targets {
		if i < len(r.PerTarget) {
			m[t.Name] = r.PerTarget[i]
		}
	}
	return m
}

// Exit codes a run's result decides; lpbench exits with them (usage errors, exit 2, never get
// as far as a result).
const (
	ExitOK          = 0   // the run measured validly and every threshold held
	ExitRunFailed   = 1   // the run failed, or no journey succeeded
	ExitThresholds  = 3   // a threshold was breached
	ExitNotValid    = 4   // a measurement check failed: the figures describe the generator
	ExitInterrupted = 130 // the run was interrupted
)

// notValidMeaning says which measurement checks failed and, when one of the generator's own
// did, that the figures describe the generator, not the target.
func notValidMeaning(cs []Check) string {
	var failed []string
	generator := false
	for _, c := range cs {
		if c.Failed() {
			failed = append(failed, c.Label())
			generator = generator || slices.Contains(GeneratorChecks, c.Name)
		}
	}
	m := "the measurement is not valid: " + strings.Join(failed, ", ") + " failed"
	if generator {
		m += "; the figures describe the generator, not the target"
	}
	return m
}

// Exit returns the exit code of a finished run and what it means in one line. A failed
// measurement check (4) wins over breached thresholds (3): the figures they judged are not a
// valid measurement of the target (they describe the generator, when one of its checks failed).
func (r *Result) Exit() (code int, meaning string) {
	ok, started := int64(0), int64(0)
	if r.Overall != nil {
		ok, started = r.Overall.Outcomes[sample.OutcomeOK], r.Overall.Started()
	}
	switch {
	case r.End == EndFailed:
		return ExitRunFailed, "the run failed"
	case r.End == EndInterrupted:
		return ExitInterrupted, "the run was interrupted: what it measured so far"
	case started > 0 && ok == 0:
		return ExitRunFailed, "no journey succeeded"
	case ChecksFailed(r.Checks):
		return ExitNotValid, notValidMeaning(r.Checks)
	case Breached(r.Thresholds):
		return ExitThresholds, "a threshold was breached"
	case len(r.Thresholds) == 0:
		return ExitOK, "no threshold judged the run"
	}
	return ExitOK, "the measurement is valid and every threshold held"
}
