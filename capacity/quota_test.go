package capacity

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/validity"
)

// TestCapacityFindsTheQuota: against a simulator whose account quota on CONVERSATION (40
// requests/s, bursts of 20, answered 429 beyond) is far below its service capacity (unlimited), the search
// ends bound by the quota (rate_limit, never target) at the quota, within 10 %, exit 0; the steps
// above it counted their 429 responses, retried or not.
//
// Timed for real: skipped with -short and under the race detector.
func TestCapacityFindsTheQuota(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a search of about a minute, timed for real")
	}
	const quota = 40
	p := capacityProfile(0, 500*time.Millisecond)
	p.Sim.RateLimits = map[lpsim.Endpoint]lpsim.RateLimit{lpsim.EndpointCreate: {Rate: quota, Burst: quota / 2}}
	// What is judged is the quota, not the generator: a loaded machine starts arrivals tens of
	// milliseconds late, which the default 10-ms lag limit would call generator-bound.
	p.Checks.LagP99 = 200 * time.Millisecond
	c, err := Search(context.Background(), context.Background(), p, Options{From: 30, Step: validity.ShortestStep, Events: logSteps(t)})
	if err != nil {
		t.Fatal(err)
	}
	code, meaning := exitcode.Capacity(c)
	t.Logf("%s; exit %d: %s\n%s", render.CapacityHeadline(c), code, meaning, c.Message)
	if c.Bound != report.BoundRateLimit || !c.Found || code != exitcode.OK {
		t.Fatalf("bound %q, found %v, exit %d: want %q, found, exit 0", c.Bound, c.Found, code, report.BoundRateLimit)
	}
	if rel := math.Abs(c.SustainableRate-quota) / quota; rel > 0.10 {
		t.Errorf("quota found %g/s is %.0f%% off the quota %d/s", c.SustainableRate, 100*rel, quota)
	}
	if h := render.CapacityHeadline(c); !strings.Contains(h, "LivePerson's quota for this account, not the service's capacity") {
		t.Errorf("headline %q does not name the quota", h)
	}
	limited := false
	for _, st := range c.Steps {
		if st.Rate > 1.2*quota && (st.Pass || st.RateLimited == 0 || !strings.Contains(strings.Join(st.Failed, ","), report.CriterionRateLimit)) {
			t.Errorf("step at %g/s: pass %v, %d 429s, failed %v: want failed on the quota, its 429s counted", st.Rate, st.Pass, st.RateLimited, st.Failed)
		}
		limited = limited || st.RateLimited > 0
	}
	if !limited {
		t.Error("no step counted a 429")
	}
}
