package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/history"
	"github.com/lpbench/lpbench/lifecycle"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/prom"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/ui/progress"
)

// The flags of every command are defined here, so that a flag means the same on every command
// that takes it.

// newFlags returns a command's flag set; synopsis is the usage line printed by -h.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lpbench %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses the arguments of a command: positional arguments first, then flags, then
// more positional arguments; it returns the positional ones. -h prints the usage (errHelp); a
// bad flag is a usage error of one line (flagError).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {} // the error is told in one line, not with the whole usage
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return nil, errHelp
	case err != nil:
		return nil, flagError(fs, "%s", flagProblem(fs, err))
	}
	return append(pos, fs.Args()...), nil
}

// flagError is a usage error of command fs's: one line, and where the flags are told.
// profileArg returns the one profile a command's positional arguments name (default smoke).
func profileArg(fs *flag.FlagSet, pos []string) (string, error) {
	switch len(pos) {
	case 0:
		return "smoke", nil
	case 1:
		return pos[0], nil
	}
	return "", flagError(fs, "unexpected argument %q (one profile at a time)", pos[1])
}

func flagError(fs *flag.FlagSet, format string, a ...any) error {
	return usageError("%s\nrun 'lpbench %s -h'", fmt.Sprintf(format, a...), fs.Name())
}

var badValue = regexp.MustCompile(`^invalid value "(.*)" for flag -(\S+): (.*)$`)

// flagProblem says what the flag package's err found, with the flags written --name; a duration
// without a unit says what to write.
func flagProblem(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + strings.TrimPrefix(name, "-")
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "--" + strings.TrimPrefix(name, "-") + " needs a value"
	}
	m := badValue.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	why := m[3]
	if g, ok := fs.Lookup(m[2]).Value.(flag.Getter); ok {
		if _, isDur := g.Get().(time.Duration); isDur {
			why = "want a duration, e.g. 10s or 2m"
			if _, err := strconv.ParseFloat(m[1], 64); err == nil {
				why = "a duration needs a unit, e.g. " + m[1] + "s"
			}
		}
	}
	return fmt.Sprintf("--%s %s: %s", m[2], m[1], why)
}

// commonFlags are the flags of the commands that run a profile (run and capacity).
type commonFlags struct {
	live, leaveOpen, noProgress, plan bool
	simURL, simCA, out, history       string
	window, grace                     time.Duration
	maxInFlight                       int
	relax                             report.CheckList
	labels                            history.Labels
	metrics                           metricsFlags
	// set holds the names of the flags given on the command line (flag.FlagSet.Visit): a value
	// given explicitly is judged even when it is the default's zero.
	set map[string]bool
}

// register defines the common flags on fs; out says what --out holds.
func (f *commonFlags) register(fs *flag.FlagSet, out string) {
	fs.BoolVar(&f.plan, "plan", false, "print the plan (per target: stages, peak rate, conversations, requests per second per service, routing, webhook, consumer ids, thresholds) and exit 0: nothing is sent")
	fs.DurationVar(&f.window, "window", 0, "override the AUTO_MESSAGES window")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 0, "override load.max_in_flight")
	fs.BoolVar(&f.live, "live", false, "allow targets on LivePerson itself (required for them)")
	fs.BoolVar(&f.leaveOpen, "leave-open", false, "on LivePerson itself, accept journey.close: false: every conversation the run opens stays open (lpbench cleanup DIR closes them later)")
	fs.BoolVar(&f.noProgress, "no-progress", false, "show no progress while running")
	fs.DurationVar(&f.grace, "grace", 15*time.Second, "on interrupt, how long journeys in flight may finish before they are cancelled")
	registerSim(fs, &f.simURL, &f.simCA, "drive the profile's simulator targets on this standalone simulator (lpbench sim) instead of an embedded one")
	fs.Var(&f.relax, "relax-check", "relax measurement check NAME (repeatable): it is computed and shown, but its failure does not make the run exit 4")
	fs.StringVar(&f.out, "out", "", out)
	fs.StringVar(&f.history, "history", "", "append the run to this history file, SQLite, created if need be (default: $LPBENCH_HISTORY, else outputs.history of the profile)")
	fs.Var(&f.labels, "label", "label the run key=value (repeatable): kept in result.json and the history, which compares only runs with the same labels")
	f.metrics.register(fs)
}

// registerSim defines --sim-url and --sim-ca: what --sim-url does is the command's.
func registerSim(fs *flag.FlagSet, url, ca *string, what string) {
	fs.StringVar(url, "sim-url", "", what)
	fs.StringVar(ca, "sim-ca", "", "CA file (PEM) of a --sim-url simulator over TLS (lpbench sim --tls prints it): certificates verified against it")
}

// visited records the flags given on the command line.
func (f *commonFlags) visited(fs *flag.FlagSet) {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
}

// check refuses the common flag values a run cannot use, naming the flag.
func (f *commonFlags) check() error {
	switch {
	case f.maxInFlight < 0 || (f.set["max-in-flight"] && f.maxInFlight == 0):
		return fmt.Errorf("--max-in-flight must be ≥ 1, got %d", f.maxInFlight)
	case f.window < 0 || (f.set["window"] && f.window == 0):
		return fmt.Errorf("--window must be > 0, got %v", f.window)
	case f.grace < 0:
		return fmt.Errorf("--grace must be ≥ 0, got %v", f.grace)
	case f.simCA != "" && f.simURL == "":
		return errors.New("--sim-ca goes with --sim-url")
	}
	return nil
}

// override is what the common flags change in the profile.
func (f *commonFlags) override() profiles.Override {
	return profiles.Override{MaxInFlight: f.maxInFlight, Window: f.window, Relax: f.relax}
}

// config is the lifecycle the common flags ask for, of job name on profile p, in dir unless
// --out says where.
func (f *commonFlags) config(name string, p profiles.Profile, dir string, stdout, stderr io.Writer) (*lifecycle.Config, error) {
	ep, err := f.metrics.endpoint(p.Outputs, f.set)
	if err != nil {
		return nil, usageErr(err)
	}
	return &lifecycle.Config{Name: name, Profile: p, Plan: f.plan, Live: f.live, LeaveOpen: f.leaveOpen,
		History: history.PathFor(f.history, f.set["history"], os.Getenv, p.Outputs.History),
		Dir:     cmp.Or(f.out, dir), Grace: f.grace, Metrics: ep, Getenv: os.Getenv, Stdout: stdout, Stderr: stderr}, nil
}

// progressMode is the display of the progress the flags ask for.
func (f *commonFlags) progressMode() progress.Mode {
	if f.noProgress {
		return progress.Off
	}
	return progress.Auto
}

// metricsFlags are the flags of the live metrics endpoint, on run and capacity.
type metricsFlags struct {
	listen string
	linger time.Duration
}

func (f *metricsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "metrics-listen", "", "serve live Prometheus metrics at http://ADDR/metrics while running, ADDR host:port (default: outputs.metrics_listen of the profile, else none)")
	fs.DurationVar(&f.linger, "metrics-linger", 0, "how long the metrics endpoint stays up after the run, for a final scrape; an interrupt ends it, 0 closes it at once (default: outputs.metrics_linger, else 30s)")
}

// endpoint returns the endpoint of the profile's outputs with the flags given (set) in place.
func (f *metricsFlags) endpoint(out profiles.Outputs, set map[string]bool) (prom.Endpoint, error) {
	var listen *string
	var linger *time.Duration
	if set["metrics-listen"] {
		listen = &f.listen
	}
	if set["metrics-linger"] {
		linger = &f.linger
	}
	return prom.EndpointOf(out, listen, linger)
}
