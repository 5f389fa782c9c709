package report_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/report/reporttest"
)

// TestChecksFailed: a failed check invalidates the run unless it is relaxed.
func TestChecksFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cs   []report.Check
		want bool
	}{
		// No checks (an old result file): nothing failed.
		{"none", nil, false},
		// Every check holds.
		{"all ok", []report.Check{{Name: "a", OK: true}, {Name: "b", OK: true}}, false},
		// One failure is enough.
		{"one failed", []report.Check{{Name: "a", OK: true}, {Name: "b"}}, true},
		// A relaxed failure is reported but does not invalidate.
		{"relaxed", []report.Check{{Name: "a", OK: true}, {Name: "b", Relaxed: true}}, false},
	} {
		if got := report.ChecksFailed(tc.cs); got != tc.want {
			t.Errorf("%s: ChecksFailed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestChecksRoundTrip: checks[] is written to result.json and read back as it was.
func TestChecksRoundTrip(t *testing.T) {
	t.Parallel()
	r := reporttest.SummaryResult()
	r.Checks = reporttest.SampleChecks()
	var b bytes.Buffer
	if err := report.WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"checks": [`) || !strings.Contains(b.String(), `"relaxed": true`) {
		t.Errorf("result.json lacks checks[] with a relaxed check")
	}
	back, err := report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Checks, r.Checks; !reflect.DeepEqual(got, want) {
		t.Errorf("checks read back:\n%+v\nwant\n%+v", got, want)
	}
}

// TestMergeKeepsShardChecks: a merged result keeps every shard's checks as they were, each
// naming its shard, so that a shard whose measurement was not valid invalidates the merge.
func TestMergeKeepsShardChecks(t *testing.T) {
	t.Parallel()
	a, b := reporttest.SummaryResult(), reporttest.SummaryResult()
	a.Shard, b.Shard = report.Shard{Index: 0, Count: 2}, report.Shard{Index: 1, Count: 2}
	a.Overall.Window, b.Overall.Window = a.Window, b.Window
	a.Checks = []report.Check{{Name: "generator_lag", OK: true}}
	b.Checks = []report.Check{{Name: "generator_lag", OK: false}, {Name: "stationary", Target: "va", OK: true}}
	m, err := report.Merge([]*report.Result{a, b})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range m.Checks {
		got = append(got, c.Label())
	}
	if want := []string{"generator_lag [shard 0/2]", "generator_lag [shard 1/2]", "stationary [shard 1/2 va]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("merged checks %v, want %v", got, want)
	}
	if !report.ChecksFailed(m.Checks) {
		t.Error("the merge hides shard 1's failed check")
	}
}
