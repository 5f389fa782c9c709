package report_test

import (
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
	"github.com/lpbench/lpbench/sample"
)

// TestUnsentCounted: a failed step counts as unsent only when its span says so and its class is
// timeout or network; the count adds in Merge and survives result.json.
func TestUnsentCounted(t *testing.T) {
	t.Parallel()
	m := report.NewMetrics()
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
		m.AddForTest(&j)
	}
	if got, want := m.Unsent[sample.Create], int64(2); got != want {
		t.Errorf("Unsent[create] = %d, want %d", got, want)
	}
	sum := report.NewMetrics()
	for range 2 {
		if err := sum.Merge(m); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := sum.Unsent[sample.Create], int64(4); got != want {
		t.Errorf("merged Unsent[create] = %d, want %d", got, want)
	}
	r := reporttest.SummaryResult()
	r.PerTarget, r.Overall = []*report.Metrics{m}, m
	r.Arrivals = report.Arrivals{Planned: 100, Started: 90, Dropped: 6, Late: 4, NotStarted: 4}
	m.Arrivals = r.Arrivals
	back := roundTrip(t, r)
	if got, want := back.Overall.Unsent, m.Unsent; got != want {
		t.Errorf("Unsent after result.json = %v, want %v", got, want)
	}
	if got, want := back.Arrivals.Late, int64(4); got != want {
		t.Errorf("arrivals.late after result.json = %d, want %d", got, want)
	}
}
