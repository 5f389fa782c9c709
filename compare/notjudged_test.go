package compare

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/compare/comparetest"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/sample"
)

// TestCompareNotJudged: a step served from a cache in one run and by requests in the other, and
// a generator whose lag grew fortyfold, are shown and never flagged; Regressed refuses lag.
func TestCompareNotJudged(t *testing.T) {
	t.Parallel()
	base, newer := comparetest.Metrics(21, 2000, 1), comparetest.Metrics(22, 2000, 1)
	base.Steps[sample.AppJWT].Reset()
	for range 2000 {
		hdr.Record(base.Steps[sample.AppJWT], 511)
	}
	base.Requests[sample.AppJWT] = 1
	newer.Lag.Reset()
	for range 2000 {
		hdr.Record(newer.Lag, 8*time.Millisecond)
	}
	cs := Runs(base, newer, Options{Seed: 5})
	for _, c := range cs {
		cached, lag := strings.HasPrefix(c.Metric, "step.appjwt."), strings.HasPrefix(c.Metric, "lag.")
		switch {
		case cached && (c.NotJudged != NotJudgedCached || c.Direction != DirectionNotJudged):
			t.Errorf("%s: %s (%q), want not judged, cached", c.Metric, c.Direction, c.NotJudged)
		case lag && (c.NotJudged != NotJudgedGenerator || c.Direction != DirectionNotJudged):
			t.Errorf("%s: %s (%q), want not judged, generator", c.Metric, c.Direction, c.NotJudged)
		case (cached || lag) && (c.Low != 0 || c.High != 0 || c.New == c.Base):
			t.Errorf("%s: interval [%g, %g], values %g → %g: want no interval and both values", c.Metric, c.Low, c.High, c.Base, c.New)
		case !cached && !lag && !c.Judged():
			t.Errorf("%s: not judged (%q), want judged", c.Metric, c.NotJudged)
		}
	}
	if worse, err := Regressed(cs, "step.appjwt.p99", 1); worse || err != nil {
		t.Errorf("Regressed(step.appjwt.p99) = %v, %v; want false, nil (a cached step never regresses)", worse, err)
	}
	if _, err := Regressed(cs, "lag.p99", 10); err == nil || !strings.Contains(err.Error(), "generator") {
		t.Errorf("Regressed(lag.p99) error %v, want one naming the generator", err)
	}
}

// TestCompareServed: served is the consumers whose auto message came of those that waited; a
// fall from 99.9 % to 97 % is worse (judged on the unserved share), and Regressed reads its
// threshold in percentage points.
func TestCompareServed(t *testing.T) {
	t.Parallel()
	base, newer := comparetest.Metrics(31, 3000, 1), comparetest.Metrics(32, 3000, 1)
	base.AutoMsgAwaited[sample.VerdictIn], base.AutoMsgReceived[sample.VerdictIn] = 3000, 2997
	newer.AutoMsgAwaited[sample.VerdictIn], newer.AutoMsgReceived[sample.VerdictIn] = 3000, 2910
	cs := Runs(base, newer, Options{Seed: 7, Percentiles: []float64{50, 95}})
	c := changeOf(t, cs, "served")
	if c.Direction != DirectionWorse || !c.HigherBetter || c.BaseN != 3000 {
		t.Fatalf("served: %s (%g → %g of %d), want worse", c.Direction, c.Base, c.New, c.BaseN)
	}
	for _, tt := range []struct {
		pp   float64
		want bool
	}{{1, true}, {2.9, true}, {3, false}} {
		if got, err := Regressed(cs, "served", tt.pp); err != nil || got != tt.want {
			t.Errorf("Regressed(served, %g pp) = %v, %v; want %v (a fall of 2.9 points)", tt.pp, got, err, tt.want)
		}
	}
	changeOf(t, cs, "step.create.p95")
	if _, err := Regressed(cs, "step.create.p95", 10); err != nil {
		t.Errorf("step.create.p95: %v", err)
	}
	// The same the other way round: served rose, which is better.
	if c := changeOf(t, Runs(newer, base, Options{Seed: 7}), "served"); c.Direction != DirectionBetter {
		t.Errorf("served rising: %s, want better", c.Direction)
	}
}

// TestAgainst: each target against the first, every pair's intervals at the level that holds
// the set together.
func TestAgainst(t *testing.T) {
	t.Parallel()
	a, b, c := comparetest.Metrics(41, 2000, 1), comparetest.Metrics(42, 2000, 1), comparetest.Metrics(43, 2000, 1.3)
	ps := Against(Named{"va", a}, []Named{{"lo", b}, {"sy", c}}, Options{Seed: 1})
	if len(ps) != 2 || ps[0].Base != "va" || ps[0].New != "lo" || ps[1].New != "sy" {
		t.Fatalf("pairs %+v, want va→lo, va→sy", ps)
	}
	if got := ps[1].Changes[0].Confidence; got != 0.975 || ps[1].Confidence != 0.95 {
		t.Errorf("per-pair confidence %g (set %g), want 0.975 (0.95)", got, ps[1].Confidence)
	}
	if got := changeOf(t, ps[1].Changes, "step.create.p50").Direction; got != DirectionWorse {
		t.Errorf("sy create p50: %s, want worse", got)
	}
}
