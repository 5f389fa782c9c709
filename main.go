// Command lpbench is a load and latency benchmark for LivePerson's consumer messaging flow with
// AUTO_MESSAGES: it drives synthetic consumers through domain lookup, AppJWT, ConsumerJWS,
// CONVERSATION, the first SEND and close at a controlled arrival rate, and judges every first SEND
// against the 10-second window.
//
// main is the CLI only: it parses flags, builds the profile, wires the packages, prints, and is the
// one place that exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// Exit codes.
const (
	exitOK          = 0
	exitRunFailed   = 1 // the run could not measure anything useful (e.g. every journey failed)
	exitUsage       = 2 // bad command line or profile
	exitInterrupted = 130
)

const usage = `lpbench: load and latency benchmark for LivePerson consumer messaging with AUTO_MESSAGES

usage:
  lpbench run [flags]     run the smoke profile against the embedded simulator
  lpbench version         print the version

Run 'lpbench run -h' for the run flags.
Exit codes: 0 success, 1 run failed, 2 bad usage, 130 interrupted.
`

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli runs the command line args and returns the exit code.
func cli(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "lpbench", version())
		return exitOK
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "lpbench: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// cmdRun parses the run flags over the smoke profile, runs it, prints the summary and decides the
// exit code.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	p := profiles.Smoke()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Float64Var(&p.Load.Rate, "rate", p.Load.Rate, "arrival rate, journeys per second")
	fs.DurationVar(&p.Load.Duration, "duration", p.Load.Duration, "length of the arrival schedule")
	fs.IntVar(&p.Load.MaxInFlight, "max-in-flight", p.Load.MaxInFlight, "most journeys at once; arrivals beyond it are dropped and counted")
	fs.DurationVar(&p.Window, "window", p.Window, "AUTO_MESSAGES window the first SEND is judged against")
	fs.DurationVar(&p.Journey.SendDelay, "send-delay", p.Journey.SendDelay, "think time between CONVERSATION and the first SEND")
	fs.BoolVar(&p.Journey.LookupPerConsumer, "lookup-per-consumer", p.Journey.LookupPerConsumer, "query CSDS in every journey instead of a 60 s cache")
	noAuto := fs.Bool("no-auto-messages", false, "omit the Client-Properties AUTO_MESSAGES header")
	noClose := fs.Bool("no-close", false, "leave conversations open at the end of each journey")
	fs.DurationVar(&p.Journey.RequestTimeout, "timeout", p.Journey.RequestTimeout, "timeout of each request")
	fs.DurationVar(&p.Sim.AppJWTLifetime, "sim-appjwt-lifetime", p.Sim.AppJWTLifetime, "lifetime of the simulator's AppJWTs")
	grace := fs.Duration("grace", 15*time.Second, "on interrupt, how long journeys in flight may finish before they are cancelled")
	noProgress := fs.Bool("no-progress", false, "show no progress while running")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lpbench run: unexpected argument %q (profiles by name or file are not supported yet)\n", fs.Arg(0))
		return exitUsage
	}
	p.Journey.AutoMessages = !*noAuto
	p.Journey.Close = !*noClose
	if err := p.Validate(); err != nil {
		fmt.Fprintf(stderr, "lpbench run: bad flags:\n%v\n", err)
		return exitUsage
	}

	mode := loadgen.ProgressAuto
	if *noProgress {
		mode = loadgen.ProgressOff
	}
	stop, work, release := interruptible(*grace, stderr)
	defer release()
	res, err := execute(stop, work, p, runOptions{Progress: mode, Stderr: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "lpbench run: %v\n", err)
		return exitRunFailed
	}
	if err := report.WriteSummary(stdout, res); err != nil {
		fmt.Fprintf(stderr, "lpbench run: writing the summary: %v\n", err)
		return exitRunFailed
	}
	switch {
	case stop.Err() != nil:
		return exitInterrupted
	case res.Overall.Started() > 0 && res.Overall.Outcomes[sample.OutcomeOK] == 0:
		fmt.Fprintln(stderr, "lpbench run: no journey succeeded")
		return exitRunFailed
	}
	return exitOK
}

// interruptible returns two contexts: stop ends at the first SIGINT or SIGTERM (no new arrivals);
// work ends grace later, or at a second signal (journeys in flight are cancelled). release stops
// listening for signals.
func interruptible(grace time.Duration, stderr io.Writer) (stop, work context.Context, release func()) {
	stop, stopArrivals := context.WithCancel(context.Background())
	work, cancelWork := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintf(stderr, "\nlpbench: stopping arrivals; journeys in flight have %s to finish (interrupt again to cancel them)\n", grace)
		stopArrivals()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-sigs:
		case <-t.C:
		case <-done:
			return
		}
		cancelWork()
	}()
	return stop, work, func() {
		signal.Stop(sigs)
		close(done)
		stopArrivals()
		cancelWork()
	}
}
