package profiles

import (
	"math"
	"testing"
)

// TestRunPlan: a shared load is split by weight, a target's own load is its own; requests per
// service follow the journey (a look-up per journey or cached, a close or none); the thresholds
// of a target are the shared ones and its own.
func TestRunPlan(t *testing.T) {
	t.Parallel()
	p, err := Parse("p.yaml", []byte(`load:
  stages:
    - {duration: 10s, rate: 0 -> 30}
journey: {lookup: per_consumer, close: false}
targets:
  - {name: a, weight: 2, max_request_rate: 50}
  - {name: b}
  - name: c
    load: {stages: [{duration: 4s, rate: 5}]}
thresholds:
  - "errors < 1%"
  - {expr: "step.create.p99 < 2s", target: b}
`))
	if err != nil {
		t.Fatal(err)
	}
	rp := p.Plan()
	if len(rp.Targets) != 3 || rp.Close {
		t.Fatalf("%d targets, close %v", len(rp.Targets), rp.Close)
	}
	a, b, c := rp.Targets[0], rp.Targets[1], rp.Targets[2]
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"a peak", a.PeakRate, 20}, {"b peak", b.PeakRate, 10}, {"c peak", c.PeakRate, 5},
		{"a conversations", a.Conversations, 100}, {"b conversations", b.Conversations, 50}, {"c conversations", c.Conversations, 20},
		// csds + idp one each, CONVERSATION and SEND (no close): 4 per journey.
		{"a requests/s", a.RequestRate, 80}, {"a cap", a.MaxRequestRate, 50},
		{"run conversations", rp.Conversations, 170},
	} {
		if math.Abs(tc.got-tc.want) > 1e-9 {
			t.Errorf("%s = %g, want %g", tc.name, tc.got, tc.want)
		}
	}
	if len(a.Thresholds) != 1 || len(b.Thresholds) != 2 {
		t.Errorf("thresholds a %v, b %v", a.Thresholds, b.Thresholds)
	}
	if c.Duration.Seconds() != 4 || len(c.Stages) != 1 {
		t.Errorf("c: %v, %v", c.Duration, c.Stages)
	}
}
