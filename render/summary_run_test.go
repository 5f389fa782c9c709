package render

import (
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/report"
)

// TestSummaryRunLines: the summary states the barrier and the wait, a late join, the clock
// offset (warning when it is proven past 100 ms) and the shards a partial merge lacks; a run
// without any of them has none of these lines.
func TestSummaryRunLines(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		set    func(*report.Result)
		want   []string
		absent []string
	}{
		// Nothing distributed: no line.
		{"plain run", func(*report.Result) {}, nil, []string{"start barrier", "clock offset", "PARTIAL"}},
		// On time, clock within a second around 0: no warning.
		{"barrier", func(r *report.Result) {
			r.RunID, r.StartAt, r.Waited = "r1", at, 1500*time.Millisecond
			r.Clock = &report.ClockOffset{Min: -400 * time.Millisecond, Max: 600 * time.Millisecond, Target: "sim"}
		}, []string{"run r1: start barrier 2026-12-01T10:00:00Z, waited 1.5s\n", "clock offset from sim: between -400ms and 600ms"}, []string{"joined", "MORE THAN"}},
		// Joined late, and a clock proven 2 s off.
		{"late, clock off", func(r *report.Result) {
			r.RunID, r.StartAt, r.JoinedLate = "r1", at, 2*time.Second
			r.Clock = &report.ClockOffset{Min: 2 * time.Second, Max: 3 * time.Second, Target: "va"}
		}, []string{"joined 2s late: the arrivals intended before are not started", "MORE THAN 100 ms: synchronise the clocks (NTP)"}, nil},
		// A partial merge.
		{"partial", func(r *report.Result) { r.MissingShards = []int{1, 3} }, []string{"PARTIAL: shard(s) 1, 3 missing"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &report.Result{Profile: "smoke", Start: at, End: report.EndCompleted, Window: 10 * time.Second, Overall: report.NewMetrics(),
				Targets: []report.TargetInfo{{Name: "sim"}}, PerTarget: []*report.Metrics{report.NewMetrics()}}
			tc.set(r)
			var b strings.Builder
			if err := writeSummary(&b, r); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, b.String())
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(b.String(), a) {
					t.Errorf("summary has %q:\n%s", a, b.String())
				}
			}
			back := roundTrip(t, r)
			if back.RunID != r.RunID || !back.StartAt.Equal(r.StartAt) || back.JoinedLate != r.JoinedLate || len(back.MissingShards) != len(r.MissingShards) ||
				(r.Clock != nil) != (back.Clock != nil) {
				t.Errorf("the result file does not keep the run fields: %+v", back)
			}
		})
	}
}
