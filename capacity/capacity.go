// Package capacity searches the highest rate a target sustains, step by step, each step one
// constant-rate run of engine.Run judged by the SLO, the stationary check and the generator's
// own checks. It owns the search's rule (bracket, bisect, confirm), its caps and its outcome
// (report.Capacity); it drives the engine like any other caller and prints nothing: each step
// done is reported as an Event (Options.Events). It knows nothing of the command line, of how a
// step's files are written (Options.Prepare) or of how the outcome is rendered.
package capacity

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
	"github.com/lpbench/lpbench/validity"
)

// A capacity search runs the profile's journey step by step, each step one constant-rate run of
// Run, and looks for the highest rate the target sustains: the SLO holds, latency does not
// grow through the step (the stationary check), and the measurement is valid (the generator's
// own checks). It brackets exponentially from From (doubling until a step fails), bisects
// between the highest pass and the lowest fail until they are within Resolution, then confirms:
// one step at the found rate (it must pass) and one at the lowest failing rate (it should fail).
// A step that fails only on the generator's checks ends the search generator-bound: its figures
// describe the generator, not the target.
//
// Every step is judged for a growing queue (validity.StepGrowth, on steps as short as
// validity.ShortestStep; a shorter step is refused): a step that cannot be judged is not a pass.
// A step that fails while 429s are its main signal (quotaSignal) failed on the account's quota,
// not on the service: the search narrows below it as below any failure, never runs the step
// above it again, and a search whose lowest failing rate is such a step ends bound by the quota
// (report.BoundRateLimit): the highest passing rate is the quota found.

// Options configure a capacity search.
type Options struct {
	// From is the first step's rate (default: DefaultFrom); Max caps the rate (0: no cap).
	From, Max float64
	// Resolution ends the bisection when (high − low)/low ≤ Resolution (default 0.05).
	Resolution float64
	// Step is each step's length (default 2 × window + 5 s, at least validity.ShortestStep; a
	// shorter one is refused: its growth could not be judged); CoolDown the pause between steps
	// (default 5 s; negative: none), skipped when every target is the embedded simulator, which
	// is started afresh for each step (its queues are then empty by construction).
	Step, CoolDown time.Duration
	// SLO replaces the default service level (DefaultSLO).
	SLO []report.Threshold
	// MaxSteps ends the search after this many steps (default 24: room for a noisy edge, whose
	// rates pass and fail in turn and reopen the bisection).
	MaxSteps int
	// MaxConversations caps the conversations of the whole search: a step that would pass the
	// cap is not run (default 100 000). A search either cap ends before its rule does has not
	// converged (report.BoundBudget): no rate is found.
	MaxConversations float64
	// Run are the options of every step; Prepare, when set, adjusts them for step k (from 1),
	// e.g. to give it its own interval log, and returns what to call with the step's result
	// (to write its outputs), which returns the path of its result.json. done is called once
	// for every step it was returned for: with nil when the step's run gave no result (it then
	// only closes what Prepare opened).
	Run     engine.Options
	Prepare func(k int, rate float64, o *engine.Options) (done func(*report.Result) (string, error), err error)
	// Events, when not nil, is told of each step once it is judged.
	Events func(Event)
}

// Event is a step of the search, judged.
type Event struct {
	// Step is the step's number (from 1) and Rate its rate.
	Step int
	Rate float64
	// Result is the step as judged: its phase, verdict and the criteria it failed on (Why).
	Result report.CapacityStep
	// Message says the step, its verdict and what the search knows so far in one line for a
	// person, without a prefix or a newline.
	Message string
}

// DefaultMaxSteps is the default of Options.MaxSteps.
const DefaultMaxSteps = 24

// DefaultSLO is the service level a capacity step must meet: ≥ 99.9 % of consumers get their
// first auto message (without verification: ≥ 99.9 % of first SENDs certainly inside the
// window) and fewer than 0.1 % of journeys fail.
func DefaultSLO(p profiles.Profile) []report.Threshold {
	first := "window.not_in < 0.1%"
	for i := range p.Targets {
		if p.VerifiesAutoMessages(&p.Targets[i]) {
			first = "automsg.missing < 0.1%"
		}
	}
	var out []report.Threshold
	for _, e := range []string{first, "errors < 0.1%"} {
		th, err := report.ParseThreshold(e)
		if err != nil {
			panic(err) // cannot happen: the expressions are constants
		}
		out = append(out, th)
	}
	return out
}

// Validate checks the options for p as Search would, before anything is created or run.
func (o Options) Validate(p profiles.Profile) error {
	return o.defaults(p) // on a copy: o is a value
}

// DefaultFrom is the first rate of a search of p by default: a quarter of the profile's peak
// rate, a step cheap (a quarter of the conversations) and likely to pass, so that it bounds the
// search from below (a first step at a peak beyond the target's capacity says only "below the
// peak", at the highest cost); at least 10/s (or the peak, when lower), where every second of a
// step has journeys ending, so its growth can be judged.
func DefaultFrom(p profiles.Profile) float64 {
	peak := p.PeakRate()
	return max(peak/4, min(peak, 10), 1)
}

func (o *Options) defaults(p profiles.Profile) error {
	if o.From == 0 {
		o.From = DefaultFrom(p)
	}
	if o.Resolution == 0 {
		o.Resolution = 0.05
	}
	if o.Step == 0 {
		o.Step = max(2*p.Window+5*time.Second, validity.ShortestStep)
	}
	switch {
	case o.CoolDown == 0:
		o.CoolDown = 5 * time.Second
	case o.CoolDown < 0:
		o.CoolDown = 0
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxConversations == 0 {
		o.MaxConversations = 100_000
	}
	if first := o.From * o.Step.Seconds(); o.From > 0 && first > o.MaxConversations {
		return fmt.Errorf("the first step (%s/s for %s) would open %.0f conversations, more than the cap of %.0f (--max-conversations): no step could run",
			report.TrimDecimals(o.From, 2), o.Step, first, o.MaxConversations)
	}
	if o.SLO == nil {
		o.SLO = DefaultSLO(p)
	}
	switch {
	case o.From < 0 || math.IsNaN(o.From) || math.IsInf(o.From, 0):
		return fmt.Errorf("the first rate must be > 0, got %g", o.From)
	case o.Max < 0 || o.Max > 0 && o.Max < o.From:
		return fmt.Errorf("the rate cap %g is below the first rate %g", o.Max, o.From)
	case o.Resolution <= 0 || o.Resolution >= 1:
		return fmt.Errorf("the resolution must be between 0 and 1 (e.g. 0.05), got %g", o.Resolution)
	case o.Step < validity.ShortestStep:
		return fmt.Errorf("--step %v is too short to judge whether the target's queue grows (%s): the shortest step accepted is %v; use --step %v or longer",
			o.Step, validity.StepNeeds, validity.ShortestStep, validity.ShortestStep)
	}
	for _, t := range p.Targets {
		if t.Load != nil {
			return fmt.Errorf("target %s has a load of its own: a capacity search drives the profile's load only", t.Name)
		}
	}
	return nil
}

// WorstCase returns the most a search of p with o can do: its steps, conversations
// and duration (steps and cool-downs), for the plan printed before a live search.
func WorstCase(p profiles.Profile, o Options) (steps int, conversations float64, d time.Duration) {
	if err := o.defaults(p); err != nil {
		return 0, 0, 0
	}
	r := o.From
	for steps < o.MaxSteps {
		if o.Max > 0 {
			r = min(r, o.Max)
		}
		if conversations+r*o.Step.Seconds() > o.MaxConversations {
			break
		}
		steps++
		conversations += r * o.Step.Seconds()
		d += o.Step + o.CoolDown
		r *= 2
	}
	return steps, conversations, d
}

// search is the state of a capacity search: the highest passing and lowest failing rates.
type search struct {
	low, high        float64 // 0: none yet
	lowest           float64 // the lowest rate tried
	confirmed, above bool    // the confirmation steps that passed / ran since low and high last moved
	halvings         int
	passes           []float64 // every rate that passed, in order
	fails            []float64 // every rate that failed on the target, in order
	quota            []float64 // the rates that failed on 429s (report.CriterionRateLimit)
	retry            *retry    // the step to repeat next, its measurement being invalid
}

// retry is a step to repeat: its rate and the phase it ran for.
type retry struct {
	rate  float64
	phase string
}

// next returns the next step's rate and phase, or done.
func (s *search) next(o *Options) (rate float64, phase string, done bool) {
	switch {
	case s.retry != nil:
		return s.retry.rate, "retry", false
	case s.high == 0 && s.low == 0:
		return o.From, "bracket", false
	case s.high == 0:
		if o.Max > 0 && s.low >= o.Max {
			return 0, "", true
		}
		r := 2 * s.low
		if o.Max > 0 {
			r = min(r, o.Max)
		}
		return r, "bracket", false
	case s.low == 0:
		if s.halvings > 3 {
			return 0, "", true // the SLO fails at the lowest rate tried
		}
		return s.high / 2, "bracket", false
	case (s.high-s.low)/s.low > o.Resolution:
		return (s.low + s.high) / 2, "bisect", false
	case !s.confirmed:
		return s.low, "confirm", false
	case !s.above && !s.quotaAt(s.high):
		// The step above is not run again where the account's quota refused: its 429s said it.
		return s.high, "above", false
	}
	return 0, "", true
}

// record moves the search by the verdict of a step at rate r.
func (s *search) record(r float64, phase string, pass bool) {
	if s.lowest == 0 || r < s.lowest {
		s.lowest = r
	}
	switch {
	case phase == "confirm" && pass:
		s.confirmed = true
	case phase == "above" && !pass:
		s.above = true
	case pass:
		s.low, s.confirmed, s.above = r, false, false
		s.passes = append(s.passes, r)
		if s.high > 0 && r >= s.high {
			// The lowest failing rate passed now (the "above" step, at the edge): the next
			// failing rate above it bounds the search again; with none, bracket from here.
			s.high = 0
			for _, f := range s.fails {
				if f > r && (s.high == 0 || f < s.high) {
					s.high = f
				}
			}
			// It has just passed a step of its own: that confirms it as the new found rate.
			s.confirmed = phase == "above"
		}
	case phase == "confirm":
		// The found rate failed the second time: it is not sustainable after all. Bisect again
		// between the highest rate below it that passed and it.
		s.fails = append(s.fails, r)
		s.high, s.confirmed, s.above = r, false, false
		s.low = 0
		for _, p := range s.passes {
			if p < r {
				s.low = max(s.low, p)
			}
		}
	default:
		s.fails = append(s.fails, r)
		s.high, s.confirmed, s.above = r, false, false
		if s.low == 0 {
			s.halvings++
		}
	}
}

// Search searches the highest sustainable rate of p (see Options). stop ends the
// search (the step running ends its arrivals and the outcome says what was known); work cancels
// the journeys in flight. An error means a step could not run or its outputs not be written;
// the outcome then holds the steps done so far.
func Search(stop, work context.Context, p profiles.Profile, o Options) (*report.Capacity, error) {
	if err := o.defaults(p); err != nil {
		return nil, &engine.InputError{Err: err}
	}
	return searchWith(stop, p, o, func(k int, r float64, phase string) (report.CapacityStep, error) {
		return runStep(stop, work, p, &o, k, r, phase)
	})
}

// stepFunc runs step k at rate r for phase and returns it judged.
type stepFunc func(k int, r float64, phase string) (report.CapacityStep, error)

// searchWith is the search's loop over steps that run judges: its rule, caps and outcome.
func searchWith(stop context.Context, p profiles.Profile, o Options, run stepFunc) (*report.Capacity, error) {
	c := &report.Capacity{Schema: report.CapacitySchema, RunID: engine.NewRunID(), Profile: p.Name, Start: time.Now(), Resolution: o.Resolution,
		Window: p.Window.Seconds()}
	for _, th := range o.SLO {
		c.SLO = append(c.SLO, th.Expr)
	}
	var s search
	var total float64
	var err error
	cut := fmt.Sprintf("-max-steps %d", o.MaxSteps) // what ended the search, if its steps did
	for k := 1; k <= o.MaxSteps; k++ {
		r, phase, done := s.next(&o)
		if done || stop.Err() != nil {
			break
		}
		if total += r * o.Step.Seconds(); total > o.MaxConversations {
			cut = fmt.Sprintf("step %d, which would pass the cap of %.0f conversations (--max-conversations)", k, o.MaxConversations)
			break
		}
		if k > 1 && o.CoolDown > 0 && !freshSimEachStep(p, o.Run) && !sleepStop(stop, o.CoolDown) {
			break
		}
		var st report.CapacityStep
		if st, err = run(k, r, phase); err != nil {
			break
		}
		c.Steps = append(c.Steps, st)
		end := s.take(c, st, r, phase)
		if o.Events != nil {
			o.Events(Event{Step: k, Rate: r, Result: st,
				Message: fmt.Sprintf("step %d  %s/s  %-7s %s  — %s", k, report.TrimDecimals(r, 2), st.Phase, verdictWord(st), s.soFar())})
		}
		if end {
			break
		}
	}
	if _, _, done := s.next(&o); done || stop.Err() != nil || err != nil || c.Bound == report.BoundGenerator || stepInterrupted(c) {
		cut = "" // the search ended by its own rule, or for a reason of its own
	}
	conclude(c, &s, &o, stop.Err() != nil, cut)
	if err != nil {
		c.Error = err.Error()
	}
	return c, err
}

// take moves the search by step st, run at rate r for phase, and reports whether it ends the
// search: an interrupted step, or one the generator alone failed twice (generator-bound).
func (s *search) take(c *report.Capacity, st report.CapacityStep, r float64, phase string) (end bool) {
	switch {
	case slices.Contains(st.Failed, report.CriterionInterrupted):
		return true
	case slices.Contains(st.Failed, report.CriterionGenerator) && s.retry == nil:
		// The measurement is not valid: a stall of the generator (another process took the
		// CPU) spoils one step and not the next. Repeat it once before believing it.
		s.retry = &retry{rate: r, phase: phase}
	case generatorBound(st, c.Steps):
		c.Bound, s.high = report.BoundGenerator, r
		return true
	default:
		if s.retry != nil {
			phase = s.retry.phase
		}
		s.retry = nil
		s.record(r, phase, st.Pass)
		if slices.Contains(st.Failed, report.CriterionRateLimit) {
			s.quota = append(s.quota, r)
		}
	}
	return false
}

// quotaAt reports whether a step at rate r failed on the account's quota.
func (s *search) quotaAt(r float64) bool { return r > 0 && slices.Contains(s.quota, r) }

// runStep runs one step at rate r and judges it.
func runStep(stop, work context.Context, p profiles.Profile, o *Options, k int, r float64, phase string) (report.CapacityStep, error) {
	p.Load.Stages = []profiles.Stage{{Duration: o.Step, Rate: profiles.Rate{From: r, To: r}}}
	p.Thresholds = nil
	for _, th := range o.SLO {
		p.Thresholds = append(p.Thresholds, profiles.Threshold{Expr: th.Expr, Parsed: th})
	}
	ro := o.Run
	var done func(*report.Result) (string, error)
	if o.Prepare != nil {
		var err error
		if done, err = o.Prepare(k, r, &ro); err != nil {
			return report.CapacityStep{}, fmt.Errorf("step %d (%s/s): %w", k, report.TrimDecimals(r, 2), err)
		}
	}
	res, err := engine.Run(stop, work, p, ro)
	if (err != nil && res == nil) || res.End == report.EndFailed {
		if done != nil { // the step's files closed, and what it measured written
			done(res)
		}
		if res == nil {
			return report.CapacityStep{}, fmt.Errorf("step %d (%s/s): %w", k, report.TrimDecimals(r, 2), err)
		}
		return report.CapacityStep{}, fmt.Errorf("step %d (%s/s) failed: %s", k, report.TrimDecimals(r, 2), res.Reason)
	}
	st := report.NewCapacityStep(r, o.Step, phase, res)
	g := judgeStep(&st, res, o.Step)
	if done != nil {
		if st.Result, err = done(res); err != nil {
			return st, fmt.Errorf("step %d (%s/s): %w", k, report.TrimDecimals(r, 2), err)
		}
	}
	return st, tooShort(st, g, k, o.Step)
}

// tooShort refuses the step length when step k could not be judged for a growing queue while
// the generator kept its schedule: the profile's journeys end too late in the step (or too few
// per second) for its trend, so the length, not the target, is at fault; it names a length that
// would have had the seconds needed. nil when the step was judged.
func tooShort(st report.CapacityStep, g validity.Growth, k int, step time.Duration) error {
	if g.Judged || g.Needed == 0 || slices.Contains(st.Failed, report.CriterionGenerator) || slices.Contains(st.Failed, report.CriterionInterrupted) {
		return nil
	}
	longer := step + time.Duration(g.Needed-g.Seconds)*time.Second
	return &engine.InputError{Err: fmt.Errorf("step %d (%s/s) could not be judged for a growing queue: %d whole seconds had journeys ending after the warm-up, %d are needed: --step %v is too short for this profile's journeys; use --step %v or longer",
		k, report.TrimDecimals(st.Rate, 2), g.Seconds, g.Needed, step, longer)}
}

// judgeStep decides whether a step of length d passed and, if not, on which criteria; it returns
// the step's growth (validity.StepGrowth), Needed 0 when it was not looked at.
func judgeStep(st *report.CapacityStep, res *report.Result, d time.Duration) (g validity.Growth) {
	add := func(criterion, why string) {
		if !slices.Contains(st.Failed, criterion) {
			st.Failed = append(st.Failed, criterion)
		}
		st.Why = append(st.Why, criterion+": "+why)
	}
	if res.End == report.EndInterrupted {
		add(report.CriterionInterrupted, "the search was interrupted during this step: not judged")
		return g
	}
	for _, t := range res.Thresholds {
		if !t.Pass {
			measured := "no data"
			if !t.NoData {
				measured = t.Format(t.Measured)
			}
			add(report.CriterionSLO, fmt.Sprintf("%s measured %s", t.Expr, measured))
		}
	}
	for _, ch := range res.Checks {
		switch {
		case !ch.Failed():
		case ch.Name == "stationary":
			add(report.CriterionStationary, ch.Line())
		case slices.Contains(report.GeneratorChecks, ch.Name):
			add(report.CriterionGenerator, ch.Line())
		}
	}
	if !slices.Contains(st.Failed, report.CriterionStationary) {
		if g = stepGrowth(res, d); !g.Judged || g.Grows {
			add(report.CriterionStationary, g.Line)
		}
	}
	st.Pass = len(st.Failed) == 0
	if !st.Pass && quotaSignal(res) {
		add(report.CriterionRateLimit, fmt.Sprintf("%d of %d requests answered 429: the account's quota, not the service's capacity", st.RateLimited, st.Requests))
	}
	return g
}

// stepGrowth judges the growth of each target's latency through a step of length d: the worst
// target's verdict (one that grows, else one not judged, else the steepest).
func stepGrowth(res *report.Result, d time.Duration) validity.Growth {
	var worst validity.Growth
	for i, m := range res.PerTarget {
		g := validity.StepGrowth(m.Series, res.Start, d)
		if len(res.PerTarget) > 1 && i < len(res.Targets) {
			g.Line = "[" + res.Targets[i].Name + "] " + g.Line
		}
		rank := func(g validity.Growth) int {
			switch {
			case g.Grows:
				return 2
			case !g.Judged:
				return 1
			}
			return 0
		}
		if i == 0 || rank(g) > rank(worst) || rank(g) == rank(worst) && g.Slope > worst.Slope {
			worst = g
		}
	}
	if len(res.PerTarget) == 0 && res.Overall != nil {
		worst = validity.StepGrowth(res.Overall.Series, res.Start, d)
	}
	return worst
}

// quotaSignal reports whether 429s are the main signal of a failed step: at least one journey
// in a thousand met one (the default SLO's error budget), and they outnumber the journeys that
// failed for any other reason (another class, or a missed window).
func quotaSignal(res *report.Result) bool {
	m := res.Overall
	if m == nil {
		return false
	}
	var limited, other int64
	for s := range sample.NumSteps {
		limited += m.RateLimited[s]
		for c, n := range m.Failures[s] {
			if sample.Class(c) != sample.ClassRateLimited {
				other += n
			}
		}
	}
	return limited > 0 && float64(limited) >= 0.001*float64(m.Started()) && limited > other
}

// generatorBound reports whether the step failed on the generator's checks while the target met
// the SLO: the measurement is not valid, and a growth seen in it (stationary) is no verdict on
// the target either, a stalled generator delaying what it measures — unless the target is
// saturated (saturated: its CONVERSATION queued): an overloaded target holds the generator's
// journeys and delays it, and the step counts against the target. steps are the search's.
func generatorBound(st report.CapacityStep, steps []report.CapacityStep) bool {
	if slices.Contains(st.Failed, report.CriterionStationary) && saturated(st, steps) {
		return false
	}
	return slices.Contains(st.Failed, report.CriterionGenerator) && !slices.Contains(st.Failed, report.CriterionSLO) &&
		!slices.Contains(st.Failed, report.CriterionRateLimit)
}

// stepInterrupted reports whether the last step was interrupted (and not judged).
func stepInterrupted(c *report.Capacity) bool {
	return len(c.Steps) > 0 && slices.Contains(c.Steps[len(c.Steps)-1].Failed, report.CriterionInterrupted)
}

// conclude fills in the outcome from the search's state; cut names the cap that ended the search
// before its rule did ("" when it did not).
func conclude(c *report.Capacity, s *search, o *Options, interrupted bool, cut string) {
	c.Elapsed = time.Since(c.Start).Seconds()
	c.Interval = [2]float64{s.low, s.high}
	c.Interrupted = interrupted
	switch {
	case cut != "":
		c.Bound = report.BoundBudget
		if s.low == 0 && s.high > 0 {
			c.Interval[1] = s.lowest
		}
		c.Message = fmt.Sprintf("the search ended at %s before it converged (%s): %s; raise the cap, or start -from nearer the capacity",
			cut, s.soFar(), s.unconfirmed(o))
	case c.Bound == report.BoundGenerator && len(c.Steps) > 0 && saturated(c.Steps[len(c.Steps)-1], c.Steps):
		st := c.Steps[len(c.Steps)-1]
		c.Message = fmt.Sprintf("at %s/s the generator's checks failed while the target's latency grew (gap p99 %s, growing %s/s; CONVERSATION p99 %s): "+
			"the target is saturated at this rate and holds the generator's journeys in flight, so the generator is not the limit. "+
			"Search again from a lower rate: -from %s", report.TrimDecimals(s.high, 2), fmtSeconds(st.GapP99), fmtSeconds(st.GapGrowth), fmtSeconds(st.CreateP99), report.TrimDecimals(lowerFrom(s), 2))
	case c.Bound == report.BoundGenerator:
		c.Message = fmt.Sprintf("at %s/s the generator could not deliver its load (its own checks failed while the target met the SLO): "+
			"the target's capacity is above what this machine generates. Shard the load over several generators "+
			"(lpbench run --shard K/N on each, then lpbench merge; deploy/kubernetes runs the shards as a Job) and search from there.", report.TrimDecimals(s.high, 2))
	case s.low > 0 && s.high == 0 && o.Max > 0 && s.low >= o.Max:
		c.Bound, c.Found, c.SustainableRate = report.BoundMax, true, s.low
	case s.high > 0 && !interrupted && s.quotaAt(s.high):
		concludeQuota(c, s)
	case s.low > 0 && s.high > 0 && !interrupted:
		c.Bound, c.Found, c.SustainableRate = report.BoundTarget, true, s.low
	case s.low == 0 && s.high > 0 && !interrupted:
		c.Bound = report.BoundTarget
		c.Interval[1] = s.lowest
	}
	if c.Message == "" && !c.Found && s.low > 0 {
		c.Message = fmt.Sprintf("so far: %s/s passed", report.TrimDecimals(s.low, 2))
		if s.high > 0 {
			c.Message += fmt.Sprintf(", %s/s failed", report.TrimDecimals(s.high, 2))
		}
	}
}

// concludeQuota fills in the outcome of a search whose lowest failing rate failed on the
// account's quota: the highest passing rate is the quota found, never the target's capacity.
func concludeQuota(c *report.Capacity, s *search) {
	c.Bound = report.BoundRateLimit
	if s.low == 0 {
		c.Interval[1] = s.lowest
		c.Message = fmt.Sprintf("every step failed on 429s, down to %s/s: the account's quota is below the lowest rate tried, and the service was not measured; search from a lower -from, or ask LivePerson (the account team) for a higher quota",
			report.TrimDecimals(s.lowest, 2))
		return
	}
	c.Found, c.SustainableRate = true, s.low
	c.Message = c.QuotaLine() + fmt.Sprintf("; at %s/s LivePerson answered 429 (see the step's rate_limit line). "+
		"The service's capacity is not measured above the quota: ask LivePerson (the account team) for a higher quota to search beyond it", report.TrimDecimals(s.high, 2))
}

// saturated reports whether a step's latency grew through it as a saturated target's does: the
// gap p99's trend rose over the step by more than a quarter of the step's gap p99 (a queue that
// grows from the step's start rises by about its p99) and by more than 100 ms, while
// CONVERSATION's p99 passed twice its p99 at the lowest rate that passed (of steps) plus 200 ms:
// a target's queue, which a generator's stall of a step does not build.
func saturated(st report.CapacityStep, steps []report.CapacityStep) bool {
	base, lowest := 0.0, math.Inf(1)
	for _, o := range steps {
		if o.Pass && o.Rate < lowest {
			base, lowest = o.CreateP99, o.Rate
		}
	}
	rise := st.GapGrowth * st.Duration
	return rise > 0.25*st.GapP99 && rise > 0.1 && st.CreateP99 >= 2*base+0.2
}

// lowerFrom is the first rate to suggest after a saturated step: the highest rate that passed,
// else a quarter of the saturated step's rate.
func lowerFrom(s *search) float64 {
	if s.low > 0 {
		return s.low
	}
	return max(s.high/4, 1)
}

// fmtSeconds formats seconds as a rounded duration.
func fmtSeconds(v float64) string {
	d := time.Duration(v * float64(time.Second))
	switch {
	case d >= time.Second || d <= -time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// unconfirmed says what the search still lacked when a cap ended it.
func (s *search) unconfirmed(o *Options) string {
	switch {
	case s.low == 0 && s.high == 0:
		return "no step was judged"
	case s.low == 0 || s.high == 0 || (s.high-s.low)/s.low > o.Resolution:
		return "the interval is wider than the resolution, and no rate is confirmed"
	case s.confirmed:
		return fmt.Sprintf("%s/s was confirmed, but the step at %s/s, above it, was not run", report.TrimDecimals(s.low, 2), report.TrimDecimals(s.high, 2))
	}
	return fmt.Sprintf("the interval is narrow enough, but %s/s was not confirmed", report.TrimDecimals(s.low, 2))
}

// freshSimEachStep reports whether every target is the embedded simulator started by Run for
// each step (then a cool-down is pointless: each step starts with empty queues).
func freshSimEachStep(p profiles.Profile, o engine.Options) bool {
	if o.Sim != nil || o.SimURL != "" {
		return false
	}
	for _, t := range p.Targets {
		if t.Kind() != profiles.KindSim {
			return false
		}
	}
	return true
}

// sleepStop waits d, or reports false as soon as stop ends.
func sleepStop(stop context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop.Done():
		return false
	}
}

func verdictWord(st report.CapacityStep) string {
	if st.Pass {
		return "pass"
	}
	return "FAIL (" + strings.Join(st.Failed, ", ") + ")"
}

// soFar says what the search knows.
func (s *search) soFar() string {
	switch {
	case s.low > 0 && s.high > 0:
		return fmt.Sprintf("so far between %s and %s/s", report.TrimDecimals(s.low, 2), report.TrimDecimals(s.high, 2))
	case s.low > 0:
		return fmt.Sprintf("so far ≥ %s/s", report.TrimDecimals(s.low, 2))
	case s.high > 0:
		return fmt.Sprintf("so far < %s/s", report.TrimDecimals(s.high, 2))
	}
	return "nothing known yet"
}
