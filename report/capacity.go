package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

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
	return fmt.Sprintf("LivePerson's quota for this account, not the service's capacity: the search reached %s journeys/s", rate(c.SustainableRate))
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
		st.GapP99 = time.Duration(Percentile(m.Gap, 99)).Seconds()
	}
	if c := m.Steps[sample.Create]; c != nil && c.TotalCount() > 0 {
		st.CreateP99 = time.Duration(Percentile(c, 99)).Seconds()
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

// stepAt returns the step at rate r that failed, or nil.
func (c *Capacity) failedAt(r float64) *CapacityStep {
	for i := range c.Steps {
		if st := &c.Steps[i]; !st.Pass && st.Rate == r && st.targetFailed() {
			return st
		}
	}
	return nil
}

// verdictsAt counts the steps at rate r that judged the target (CapacityStep.JudgesTarget) and
// those of them that passed.
func (c *Capacity) verdictsAt(r float64) (passed, judged int) {
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

// rate renders a rate in journeys/s.
func rate(r float64) string { return trimFloat(r) }

// Exit returns the exit code of a search and what it means in one line: 130 interrupted, 4
// generator-bound (the measurement is not valid: no capacity figure), 1 a step could not run, 1
// not converged (a cap ended the search first: BoundBudget), 0 a rate found (BoundRateLimit
// included: the account's quota found is the result), 3 the SLO failed
// even at the lowest rate tried, 1 otherwise (no rate found). As Result.Exit for a run, it is
// the one place that decides.
func (c *Capacity) Exit() (code int, meaning string) {
	switch {
	case c.Interrupted:
		return ExitInterrupted, "the search was interrupted: what is known so far"
	case c.Bound == BoundGenerator:
		return ExitNotValid, "generator-bound: the measurement is not valid, no capacity figure"
	case c.Error != "":
		return ExitRunFailed, "a step could not run: " + c.Error
	case c.Bound == BoundBudget:
		return ExitRunFailed, "not converged: " + c.Message
	case c.Found:
		return ExitOK, "a sustainable rate was found"
	case c.Bound == BoundTarget:
		return ExitThresholds, "the SLO fails even at the lowest rate tried"
	}
	return ExitRunFailed, "no rate found: " + c.Message
}

// CapacityHeadline is the search's outcome in one line: "sustainable: R journeys/s (between L
// and H); limited by the target: …".
func CapacityHeadline(c *Capacity) string {
	lo, hi := c.Interval[0], c.Interval[1]
	var b strings.Builder
	switch {
	case c.Bound == BoundGenerator:
		fmt.Fprintf(&b, "generator-bound at %s/s: no capacity figure", rate(hi))
		if lo > 0 {
			fmt.Fprintf(&b, " (the target sustained %s/s, the highest rate the generator delivered)", rate(lo))
		}
	case c.Found && c.Bound == BoundRateLimit:
		fmt.Fprintf(&b, "rate-limited: %s (between %s and %s)", c.QuotaLine(), rate(lo), rate(hi))
	case c.Found && c.Bound == BoundMax:
		fmt.Fprintf(&b, "sustainable: at least %s journeys/s: every step passed up to the --max cap", rate(lo))
	case c.Found:
		fmt.Fprintf(&b, "sustainable: %s journeys/s (between %s and %s)", rate(c.SustainableRate), rate(lo), rate(hi))
		if passed, judged := c.verdictsAt(c.SustainableRate); passed < judged {
			fmt.Fprintf(&b, "; a noisy edge: it passed %d of %d steps at that rate", passed, judged)
		}
		if st := c.failedAt(hi); st != nil {
			fmt.Fprintf(&b, "; limited by the target: at %s/s the gap p99 grew %s/s", rate(hi), fmtDur(time.Duration(st.GapGrowth*float64(time.Second))))
		}
	case c.Bound == BoundBudget:
		b.WriteString("not converged: ")
		switch {
		case lo > 0 && hi > 0 && (hi-lo)/lo <= c.Resolution:
			fmt.Fprintf(&b, "between %s and %s journeys/s, the search ended before its confirmation steps", rate(lo), rate(hi))
		case lo > 0 && hi > 0:
			fmt.Fprintf(&b, "between %s and %s journeys/s, the search ended before it narrowed them", rate(lo), rate(hi))
		case lo > 0:
			fmt.Fprintf(&b, "at least %s journeys/s, the search ended before a step failed", rate(lo))
		case hi > 0:
			fmt.Fprintf(&b, "below %s journeys/s, the search ended before a step passed", rate(hi))
		default:
			b.WriteString("no step was judged")
		}
	case c.Interrupted:
		fmt.Fprintf(&b, "interrupted before a rate was found")
	default:
		fmt.Fprintf(&b, "no sustainable rate: the SLO fails even at %s/s, the lowest rate tried", rate(hi))
	}
	if st := c.FirstFailure(); st != nil {
		fmt.Fprintf(&b, "; first step that failed: %s/s (%s)", rate(st.Rate), strings.Join(st.Failed, ", "))
	}
	return b.String()
}

// WriteCapacitySummary writes the search as text: the headline, what it means, and a line per
// step.
func WriteCapacitySummary(w io.Writer, c *Capacity) error {
	var b strings.Builder
	fmt.Fprintf(&b, "capacity search of profile %s: %d steps in %s; SLO: %s\n", c.Profile, len(c.Steps),
		fmtDur(time.Duration(c.Elapsed*float64(time.Second))), strings.Join(c.SLO, ", "))
	if c.Interrupted {
		b.WriteString("interrupted: what is known so far\n")
	}
	b.WriteString(CapacityHeadline(c) + "\n")
	if c.Message != "" {
		wrapText(&b, c.Message, 100)
	}
	b.WriteString("\n step  phase    rate/s   verdict  served   gap p99   create p99  gap p99 growth\n")
	for i, st := range c.Steps {
		verdict := "pass"
		if !st.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, " %4d  %-7s  %7s  %-7s  %-7s  %-8s  %-10s  %s/s\n", i+1, st.Phase, rate(st.Rate), verdict,
			shareOf(st.Served, st.Ended), secs(st.GapP99), secs(st.CreateP99), fmtDur(time.Duration(st.GapGrowth*float64(time.Second))))
		for _, why := range st.Why {
			fmt.Fprintf(&b, "        %s\n", why)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shareOf(f float64, of int64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*f)
}

func secs(s float64) string { return fmtDur(time.Duration(s * float64(time.Second))) }
