package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/sample"
)

// ExampleRun drives a short load from Go code: the shipped smoke profile cut down to 10
// journeys/s for 1 s, against a simulator without latency started here. The engine prints
// nothing: a program that wants to follow the run sets Options.Events (the CLI shows them with
// package ui/progress).
// Every journey ends ok and its first SEND is judged in the window.
func ExampleRun() {
	p, err := profiles.Builtin("smoke")
	if err != nil {
		fmt.Println(err)
		return
	}
	p.Load.Stages = []profiles.Stage{{Duration: time.Second, Rate: profiles.Rate{From: 10, To: 10}}}
	p.Journey.AwaitAutoMessage = 500 * time.Millisecond
	p.Webhooks.Grace = 200 * time.Millisecond

	cfg := lpsim.DefaultConfig()
	cfg.Latency = nil // answer at once
	cfg.Seed = 1
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	ctx := context.Background()
	res, err := engine.Run(ctx, ctx, p, engine.Options{Sim: sim})
	if err != nil {
		fmt.Println(err)
		return
	}
	o := res.Overall
	fmt.Println("planned", res.Arrivals.Planned, "started", res.Arrivals.Started, "dropped", res.Arrivals.Dropped)
	fmt.Println("ok", o.Outcomes[sample.OutcomeOK], "failed", o.Outcomes[sample.OutcomeFailed],
		"interrupted", o.Outcomes[sample.OutcomeInterrupted])
	fmt.Println("in window", o.Verdicts[sample.VerdictIn], "missed", o.Verdicts[sample.VerdictMissed],
		"uncertain", o.Verdicts[sample.VerdictUncertain])
	h := o.Headline()
	fmt.Println("served", h.Served, "of", h.Of, "auto messages verified", h.Verified)
	fmt.Println("end", res.End)
	// Output:
	// planned 10 started 10 dropped 0
	// ok 10 failed 0 interrupted 0
	// in window 10 missed 0 uncertain 0
	// served 10 of 10 auto messages verified true
	// end completed
}
