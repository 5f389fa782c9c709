// Command lpbench is a load and latency benchmark for LivePerson's consumer messaging flow with
// AUTO_MESSAGES: it drives synthetic consumers through domain lookup, AppJWT, ConsumerJWS,
// CONVERSATION, the first SEND and close at a controlled arrival rate, and judges every first SEND
// against the 10-second window.
//
// main is the CLI only: each subcommand (cmd_*.go) parses its arguments (the flags are in
// flags.go), calls the package that owns its concept (run and capacity: lifecycle), renders what
// it has to say (render), and returns an error that carries its exit code (exitcode.Error);
// main prints that error once and is the one place that exits.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/profiles"
)

const usage = `lpbench: load and latency benchmark for LivePerson consumer messaging with AUTO_MESSAGES

usage:
  lpbench run [PROFILE|FILE] [flags]   run a profile (default: smoke, against the embedded simulator)
  lpbench capacity [PROFILE|FILE] [flags]
                                       search the highest sustainable rate (exit 0 found, 3 the SLO
                                       fails at the lowest rate, 4 generator-bound, 1 not converged)
  lpbench validate FILE...             check profiles; exit 0 when all are valid, 2 otherwise
  lpbench doctor [PROFILE|FILE] [--live] [--sim-url URL] [--sim-ca FILE]
                                       check each target before a run (CSDS, AppJWT, ConsumerJWS,
                                       clock, one conversation and its webhooks): PASS/FAIL lines
                                       with what to do; exit 0 all passed, 1 a check failed
  lpbench report RESULT.json [--format text|json|html|junit|markdown]
                                       render a report again from a result file
  lpbench report --from-hlog run.hlog  summarize an interval log (e.g. of a killed run)
  lpbench merge SHARD.json... --o MERGED.json [--allow-partial] [--history FILE]
                                       add up the shards of one run exactly (refuses others)
  lpbench compare BASE.json NEW.json   compare two runs, metric by metric, with confidence intervals
  lpbench compare RESULT.json --targets A,B
                                       compare two targets of one run
  lpbench history list|show|trend|check FILE [flags]
                                       read a history file (--history): its runs, one run, the
                                       trend of each metric, or a regression check (exit 3)
  lpbench cleanup DIR [--live] [--sim-url URL]
                                       close what a killed run left open (its journal.jsonl):
                                       exit 0 nothing left open, 1 some may be
  lpbench profiles                     list the shipped profiles
  lpbench sim [--listen ADDR] [--config FILE]
                                       serve the LivePerson simulator until interrupted
  lpbench relay [--listen ADDR]        serve the webhook relay of distributed runs until interrupted
  lpbench version                      print the version (also lpbench --version)

Run 'lpbench COMMAND --h' for a command's flags.
Exit codes: 0 success, 1 run failed, 2 bad usage or profile, 3 thresholds breached (or a
history check found a regression),
4 the measurement is not valid (a measurement check failed; it wins over 3), 130 interrupted.
`

// command is one subcommand: it returns nil for exit 0, or an error carrying its exit code.
type command func(args []string, stdout, stderr io.Writer) error

var commands = map[string]command{
	"run":      cmdRun,
	"capacity": cmdCapacity,
	"validate": cmdValidate,
	"doctor":   cmdDoctor,
	"report":   cmdReport,
	"merge":    cmdMerge,
	"compare":  cmdCompare,
	"history":  cmdHistory,
	"sim":      cmdSim,
	"relay":    cmdRelay,
	"cleanup":  cmdCleanup,
	"profiles": cmdProfiles,
	"version":  cmdVersion,
}

func main() {
	os.Exit(int(cli(os.Args[1:], os.Stdout, os.Stderr)))
}

// cli runs the command line args, prints the error of the command if any, and returns the exit
// code.
func cli(args []string, stdout, stderr io.Writer) exitcode.Code {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitcode.Usage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitcode.OK
	case "-version", "--version":
		args[0] = "version"
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lpbench: unknown command %q\nrun 'lpbench -h'\n", args[0])
		return exitcode.Usage
	}
	err := cmd(args[1:], stdout, stderr)
	if errors.Is(err, errHelp) {
		return exitcode.OK
	}
	code, err := exitcode.Of(err)
	if err != nil {
		fmt.Fprintf(stderr, "lpbench %s: %v\n", args[0], err)
	}
	return code
}

// usageError, usageErr and exitCode end a command with exit 2 (told by a format, or err), or
// quietly with a code.
var (
	usageError = exitcode.Usagef
	usageErr   = exitcode.AsUsage
	exitCode   = exitcode.Quiet
)

// errHelp is returned when -h asked for the usage, which was printed: exit 0.
var errHelp = flag.ErrHelp

// cmdProfiles lists the shipped profiles.
func cmdProfiles(args []string, stdout, stderr io.Writer) error {
	if _, err := parseArgs(newFlags("profiles", "profiles", stderr), args); err != nil {
		return err
	}
	for _, in := range profiles.List() {
		fmt.Fprintf(stdout, "%-14s %s\n", in.Name, in.Description)
	}
	return nil
}

// cmdVersion prints lpbench's version.
func cmdVersion(args []string, stdout, stderr io.Writer) error {
	if _, err := parseArgs(newFlags("version", "version", stderr), args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "lpbench", engine.Version())
	return nil
}
