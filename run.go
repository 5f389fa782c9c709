package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// runOptions are the parts of a run that are not in the profile.
type runOptions struct {
	Progress  loadgen.ProgressMode
	Stderr    io.Writer
	LineEvery time.Duration // period of plain progress lines (default 5 s)
	// Sim, when not nil, is the simulator to drive instead of a new embedded one (tests use it
	// to shape latency and read the ledger). Its first account is the target.
	Sim *lpsim.Server
	// Observe sees every journey record on the recorder's goroutine.
	Observe func(*sample.Journey)
}

// execute runs profile p: it starts the embedded simulator (unless given one), dispatches the
// plan, records every journey and returns the result. stop ends the arrivals; work cancels the
// journeys in flight. Per-journey failures are data in the result, not errors; an error means the
// run could not start.
func execute(stop, work context.Context, p profiles.Profile, o runOptions) (*report.Result, error) {
	sim := o.Sim
	if sim == nil {
		cfg := lpsim.DefaultConfig()
		cfg.Accounts[0].ID = p.Sim.Account
		cfg.Accounts[0].AutoMessages = p.Sim.AutoMessages
		cfg.AppJWTLifetime = p.Sim.AppJWTLifetime
		var err error
		if sim, err = lpsim.NewServer(cfg); err != nil {
			return nil, fmt.Errorf("starting the embedded simulator: %w", err)
		}
		defer sim.Close()
	}
	acct := sim.Config().Accounts[0]
	client, err := lp.NewClient(lp.Target{
		Name: "sim-" + acct.Region, Account: acct.ID, CSDS: sim.URL, Scheme: "http",
		ClientID: acct.ClientID, ClientSecret: acct.ClientSecret,
	})
	if err != nil {
		return nil, err
	}

	epoch := time.Now()
	journey := &lp.Journey{
		Client: client,
		Epoch:  epoch,
		Opts: lp.JourneyOptions{
			Window:            p.Window,
			LookupPerConsumer: p.Journey.LookupPerConsumer,
			AutoMessages:      p.Journey.AutoMessages,
			SendDelay:         p.Journey.SendDelay,
			Message:           p.Journey.Message,
			Close:             p.Journey.Close,
			RequestTimeout:    p.Journey.RequestTimeout,
			ConsumerPrefix:    "lpbench-" + runID() + "-",
		},
	}
	rec := report.NewRecorder(report.RecorderOptions{Targets: 1, Observe: o.Observe})
	runner := &loadgen.Runner{
		Plan:        loadgen.Constant(p.Load.Rate, p.Load.Duration),
		MaxInFlight: p.Load.MaxInFlight,
		Epoch:       epoch,
		Task: func(ctx context.Context, a loadgen.Arrival) {
			j := sample.Journey{Index: a.Index, Intended: a.Intended}
			journey.Run(ctx, &j)
			rec.Record(&j)
		},
	}
	stderr := o.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	var prog *loadgen.Progress
	if o.Progress != loadgen.ProgressOff {
		out, _ := stderr.(*os.File)
		if out == nil {
			out = os.Stderr
		}
		prog = loadgen.StartProgress(out, o.Progress, runner, func() string {
			l := rec.Live()
			return fmt.Sprintf("ok %d  failed %d  window missed %d", l.OK, l.Failed, l.Missed)
		}, o.LineEvery)
	}

	counts := runner.Run(stop, work)
	if prog != nil {
		prog.Stop(stop.Err() == nil)
	}
	perTarget, overall := rec.Close()
	end := report.EndCompleted
	if stop.Err() != nil {
		end = report.EndInterrupted
	}
	return &report.Result{
		Profile:     p.Name,
		Start:       epoch,
		Elapsed:     time.Since(epoch),
		End:         end,
		Window:      p.Window,
		Rate:        p.Load.Rate,
		Duration:    p.Load.Duration,
		MaxInFlight: p.Load.MaxInFlight,
		Arrivals: report.Arrivals{Planned: counts.Planned, Started: counts.Started,
			Dropped: counts.Dropped, NotStarted: counts.NotStarted},
		Targets: []report.TargetInfo{{Name: client.Target().Name, Account: acct.ID, Kind: "sim",
			AppJWTFetches: client.AppJWTFetches(), DomainLookups: client.DomainLookups()}},
		PerTarget: perTarget,
		Overall:   overall,
	}, nil
}

// runID returns a short random id that makes consumer ids unique across runs.
func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
