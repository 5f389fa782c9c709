package history_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/report"
)

// ExampleJudge appends eight nights of one profile to a new history file, the last with
// CONVERSATION's p95 20 % up, and judges the newest against the seven before it.
func ExampleJudge() {
	dir, err := os.MkdirTemp("", "history")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	db, err := history.Open(filepath.Join(dir, "history.db"), true)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	ctx := context.Background()
	night := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	for i, p95 := range []float64{200, 204, 198, 201, 199, 202, 200, 240} {
		r := &history.Run{Kind: history.KindRun, RunID: fmt.Sprint("night-", i), Profile: "nightly", Shard: report.Shard{Count: 1},
			Start: night.AddDate(0, 0, i), End: night.AddDate(0, 0, i).Add(5 * time.Minute), EndReason: string(report.EndCompleted),
			ChecksOK: true, Labels: map[string]string{"env": "ci"},
			Metrics: []history.Metric{{Target: "va", Name: "step.create.p95", Kind: report.KindDuration, Value: p95 * 1e6, Samples: 15000}}}
		if err := db.Append(ctx, r, []byte("{}")); err != nil { // the bytes of its result.json
			fmt.Println(err)
			return
		}
	}
	runs, err := db.Runs(ctx, history.Filter{Profile: "nightly"})
	if err != nil {
		fmt.Println(err)
		return
	}
	v := history.Judge(runs, len(runs)-1, history.CheckOptions{})
	for _, j := range v.Regressions() {
		fmt.Println(j)
	}
	// Output:
	// regression: step.create.p95 of target va: 240ms, baseline band 190ms – 212ms (mean 201ms of 7 runs), 28.4ms above the band, +19.7% on the mean; detects +5.5% or worse
}
