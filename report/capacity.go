package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/sample"
)

// CapacitySchema names the format of capacity.json.
const CapacitySchema = "lpbench.capacity/v1"

// Bound is what limited a capacity search.
type Bound string

// Bounds.
const (
	BoundTarget    Bound = "target"    // a step failed because of the target: the SLO or a growing queue
	BoundGenerator Bound = "generator" // the generator could not deliver a step's load: no capacity figure
	BoundMax       Bound = "max"       // every step passed up to the --max cap
	// BoundBudget: the search's step or conversation cap ended it before it converged; its
	// interval says what was known, and no rate counts as found.
	BoundBudget Bound = "budget"
	// BoundRateLimit: the lowest failing step failed on 429s, the account's quota, not on the
	// service; the highest passing rate is the quota found (Capacity.QuotaLine says so).
	BoundRateLimit Bound = "rate_limit"
)

// QuotaLine says what a search bound by the account's quota found, in one line.
func (c *Capacity) QuotaLine() string {
	return fmt.Sprintf("LivePerson's quota for this account, not the service's capacity: the search reached %s journeys/s", TrimFloat(c.SustainableRate))
}

// Criteria a capacity step can fail on (CapacityStep.Failed).
const (
	CriterionSLO         = "slo"         // a threshold of the SLO failed
	CriterionStationary  = "stationary"  // latency grew through the step: a queue that only grows
	CriterionGenerator   = "generator"   // generator_lag, load_delivered or generator_cpu failed
	CriterionInterrupted = "interrupted" // the step was interrupted and not judged
	CriterionRateLimit   = "rate_limit"  // 429s (the account's quota) were the main signal of the failure
)

// Capacity is the outcome of a capacity search: the highest sustainable arrival rate, the
// interval it is known within, what bound it, and every step with its own result.
type Capacity struct {
	Schema  string    `json:"schema"`           // CapacitySchema
	RunID   string    `json:"run_id,omitempty"` // the search's id (the history's run id); its steps have their own
	Profile string    `json:"profile"`
	Start   time.Time `json:"start"`
	Elapsed float64   `json:"elapsed_s"`
	// SustainableRate is the highest rate that passed (journeys/s); 0 when none did.
	SustainableRate float64 `json:"sustainable_rate"`
	// Interval is [highest passing rate, lowest failing rate]; a side is 0 when no step was on it.
	Interval [2]float64 `json:"interval"`
	// Bound is what ended the search; Found is false when no rate was found (the SLO failed at
	// the lowest rate tried, the generator was the bound, or the search was interrupted first).
	Bound       Bound   `json:"bound"`
	Found       bool    `json:"found"`
	Interrupted bool    `json:"interrupted,omitempty"`
	Resolution  float64 `json:"resolution"` // the search stops bisecting at (high−low)/low ≤ this
	// Message says in one line what the outcome means and, when generator-bound, what to do.
	Message string `json:"message"`
	// Error is why a step could not run, which ended the search; "" when every step ran.
	Error  string         `json:"error,omitempty"`
	SLO    []string       `json:"slo"`
	Window float64        `json:"window_s"`
	Steps  []CapacityStep `json:"steps"`
	// Labels are the search's key=value labels (--label), as a run's.
	Labels map[string]string `json:"labels,omitempty"`
}

// CapacityStep is one constant-rate run of the search.
type CapacityStep struct {
	Rate     float64 `json:"rate"`       // journeys/s
	Duration float64 `json:"duration_s"` // planned length of the step
	// Phase is why the step ran: bracket, bisect, confirm (at the found rate) or above (just
	// above it).
	Phase string `json:"phase"`
	Pass  bool   `json:"pass"`
	// Failed names the criteria that failed (slo, stationary, generator, interrupted); Why
	// says how, one line each.
	Failed []string `json:"failed,omitempty"`
	Why    []string `json:"why,omitempty"`
	// Result is the path of the step's result.json, relative to capacity.json.
	Result string `json:"result,omitempty"`
	// Figures of the step: journeys that ended, the share served (the first auto message came,
	// or without verification the first SEND was certainly in the window), the gap's and
	// CONVERSATION's p99 and how fast the per-second gap p99 grew (seconds per second).
	Ended     int64   `json:"ended"`
	Verified  bool    `json:"verified"`
	Served    float64 `json:"served"`
	GapP99    float64 `json:"gap_p99_s"`
	CreateP99 float64 `json:"create_p99_s"`
	GapGrowth float64 `json:"gap_p99_growth"`
	// RateLimited counts the step's 429 responses (every step, retried or not) of its Requests.
	RateLimited int64 `json:"rate_limited,omitempty"`
	Requests    int64 `json:"requests,omitempty"`
}

// NewCapacityStep records the figures of a step's result; the caller judges it.
func NewCapacityStep(rate float64, d time.Duration, phase string, res *Result) CapacityStep {
	st := CapacityStep{Rate: rate, Duration: d.Seconds(), Phase: phase}
	if res == nil || res.Overall == nil {
		return st
	}
	m := res.Overall
	h := m.Headline()
	st.Ended, st.Verified = h.Of, h.Verified
	if h.Of > 0 {
		st.Served = float64(h.Served) / float64(h.Of)
	}
	if m.Gap != nil && m.Gap.TotalCount() > 0 {
		st.GapP99 = time.Duration(hdr.Percentile(m.Gap, 99)).Seconds()
	}
	if c := m.Steps[sample.Create]; c != nil && c.TotalCount() > 0 {
		st.CreateP99 = time.Duration(hdr.Percentile(c, 99)).Seconds()
	}
	st.GapGrowth = gapGrowth(m.Series)
	for s := range sample.NumSteps {
		st.RateLimited += m.RateLimited[s]
		st.Requests += m.Requests[s]
	}
	return st
}

// gapGrowth is the least-squares slope of the per-second gap p99 over the seconds that have
// one, after the first (a warm-up), in seconds per second; 0 with fewer than three seconds.
func gapGrowth(s Series) float64 {
	var xs, ys []float64
	for i, p := range s {
		if i > 0 && p.GapP99 > 0 {
			xs, ys = append(xs, float64(p.Unix)), append(ys, p.GapP99.Seconds())
		}
	}
	n := float64(len(xs))
	if n < 3 {
		return 0
	}
	var mx, my float64
	for i := range xs {
		mx, my = mx+xs[i], my+ys[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	return sxy / sxx
}

// FirstFailure returns the first step that failed on the target's account (SLO or
// stationarity), or nil.
func (c *Capacity) FirstFailure() *CapacityStep {
	for i := range c.Steps {
		if st := &c.Steps[i]; !st.Pass && st.targetFailed() {
			return st
		}
	}
	return nil
}

func (st *CapacityStep) targetFailed() bool {
	for _, f := range st.Failed {
		if f == CriterionSLO || f == CriterionStationary {
			return true
		}
	}
	return false
}

// FailedAt returns the step at rate r whose target failed, or nil.
func (c *Capacity) FailedAt(r float64) *CapacityStep {
	for i := range c.Steps {
		if st := &c.Steps[i]; !st.Pass && st.Rate == r && st.targetFailed() {
			return st
		}
	}
	return nil
}

// VerdictsAt counts the steps at rate r that judged the target (CapacityStep.JudgesTarget) and
// those of them that passed.
func (c *Capacity) VerdictsAt(r float64) (passed, judged int) {
	for i := range c.Steps {
		if st := &c.Steps[i]; st.Rate == r && st.JudgesTarget() {
			judged++
			if st.Pass {
				passed++
			}
		}
	}
	return passed, judged
}

// JudgesTarget reports whether the search took the step as a verdict on the target: it passed,
// or failed on the SLO or stationarity — but for a step that failed the generator's checks and
// was therefore repeated (a retry's own verdict counts).
func (st *CapacityStep) JudgesTarget() bool {
	if slices.Contains(st.Failed, CriterionGenerator) && st.Phase != "retry" {
		return false
	}
	return st.Pass || st.targetFailed()
}

// WriteCapacityJSON writes c as capacity.json.
func WriteCapacityJSON(w io.Writer, c *Capacity) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(c)
}

// ReadCapacityFile reads a capacity.json.
func ReadCapacityFile(path string) (*Capacity, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Capacity
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.Schema != CapacitySchema {
		return nil, fmt.Errorf("%s: schema %q, want %s", path, c.Schema, CapacitySchema)
	}
	return &c, nil
}
