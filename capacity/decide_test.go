package capacity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// passStep and failStep are synthetic judged steps.
func passStep(r float64) report.CapacityStep {
	return report.CapacityStep{Rate: r, Duration: 8, Pass: true, Ended: 1000, Requests: 4000}
}

func failStep(r float64, criteria ...string) report.CapacityStep {
	st := report.CapacityStep{Rate: r, Duration: 8, Ended: 1000, Requests: 4000, Failed: criteria}
	for _, c := range criteria {
		st.Why = append(st.Why, c+": synthetic")
	}
	if slices.Contains(criteria, report.CriterionRateLimit) {
		st.RateLimited = 500
	}
	return st
}

// searchSynthetic runs the search's loop on steps that verdict judges, without running anything,
// and returns the outcome and the rates and phases it asked for.
func searchSynthetic(t *testing.T, o Options, verdict func(r float64) report.CapacityStep) (*report.Capacity, []string) {
	t.Helper()
	p := capacityProfile(0, time.Second)
	if err := o.defaults(p); err != nil {
		t.Fatal(err)
	}
	var asked []string
	c, err := searchWith(context.Background(), p, o, func(_ int, r float64, phase string) (report.CapacityStep, error) {
		asked = append(asked, report.TrimDecimals(r, 2)+" "+phase)
		st := verdict(r)
		st.Phase = phase
		return st, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, asked
}

// TestQuotaBoundsTheSearch: steps above the account's quota fail on 429s (the rate_limit
// criterion); the search narrows below them as below any failure, does not run the step above
// the quota again, and ends bound by the quota: the highest passing rate is the result, exit 0,
// never "limited by the target". A target whose own capacity is below the quota is still the
// bound; a search whose every step met the quota finds no rate (exit 1).
func TestQuotaBoundsTheSearch(t *testing.T) {
	t.Parallel()
	quota := func(q, capacity float64) func(r float64) report.CapacityStep {
		return func(r float64) report.CapacityStep {
			switch {
			case r > capacity:
				return failStep(r, report.CriterionStationary)
			case r > q:
				return failStep(r, report.CriterionSLO, report.CriterionRateLimit)
			}
			return passStep(r)
		}
	}
	t.Run("quota below capacity", func(t *testing.T) {
		c, asked := searchSynthetic(t, Options{From: 10}, quota(40, 1000))
		t.Log(asked)
		code, meaning := exitcode.Capacity(c)
		if c.Bound != report.BoundRateLimit || !c.Found || code != exitcode.OK {
			t.Fatalf("bound %q, found %v, exit %d (%s): want rate_limit, found, 0", c.Bound, c.Found, code, meaning)
		}
		if c.SustainableRate > 40 || c.SustainableRate < 40/1.05 || c.Interval[1] <= 40 {
			t.Errorf("quota found %g, interval %v: want within 5 %% below 40, the lowest fail above it", c.SustainableRate, c.Interval)
		}
		if last := asked[len(asked)-1]; strings.HasSuffix(last, " above") {
			t.Errorf("last step %q: the step above a quota that answered 429 was run again", last)
		}
		h := render.CapacityHeadline(c)
		if !strings.Contains(h, "LivePerson's quota for this account, not the service's capacity: the search reached "+report.TrimDecimals(c.SustainableRate, 2)+" journeys/s") ||
			strings.Contains(h, "limited by the target") || !strings.Contains(c.Message, "quota") {
			t.Errorf("headline %q, message %q: want the quota named, not the target", h, c.Message)
		}
	})
	t.Run("capacity below quota", func(t *testing.T) {
		c, _ := searchSynthetic(t, Options{From: 10}, quota(1000, 40))
		if c.Bound != report.BoundTarget || !c.Found {
			t.Errorf("bound %q, found %v: want target, found", c.Bound, c.Found)
		}
	})
	t.Run("every step met the quota", func(t *testing.T) {
		c, _ := searchSynthetic(t, Options{From: 80}, quota(1, 1000))
		code, _ := exitcode.Capacity(c)
		if c.Bound != report.BoundRateLimit || c.Found || code != exitcode.RunFailed || !strings.Contains(c.Message, "below the lowest rate tried") {
			t.Errorf("bound %q, found %v, exit %d, message %q: want rate_limit, not found, exit 1, the quota below the lowest rate", c.Bound, c.Found, code, c.Message)
		}
	})
}

// TestQuotaSignal: a failed step is the quota's when its 429 responses (retried or not) reach one
// journey in a thousand and outnumber the journeys that failed otherwise.
func TestQuotaSignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		limited       int64 // 429 responses
		failed, other int64 // journeys failed as rate_limited, and otherwise (window missed)
		want          bool
	}{
		{"429s hidden by retries", 40, 0, 0, true},
		{"429s failed the journeys", 300, 200, 5, true},
		{"no 429", 0, 0, 50, false},
		{"429s fewer than other failures", 20, 10, 30, false},
		{"a stray 429", 1, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := report.NewMetrics()
			m.Outcomes[sample.OutcomeOK] = 10_000
			m.RateLimited[sample.Create] = tc.limited
			m.Failures[sample.Create][sample.ClassRateLimited] = tc.failed
			m.Failures[sample.Send][sample.ClassWindowMissed] = tc.other
			if got := quotaSignal(&report.Result{Overall: m}); got != tc.want {
				t.Errorf("quotaSignal = %v, want %v", got, tc.want)
			}
		})
	}
}

// series returns a per-second series from start: n seconds of 50 journeys ending, whose gap and
// journey p99 are v(i) for second i.
func series(start time.Time, n int, v func(i int) time.Duration) report.Series {
	var s report.Series
	for i := range n {
		s = append(s, report.Point{Unix: start.Unix() + int64(i), Completions: 50, GapP50: v(i) / 2, GapP99: v(i), JourneyP99: v(i) + time.Second})
	}
	return s
}

// TestJudgeShortStep: on an 8-s step, too short for the stationary check, a gap p99 growing
// half a second per second fails the step on stationarity; a flat one with noise passes; a step
// whose seconds had too few journeys ending cannot be judged, and is not a pass.
func TestJudgeShortStep(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	noise := []time.Duration{0, 30, -20, 10, 60, -40, 5, 0, 25, -10}
	for _, tc := range []struct {
		name string
		v    func(i int) time.Duration
		n    int
		pass bool
		why  string
	}{
		{"queue grows", func(i int) time.Duration { return time.Duration(i) * 500 * time.Millisecond }, 9, false, "a queue that only grows"},
		{"steady", func(i int) time.Duration { return 300*time.Millisecond + noise[i]*time.Millisecond }, 9, true, ""},
		{"one slow second", func(i int) time.Duration {
			if i == 6 {
				return 2 * time.Second
			}
			return 300 * time.Millisecond
		}, 9, true, ""},
		{"too sparse", func(i int) time.Duration { return 300 * time.Millisecond }, 4, false, "not judged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := report.NewMetrics()
			m.Series = series(start, tc.n, tc.v)
			res := &report.Result{Start: start.Add(200 * time.Millisecond), Overall: m, PerTarget: []*report.Metrics{m}}
			st := report.CapacityStep{Rate: 100}
			judgeStep(&st, res, 8*time.Second)
			t.Log(st.Why)
			if st.Pass != tc.pass {
				t.Fatalf("pass %v, want %v: %v", st.Pass, tc.pass, st.Why)
			}
			if !tc.pass && (!slices.Equal(st.Failed, []string{report.CriterionStationary}) || !strings.Contains(strings.Join(st.Why, "\n"), tc.why)) {
				t.Errorf("failed %v, why %v: want stationary, saying %q", st.Failed, st.Why, tc.why)
			}
		})
	}
}

// TestStepTooShortRefused: a step shorter than the growth test can judge is refused before
// anything runs, naming the shortest accepted (exit 2 in the CLI); the default step is at least
// that long.
func TestStepTooShortRefused(t *testing.T) {
	t.Parallel()
	p := capacityProfile(0, time.Second)
	for _, step := range []time.Duration{5 * time.Second, 6 * time.Second} {
		_, err := Search(context.Background(), context.Background(), p, Options{From: 10, Step: step})
		var ie *engine.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "the shortest step accepted is 7s") {
			t.Errorf("-step %v: err = %v, want an input error naming 7s", step, err)
		}
	}
	o := Options{}
	if err := o.defaults(p); err != nil || o.Step != 7*time.Second {
		t.Errorf("default step %v (err %v) with a 1-s window: want 7s, the shortest judged", o.Step, err)
	}
	if err := (Options{Step: 7 * time.Second}).Validate(p); err != nil {
		t.Errorf("-step 7s: %v", err)
	}
}

// TestDefaultFrom: the first step is a quarter of the profile's peak, cheap and likely to pass,
// not the peak itself; at least 10/s (or the peak) so that its growth can be judged.
func TestDefaultFrom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ peak, want float64 }{{450, 112.5}, {50, 12.5}, {20, 10}, {4, 4}} {
		p := capacityProfile(0, time.Second)
		p.Load.Stages[0].Rate.From, p.Load.Stages[0].Rate.To = tc.peak, tc.peak
		if got := DefaultFrom(p); got != tc.want {
			t.Errorf("peak %g: from %g, want %g", tc.peak, got, tc.want)
		}
	}
}

// TestSaturatedNotGeneratorBound: a step that fails the generator's checks twice while the gap
// p99 grows through it says the target is saturated and suggests a lower -from, not sharding.
func TestSaturatedNotGeneratorBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		growth float64
		want   string
	}{
		{"latency grows", 0.35, "the target is saturated at this rate"},
		{"latency steady", 0.001, "Shard the load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := searchSynthetic(t, Options{From: 400}, func(r float64) report.CapacityStep {
				st := failStep(r, report.CriterionGenerator)
				st.GapP99, st.GapGrowth, st.CreateP99 = 6.4, tc.growth, 6.37
				return st
			})
			if c.Bound != report.BoundGenerator || !strings.Contains(c.Message, tc.want) {
				t.Fatalf("bound %q, message %q: want generator, saying %q", c.Bound, c.Message, tc.want)
			}
			if tc.growth > 0.1 && (strings.Contains(c.Message, "Shard") || !strings.Contains(c.Message, "-from 100")) {
				t.Errorf("message %q: want -from 100 suggested, no sharding", c.Message)
			}
		})
	}
}

// TestSaturatedStepCountsAgainstTarget: a step that fails the generator's checks while the
// target's queue grows (stationary, CONVERSATION p99 many times the lowest passing step's) is
// the target's failure, not a generator-bound end: the search narrows on; a step whose growth
// comes without such a queue still ends the search generator-bound.
func TestSaturatedStepCountsAgainstTarget(t *testing.T) {
	t.Parallel()
	verdict := func(createP99 float64) func(r float64) report.CapacityStep {
		return func(r float64) report.CapacityStep {
			if r <= 150 {
				st := passStep(r)
				st.CreateP99, st.GapP99 = 0.4, 0.5
				return st
			}
			st := failStep(r, report.CriterionGenerator, report.CriterionStationary)
			st.GapP99, st.GapGrowth, st.CreateP99 = 2.5, 0.18, createP99
			return st
		}
	}
	c, asked := searchSynthetic(t, Options{From: 50}, verdict(2.05))
	t.Log(asked)
	if c.Bound != report.BoundTarget || !c.Found || c.SustainableRate != 150 {
		t.Errorf("bound %q, found %v, rate %g: want target, found, 150 (%s)", c.Bound, c.Found, c.SustainableRate, c.Message)
	}
	c, _ = searchSynthetic(t, Options{From: 50}, verdict(0.45))
	if c.Bound != report.BoundGenerator || c.Found {
		t.Errorf("bound %q, found %v: want generator-bound, no rate (%s)", c.Bound, c.Found, c.Message)
	}
}

// TestTooShortRefused: a step that could not be judged while the generator kept its schedule
// refuses the step length (an input error: exit 2), naming a length with the seconds it lacked;
// one the generator failed, or one judged, does not.
func TestTooShortRefused(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	m := report.NewMetrics()
	m.Series = series(start, 4, func(int) time.Duration { return 300 * time.Millisecond })
	res := &report.Result{Start: start.Add(200 * time.Millisecond), Overall: m, PerTarget: []*report.Metrics{m}}
	st := report.CapacityStep{Rate: 100}
	g := judgeStep(&st, res, 8*time.Second)
	err := tooShort(st, g, 3, 8*time.Second)
	var ie *engine.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "step 3 (100/s) could not be judged") || !strings.Contains(err.Error(), "use --step 11s or longer") {
		t.Errorf("err = %v, want an input error naming -step 11s (2 seconds judged of 5)", err)
	}
	st.Failed = append(st.Failed, report.CriterionGenerator)
	if err := tooShort(st, g, 3, 8*time.Second); err != nil {
		t.Errorf("a step the generator failed: %v, want no refusal", err)
	}
	m.Series = series(start, 9, func(int) time.Duration { return 300 * time.Millisecond })
	st = report.CapacityStep{Rate: 100}
	if g := judgeStep(&st, res, 8*time.Second); tooShort(st, g, 3, 8*time.Second) != nil || !st.Pass {
		t.Errorf("a judged step: pass %v, %v", st.Pass, st.Why)
	}
}
