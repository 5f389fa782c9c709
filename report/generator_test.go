package report

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// TestUnsentCounted: a failed step counts as unsent only when its span says so and its class is
// timeout or network; the count adds in Merge and survives result.json.
func TestUnsentCounted(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	for _, tc := range []struct {
		class  sample.Class
		unsent bool
	}{
		{sample.ClassTimeout, true},  // lost in the client: counted
		{sample.ClassNetwork, true},  // a dial that failed: counted
		{sample.ClassTimeout, false}, // the server had it and said nothing: not counted
		{sample.ClassHTTP5xx, true},  // an answer came: never unsent, whatever the span says
	} {
		var j sample.Record
		j.Outcome, j.Failed, j.Class = sample.OutcomeFailed, sample.Create, tc.class
		j.Steps[sample.Create] = sample.Span{Ran: true, Begin: time.Millisecond, End: 2 * time.Millisecond, Class: tc.class, Unsent: tc.unsent, Attempts: 1}
		m.add(&j)
	}
	if got, want := m.Unsent[sample.Create], int64(2); got != want {
		t.Errorf("Unsent[create] = %d, want %d", got, want)
	}
	sum := NewMetrics()
	for range 2 {
		if err := sum.Merge(m); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := sum.Unsent[sample.Create], int64(4); got != want {
		t.Errorf("merged Unsent[create] = %d, want %d", got, want)
	}
	r := summaryResult()
	r.PerTarget, r.Overall = []*Metrics{m}, m
	r.Arrivals = Arrivals{Planned: 100, Started: 90, Dropped: 6, Late: 4, NotStarted: 4}
	m.Arrivals = r.Arrivals
	back := roundTrip(t, r)
	if got, want := back.Overall.Unsent, m.Unsent; got != want {
		t.Errorf("Unsent after result.json = %v, want %v", got, want)
	}
	if got, want := back.Arrivals.Late, int64(4); got != want {
		t.Errorf("arrivals.late after result.json = %d, want %d", got, want)
	}
}

// TestSummaryGeneratorLines: the arrivals line tells pool-full drops from a late generator's,
// and a line says how many timeouts/network failures never left the client — both only when
// there are any (the goldens hold the runs without).
func TestSummaryGeneratorLines(t *testing.T) {
	t.Parallel()
	r := summaryResult()
	r.Arrivals.Late = 5 // of the 6 dropped
	m := NewMetrics()
	m.StepFailures[sample.Create][sample.ClassTimeout] = 7
	m.StepFailures[sample.ConsumerJWS][sample.ClassNetwork] = 3
	m.Unsent[sample.Create], m.Unsent[sample.ConsumerJWS] = 4, 2
	r.PerTarget, r.Overall = []*Metrics{m}, m
	out := summary(t, r)
	for _, want := range []string{
		"arrivals  planned 100 = started 90 + dropped 6 + not started 4 (dropped: pool full 1, generator late 5)\n",
		"6 of the 10 timeouts/network failures happened before the request was sent (client side: connection set-up, pool wait)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	r = summaryResult()
	if out := summary(t, r); strings.Contains(out, "generator late") || strings.Contains(out, "before the request was sent") {
		t.Errorf("summary of a run without late drops or unsent failures mentions them:\n%s", out)
	}
}
