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
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lpbench/lpbench/loadgen"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// Exit codes.
const (
	exitOK          = 0
	exitRunFailed   = 1 // the run could not measure anything useful (e.g. every journey failed)
	exitUsage       = 2 // bad command line or profile
	exitThresholds  = 3 // a threshold was breached
	exitInterrupted = 130
)

const usage = `lpbench: load and latency benchmark for LivePerson consumer messaging with AUTO_MESSAGES

usage:
  lpbench run [PROFILE|FILE] [flags]   run a profile (default: smoke, against the embedded simulator)
  lpbench validate FILE...             check profiles; exit 0 when all are valid, 2 otherwise
  lpbench report RESULT.json [-format text|json|html|junit]
                                       render a report again from a result file
  lpbench report -from-hlog run.hlog   summarize an interval log (e.g. of a killed run)
  lpbench merge SHARD.json... -o MERGED.json
                                       add up the results of a sharded run exactly
  lpbench compare BASE.json NEW.json   compare two runs, metric by metric, with confidence intervals
  lpbench compare RESULT.json -targets A,B
                                       compare two targets of one run
  lpbench profiles                     list the shipped profiles
  lpbench sim [-listen ADDR] [-config FILE]
                                       serve the LivePerson simulator until interrupted
  lpbench version                      print the version

Run 'lpbench run -h' for the run flags.
Exit codes: 0 success, 1 run failed, 2 bad usage or profile, 3 thresholds breached, 130 interrupted.
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
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "merge":
		return cmdMerge(args[1:], stdout, stderr)
	case "compare":
		return cmdCompare(args[1:], stdout, stderr)
	case "sim":
		return cmdSim(args[1:], stdout, stderr)
	case "profiles":
		for _, in := range profiles.List() {
			fmt.Fprintf(stdout, "%-14s %s\n", in.Name, in.Description)
		}
		return exitOK
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

// cmdSim serves a standalone simulator until SIGINT or SIGTERM.
func cmdSim(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", lpsim.DefaultAddr, "address to listen on (loopback unless the config sets allow_remote)")
	config := fs.String("config", "", "simulator configuration (YAML): accounts, latency, capacity, rate limits, faults")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lpbench sim: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg := profiles.SimDefaults()
	if *config != "" {
		data, err := os.ReadFile(*config)
		if err != nil {
			fmt.Fprintf(stderr, "lpbench sim: %v\n", err)
			return exitUsage
		}
		if cfg, err = profiles.ParseSimConfig(*config, data); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := lpsim.Serve(ctx, *listen, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "lpbench sim: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// cmdValidate checks every profile named and prints every problem found.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "lpbench validate: name at least one profile file")
		return exitUsage
	}
	code := exitOK
	for _, f := range args {
		if _, err := profiles.Open(f); err != nil {
			fmt.Fprintln(stderr, err)
			code = exitUsage
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	return code
}

// runFlags are the command-line overrides of a profile.
type runFlags struct {
	rate        float64
	duration    time.Duration
	maxInFlight int
	window      time.Duration
	live        bool
	noProgress  bool
	grace       time.Duration
	shard       string
	out         string
	simURL      string
}

// cmdRun loads the profile, applies the flags, runs it, prints the summary and thresholds, and
// decides the exit code.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: lpbench run [PROFILE|FILE] [flags]\n\nPROFILE is a shipped profile (lpbench profiles) or a YAML file; default smoke.\n\n")
		fs.PrintDefaults()
	}
	fs.Float64Var(&f.rate, "rate", 0, "replace the profile's load by this constant rate (journeys/s); with -duration, or over the profile's duration")
	fs.DurationVar(&f.duration, "duration", 0, "replace the profile's load by one stage this long; with -rate, or at the profile's peak rate")
	fs.IntVar(&f.maxInFlight, "max-in-flight", 0, "override load.max_in_flight")
	fs.DurationVar(&f.window, "window", 0, "override the AUTO_MESSAGES window")
	fs.BoolVar(&f.live, "live", false, "allow targets on LivePerson itself (required for them)")
	fs.BoolVar(&f.noProgress, "no-progress", false, "show no progress while running")
	fs.DurationVar(&f.grace, "grace", 15*time.Second, "on interrupt, how long journeys in flight may finish before they are cancelled")
	fs.StringVar(&f.shard, "shard", "", "run shard K of N of the arrivals, written K/N (0 ≤ K < N)")
	fs.StringVar(&f.simURL, "sim-url", "", "drive the profile's simulator targets on this standalone simulator (lpbench sim) instead of an embedded one")
	fs.StringVar(&f.out, "out", "", "directory for result.json, summary.txt, report.html, run.hlog, junit.xml (default: outputs.dir of the profile, else results/<time>-<profile>)")
	// Flags may come before or after the profile name.
	name := "smoke"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lpbench run: unexpected argument %q (flags go after the profile name)\n", fs.Arg(0))
		return exitUsage
	}
	p, err := profiles.Open(name)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	opts := runOptions{Stderr: stderr, Getenv: os.Getenv}
	if err := f.apply(&p, &opts); err != nil {
		fmt.Fprintf(stderr, "lpbench run: %v\n", err)
		return exitUsage
	}
	if p.HasLive() {
		if !f.live {
			fmt.Fprintf(stderr, "lpbench run: profile %s drives LivePerson itself (targets: %s); add --live to confirm. Nothing was sent.\n", p.Name, liveNames(p))
			return exitUsage
		}
		if err := p.CheckLive(os.Getenv); err != nil {
			fmt.Fprintf(stderr, "lpbench run: %v\n", err)
			return exitUsage
		}
		printPlan(stderr, p)
	}
	if f.noProgress {
		opts.Progress = loadgen.ProgressOff
	}

	dir, hlog, err := openOutputs(f.out, p)
	if err != nil {
		fmt.Fprintf(stderr, "lpbench run: %v\n", err)
		return exitUsage
	}
	defer hlog.Close()
	opts.Hlog = hlog

	stop, work, abort, cancelWork, release := interruptible(f.grace, stderr)
	defer release()
	opts.Fail = func(err error) {
		fmt.Fprintf(stderr, "\nlpbench: %v\nlpbench: stopping the run\n", err)
		abort()
		cancelWork()
	}
	aborted := false
	opts.Abort = func() {
		aborted = true
		fmt.Fprintln(stderr, "\nlpbench: a threshold with abort_on_fail failed: stopping the arrivals")
		abort()
	}
	res, err := execute(stop, work, p, opts)
	if err != nil {
		fmt.Fprintf(stderr, "lpbench run: %v\n", err)
		return exitRunFailed
	}
	if aborted {
		res.End = report.EndAborted
	}
	res.Version, res.GoVersion = version(), runtime.Version()
	res.Shard = report.Shard{Index: opts.Shard, Count: max(opts.Shards, 1)}
	if res.Effective, err = p.Effective(); err != nil {
		fmt.Fprintf(stderr, "lpbench run: %v\n", err)
	}
	if err := report.WriteSummary(stdout, res); err != nil {
		fmt.Fprintf(stderr, "lpbench run: writing the summary: %v\n", err)
		return exitRunFailed
	}
	if err := writeOutputs(dir, res); err != nil {
		fmt.Fprintf(stderr, "lpbench run: %v\n", err)
		return exitRunFailed
	}
	fmt.Fprintf(stderr, "lpbench: results in %s\n", dir)
	switch {
	case res.End == report.EndFailed:
		return exitRunFailed
	case res.End == report.EndInterrupted:
		return exitInterrupted
	case res.Overall.Started() > 0 && res.Overall.Outcomes[sample.OutcomeOK] == 0:
		fmt.Fprintln(stderr, "lpbench run: no journey succeeded")
		return exitRunFailed
	case report.Breached(res.Thresholds):
		return exitThresholds
	}
	return exitOK
}

// openOutputs creates the output directory and the interval log, which is written as the run
// goes.
func openOutputs(dir string, p profiles.Profile) (string, *os.File, error) {
	if dir == "" {
		dir = p.Outputs.Dir
	}
	if dir == "" {
		dir = filepath.Join("results", time.Now().Format("20060102-150405")+"-"+p.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("output directory: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "run.hlog"))
	if err != nil {
		return "", nil, fmt.Errorf("output directory: %w", err)
	}
	return dir, f, nil
}

// writeOutputs writes every report of res into dir, each file atomically.
func writeOutputs(dir string, res *report.Result) error {
	for _, out := range []struct {
		name  string
		write func(io.Writer, *report.Result) error
	}{
		{"result.json", report.WriteJSON},
		{"summary.txt", report.WriteSummary},
		{"junit.xml", report.WriteJUnit},
		{"report.html", report.WriteHTML},
	} {
		if err := report.WriteFileAtomic(filepath.Join(dir, out.name), func(w io.Writer) error { return out.write(w, res) }); err != nil {
			return err
		}
	}
	return nil
}

// cmdReport renders a report again from a result file, or summarizes an interval log.
func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "text, json, html or junit")
	fromHlog := fs.String("from-hlog", "", "summarize this interval log instead of a result file")
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *fromHlog != "" {
		return reportFromHlog(*fromHlog, stdout, stderr)
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" {
		fmt.Fprintln(stderr, "usage: lpbench report RESULT.json [-format text|json|html|junit] | lpbench report -from-hlog run.hlog")
		return exitUsage
	}
	res, err := report.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "lpbench report: %v\n", err)
		return exitUsage
	}
	writers := map[string]func(io.Writer, *report.Result) error{
		"text": report.WriteSummary, "json": report.WriteJSON, "junit": report.WriteJUnit, "html": report.WriteHTML,
	}
	w, ok := writers[*format]
	if !ok {
		fmt.Fprintf(stderr, "lpbench report: -format must be text, json, html or junit, got %q\n", *format)
		return exitUsage
	}
	if err := w(stdout, res); err != nil {
		fmt.Fprintf(stderr, "lpbench report: %v\n", err)
		return exitRunFailed
	}
	return exitOK
}

// reportFromHlog prints, per tag of an interval log, the count and percentiles of everything it
// holds: what a killed run had recorded up to its last whole second.
func reportFromHlog(path string, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "lpbench report: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	tags, err := report.ReadHlog(f)
	if err != nil {
		fmt.Fprintf(stderr, "lpbench report: %s: %v (showing what was read before it)\n", path, err)
	}
	if len(tags) == 0 {
		return exitRunFailed
	}
	if err := report.WriteHlogSummary(stdout, tags); err != nil {
		fmt.Fprintf(stderr, "lpbench report: %v\n", err)
		return exitRunFailed
	}
	return exitOK
}

// cmdMerge adds up the results of shards and evaluates the profile's thresholds on the sum.
func cmdMerge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the merged result file here")
	var files []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		files, args = append(files, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 || *out == "" {
		fmt.Fprintln(stderr, "usage: lpbench merge SHARD.json... -o MERGED.json")
		return exitUsage
	}
	var rs []*report.Result
	for _, f := range files {
		r, err := report.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "lpbench merge: %v\n", err)
			return exitUsage
		}
		rs = append(rs, r)
	}
	m, err := report.Merge(rs)
	if err != nil {
		fmt.Fprintf(stderr, "lpbench merge: %v\n", err)
		return exitUsage
	}
	if m.Effective != "" {
		p, err := profiles.Parse("effective profile of "+files[0], []byte(m.Effective))
		if err != nil {
			fmt.Fprintf(stderr, "lpbench merge: %v\n", err)
			return exitUsage
		}
		byName := map[string]*report.Metrics{}
		for i, t := range m.Targets {
			byName[t.Name] = m.PerTarget[i]
		}
		m.Thresholds = report.EvalThresholds(scoped(p), m.Overall, byName)
	}
	if err := report.WriteFileAtomic(*out, func(w io.Writer) error { return report.WriteJSON(w, m) }); err != nil {
		fmt.Fprintf(stderr, "lpbench merge: %v\n", err)
		return exitRunFailed
	}
	if err := report.WriteSummary(stdout, m); err != nil {
		return exitRunFailed
	}
	if report.Breached(m.Thresholds) {
		return exitThresholds
	}
	return exitOK
}

// cmdCompare compares two results, or two targets of one result.
func cmdCompare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	targets := fs.String("targets", "", "compare these two targets of one result, written A,B")
	format := fs.String("format", "text", "text or html")
	failOn := fs.String("fail-on-regression", "", "exit 3 when METRIC worsens significantly by more than PCT percent, written METRIC:PCT (e.g. step.create.p99:10)")
	var files []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		files, args = append(files, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	files = append(files, fs.Args()...)
	usageErr := func(msg string) int {
		fmt.Fprintf(stderr, "lpbench compare: %s\nusage: lpbench compare BASE.json NEW.json | lpbench compare RESULT.json -targets A,B [-format text|html] [-fail-on-regression METRIC:PCT]\n", msg)
		return exitUsage
	}
	var base, next *report.Metrics
	var baseName, newName string
	switch {
	case *targets != "" && len(files) == 1:
		r, err := report.ReadFile(files[0])
		if err != nil {
			return usageErr(err.Error())
		}
		a, b, ok := strings.Cut(*targets, ",")
		if !ok {
			return usageErr(fmt.Sprintf("-targets wants two names A,B, got %q", *targets))
		}
		for _, name := range []string{a, b} {
			m := targetMetrics(r, name)
			if m == nil {
				return usageErr(fmt.Sprintf("%s has no target %q", files[0], name))
			}
			if base == nil {
				base, baseName = m, name
			} else {
				next, newName = m, name
			}
		}
	case *targets == "" && len(files) == 2:
		rb, err := report.ReadFile(files[0])
		if err != nil {
			return usageErr(err.Error())
		}
		rn, err := report.ReadFile(files[1])
		if err != nil {
			return usageErr(err.Error())
		}
		base, next, baseName, newName = rb.Overall, rn.Overall, files[0], files[1]
	default:
		return usageErr("name two result files, or one with -targets")
	}
	cs := report.Compare(base, next, report.CompareOptions{})
	write := report.WriteCompareText
	switch *format {
	case "text":
	case "html":
		write = report.WriteCompareHTML
	default:
		return usageErr(fmt.Sprintf("-format must be text or html, got %q", *format))
	}
	if err := write(stdout, baseName, newName, cs); err != nil {
		fmt.Fprintf(stderr, "lpbench compare: %v\n", err)
		return exitRunFailed
	}
	if *failOn != "" {
		metric, pcts, ok := strings.Cut(*failOn, ":")
		pct, err := strconv.ParseFloat(pcts, 64)
		if !ok || err != nil || pct < 0 {
			return usageErr(fmt.Sprintf("-fail-on-regression wants METRIC:PCT, got %q", *failOn))
		}
		worse, err := report.Regressed(cs, metric, pct)
		if err != nil {
			return usageErr(err.Error())
		}
		if worse {
			fmt.Fprintf(stderr, "lpbench compare: %s is significantly worse by more than %g%%\n", metric, pct)
			return exitThresholds
		}
	}
	return exitOK
}

// targetMetrics returns the metrics of the target called name.
func targetMetrics(r *report.Result, name string) *report.Metrics {
	for i, t := range r.Targets {
		if t.Name == name {
			return r.PerTarget[i]
		}
	}
	return nil
}

// apply puts the command-line overrides into the profile and the run options.
func (f *runFlags) apply(p *profiles.Profile, o *runOptions) error {
	if f.rate < 0 {
		return fmt.Errorf("-rate must be ≥ 0, got %g", f.rate)
	}
	if f.duration < 0 {
		return fmt.Errorf("-duration must be ≥ 0, got %v", f.duration)
	}
	if f.rate > 0 || f.duration > 0 {
		rate, d := f.rate, f.duration
		if rate == 0 {
			rate = loadPeak(p.Load)
		}
		if d == 0 {
			for _, s := range p.Load.Stages {
				d += s.Duration
			}
		}
		p.Load.Stages = []profiles.Stage{{Duration: d, Rate: profiles.Rate{From: rate, To: rate}}}
	}
	if f.maxInFlight < 0 {
		return fmt.Errorf("-max-in-flight must be ≥ 1, got %d", f.maxInFlight)
	}
	if f.maxInFlight > 0 {
		p.Load.MaxInFlight = f.maxInFlight
	}
	if f.window < 0 {
		return fmt.Errorf("-window must be > 0, got %v", f.window)
	}
	if f.window > 0 {
		p.Window = f.window
	}
	if f.simURL != "" {
		if err := useSimURL(p, o, f.simURL); err != nil {
			return err
		}
	}
	if f.shard != "" {
		k, n, err := parseShard(f.shard)
		if err != nil {
			return err
		}
		o.Shard, o.Shards = k, n
	}
	return nil
}

// useSimURL points the profile's simulator targets at a standalone simulator, with the
// credentials it generated (GET /_lpsim/apps).
func useSimURL(p *profiles.Profile, o *runOptions, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-sim-url wants the simulator's http://HOST:PORT, got %q", raw)
	}
	base := strings.TrimRight(raw, "/")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/_lpsim/apps")
	if err != nil {
		return fmt.Errorf("-sim-url: %w", err)
	}
	defer resp.Body.Close()
	var apps []lpsim.App
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("-sim-url: %s answered %s to GET /_lpsim/apps: is it an lpbench simulator?", base, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&apps); err != nil {
		return fmt.Errorf("-sim-url: GET /_lpsim/apps: %w", err)
	}
	o.Credentials = map[string]lpsim.App{}
	for i := range p.Targets {
		t := &p.Targets[i]
		if t.Kind() != profiles.KindSim {
			continue
		}
		i := slices.IndexFunc(apps, func(a lpsim.App) bool { return a.Account == t.Account })
		if i < 0 {
			return fmt.Errorf("-sim-url: the simulator at %s has no account %q (target %s)", base, t.Account, t.Name)
		}
		if apps[i].ClientSecret == "" {
			return fmt.Errorf("-sim-url: the simulator at %s does not share account %s's client secret (it was configured, not generated); name it with client_id_env/client_secret_env and csds: %s instead", base, t.Account, base)
		}
		t.CSDS = base
		o.Credentials[t.Name] = apps[i]
	}
	return nil
}

// parseShard reads "K/N".
func parseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 0 || k >= n {
		return 0, 0, fmt.Errorf("-shard wants K/N with 0 ≤ K < N, got %q", s)
	}
	return k, n, nil
}

func liveNames(p profiles.Profile) string {
	var names []string
	for _, t := range p.Targets {
		if t.Kind() == profiles.KindLive {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, ", ")
}

// printPlan tells, before a live run starts, what it will do to the accounts.
func printPlan(w io.Writer, p profiles.Profile) {
	fmt.Fprintf(w, "lpbench: live run of profile %s\n", p.Name)
	for _, t := range p.Targets {
		fmt.Fprintf(w, "  target %-12s account %-12s %s (%s)\n", t.Name, t.Account, t.CSDSURL(), t.Kind())
	}
	closing := "and closes each one at the end of its journey"
	if !p.Journey.Close {
		closing = "and leaves them OPEN (journey.close is false)"
	}
	fmt.Fprintf(w, "  peak rate %s/s for %s: about %.0f conversations, %s\n",
		strconv.FormatFloat(peakRate(p), 'g', -1, 64), longest(p), expectedArrivals(p), closing)
}

// interruptible returns two contexts: stop ends at the first SIGINT or SIGTERM (no new arrivals);
// work ends grace later, or at a second signal (journeys in flight are cancelled). abort ends
// stop as a signal would, without the message; cancelWork ends work. release stops listening for
// signals.
func interruptible(grace time.Duration, stderr io.Writer) (stop, work context.Context, abort, cancelWork, release func()) {
	stop, stopArrivals := context.WithCancel(context.Background())
	work, cancel := context.WithCancel(context.Background())
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
		cancel()
	}()
	return stop, work, stopArrivals, cancel, func() {
		signal.Stop(sigs)
		close(done)
		stopArrivals()
		cancel()
	}
}
