package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
	"github.com/lpbench/lpbench/sample"
)

// TestRateLimitedCounted: the 429 responses of a step (a span's RateLimited, retried or not) add
// up by step, in Merge and in result.json; a result.json without the count (written before it
// was kept) reads as none; and a capacity step sums them with its requests.
func TestRateLimitedCounted(t *testing.T) {
	t.Parallel()
	m := report.NewMetrics()
	var j sample.Record
	j.Outcome = sample.OutcomeOK
	j.Steps[sample.Create] = sample.Span{Ran: true, Begin: time.Millisecond, End: 3 * time.Second, Attempts: 3, Retries: 2, RateLimited: 2}
	m.AddForTest(&j)
	if err := m.Merge(m); err != nil { // adds m to itself: twice the counts
		t.Fatal(err)
	}
	if got, want := m.RateLimited[sample.Create], int64(4); got != want {
		t.Fatalf("RateLimited[create] = %d, want %d", got, want)
	}
	r := reporttest.SummaryResult()
	r.PerTarget, r.Overall = []*report.Metrics{m}, m
	back := roundTrip(t, r)
	if got, want := back.Overall.RateLimited, m.RateLimited; got != want {
		t.Errorf("RateLimited after result.json = %v, want %v", got, want)
	}
	st := report.NewCapacityStep(50, time.Second, "bracket", back)
	if st.RateLimited != 4 || st.Requests != 6 {
		t.Errorf("capacity step: %d 429s of %d requests, want 4 of 6", st.RateLimited, st.Requests)
	}
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	old := strings.Replace(b.String(), `"rate_limited": {`, `"rate_limited_unknown": {`, 1)
	if old == b.String() {
		t.Fatal(`result.json has no "rate_limited" key to remove`)
	}
	earlier, err := report.ReadJSON(strings.NewReader(old))
	if err != nil {
		t.Fatalf("a result.json without rate_limited: %v", err)
	}
	if got := earlier.Overall.RateLimited; got != [sample.NumSteps]int64{} {
		t.Errorf("RateLimited of a result.json without it = %v, want none", got)
	}
}
