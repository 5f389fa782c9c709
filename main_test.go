package main

import (
	"bytes"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/render"
	"github.com/lpbench/lpbench/report"
)

// writeProfile writes a profile file into a temporary directory and returns its path.
func writeProfile(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// runCLI runs the command line and returns its exit code and outputs.
func runCLI(args ...string) (code exitcode.Code, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli(args, &out, &errb)
	return code, out.String(), errb.String()
}

const quickLoad = "load:\n  stages:\n    - {duration: 1s, rate: 5}\n" + relaxTiming

// relaxTiming relaxes the measurement checks that depend on how busy the machine is (the
// generator's lag, CPU, delivered load and arrival process): tests that are not about them run
// in parallel with many others, on a loaded CI machine, and must not exit 4 because of it.
// Relaxed checks are still computed and shown.
const relaxTiming = "checks: {relax: [generator_lag, generator_cpu, load_delivered, arrivals]}\n"

// TestExitCodes checks the documented exit codes.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     func(t *testing.T) []string
		code     exitcode.Code
		inStdout string
		inStderr string
	}{
		// A short run whose thresholds hold.
		{"success", func(t *testing.T) []string {
			return []string{"run", writeProfile(t, quickLoad+"thresholds: [\"errors < 1%\"]\n"), "--no-progress", "--out", t.TempDir()}
		}, exitcode.OK, "measurement: all 7 checks hold", ""},
		// An unmeetable threshold: exit 3, and the table names it with the measured value. (Not
		// on a percentile: five journeys cannot support one, which would exit 4.)
		{"threshold breached", func(t *testing.T) []string {
			return []string{"run", writeProfile(t, quickLoad+"thresholds: [\"step.create.max < 1µs\"]\n"), "--no-progress", "--out", t.TempDir()}
		}, exitcode.Thresholds, "step.create.max < 1µs", ""},
		// A p99.9 threshold on 5 journeys: percentile_support fails, the measurement is not valid
		// (exit 4), and it wins over the breached threshold (exit 3).
		{"measurement not valid", func(t *testing.T) []string {
			return []string{"run", writeProfile(t, quickLoad+"thresholds: [\"journey.p99.9 < 1ns\"]\n"), "--no-progress", "--out", t.TempDir()}
		}, exitcode.NotValid, "measurement NOT VALID: percentile_support: journey.p99.9 from 5 samples", ""},
		// The same check relaxed on the command line: shown as relaxed, and the threshold decides.
		{"check relaxed", func(t *testing.T) []string {
			return []string{"run", writeProfile(t, quickLoad+"thresholds: [\"journey.p99.9 < 1h\"]\n"), "--no-progress", "--out", t.TempDir(), "--relax-check", "percentile_support"}
		}, exitcode.OK, "measurement, relaxed (does not invalidate the run): percentile_support", ""},
		// A check that does not exist cannot be relaxed.
		{"relax unknown check", func(t *testing.T) []string {
			return []string{"run", "smoke", "--relax-check", "speed"}
		}, exitcode.Usage, "", `no check named "speed"`},
		// A malformed profile: exit 2, with file and line.
		{"malformed", func(t *testing.T) []string {
			return []string{"run", writeProfile(t, "load:\n  stages:\n    - {duration: 1s, rate: -5}\n")}
		}, exitcode.Usage, "", "p.yaml:3: load.stages[0].rate: must be ≥ 0, got -5"},
		// A bad flag value.
		{"bad shard", func(t *testing.T) []string { return []string{"run", "smoke", "--shard", "3/2"} }, exitcode.Usage, "", "-shard wants K/N"},
		// An unknown command.
		{"unknown command", func(t *testing.T) []string { return []string{"fly"} }, exitcode.Usage, "", `unknown command "fly"`},
		// validate: valid and invalid files.
		{"validate ok", func(t *testing.T) []string { return []string{"validate", writeProfile(t, quickLoad)} }, exitcode.OK, ": ok", ""},
		// A plan too short for a thresholded percentile: a warning with the numbers, still exit 0.
		{"validate warns", func(t *testing.T) []string {
			return []string{"validate", writeProfile(t, quickLoad+"thresholds: [\"gap.p99 < 1s\"]\n")}
		}, exitcode.OK, ": ok, 1 warning(s)", "p.yaml: warning: thresholds[0]: the run: gap.p99 needs 1000 samples (10 above the percentile), the plan gives it 5 journeys"},
		{"validate bad", func(t *testing.T) []string { return []string{"validate", writeProfile(t, "windw: 1s\n")} }, exitcode.Usage, "", "p.yaml:1: windw: unknown key"},
		// profiles lists the shipped profiles.
		{"profiles", func(t *testing.T) []string { return []string{"profiles"} }, exitcode.OK, "window-edge", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(tc.args(t)...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.inStdout) {
				t.Errorf("stdout lacks %q:\n%s", tc.inStdout, stdout)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.inStderr, stderr)
			}
		})
	}
}

// TestHelpEverySubcommand: -h, -help and --help after every subcommand of the commands table
// print that subcommand's usage on stderr and exit 0, doing nothing else (nothing on stdout).
func TestHelpEverySubcommand(t *testing.T) {
	t.Parallel()
	if len(commands) < 8 {
		t.Fatalf("%d commands, want at least the 8 documented", len(commands))
	}
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		for _, help := range []string{"-h", "-help", "--help"} {
			t.Run(name+" "+help, func(t *testing.T) {
				t.Parallel()
				code, stdout, stderr := runCLI(name, help)
				if got, want := code, exitcode.OK; got != want {
					t.Errorf("exit code %d, want %d\nstderr:\n%s", got, want, stderr)
				}
				if want := "usage: lpbench " + name; !strings.HasPrefix(stderr, want) {
					t.Errorf("stderr does not start with %q:\n%s", want, stderr)
				}
				if stdout != "" {
					t.Errorf("stdout not empty:\n%s", stdout)
				}
			})
		}
	}
}

// TestLiveNeedsConfirmation: a profile with a live target does not run without --live, and no
// connection is opened to it.
func TestLiveNeedsConfirmation(t *testing.T) {
	t.Parallel()
	srv, conns := countingTLSServer(t)
	f := writeProfile(t, quickLoad+`targets:
  - name: brand
    account: "42"
    csds: `+srv.URL+`
    client_id_env: LPBENCH_TEST_ID
    client_secret_env: LPBENCH_TEST_SECRET
    routing: default
`)
	code, _, stderr := runCLI("run", f, "--no-progress")
	if code != exitcode.Usage {
		t.Errorf("exit code %d, want %d", code, exitcode.Usage)
	}
	if !strings.Contains(stderr, "add --live to confirm") {
		t.Errorf("stderr does not ask for --live:\n%s", stderr)
	}
	// With --live but the credentials unset: still refused before any request.
	code, _, stderr = runCLI("run", f, "--no-progress", "--live")
	if code != exitcode.Usage || !strings.Contains(stderr, "LPBENCH_TEST_SECRET is not set") {
		t.Errorf("exit code %d, stderr:\n%s", code, stderr)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections were opened to the live target", n)
	}
}

// TestOutputsRoundTrip: a run writes its files; the interval log adds up, tag by tag, to the
// result file's histograms exactly; the result file renders the same summary again; JUnit carries
// the thresholds.
func TestOutputsRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := writeProfile(t, relaxTiming+"load:\n  stages:\n    - {duration: 2500ms, rate: 20}\ntargets:\n  - {name: va, account: \"12345678\"}\n  - {name: lo, account: \"23456789\"}\nthresholds: [\"errors < 1%\", \"gap.max < 1µs\"]\n")
	code, stdout, stderr := runCLI("run", f, "--no-progress", "--out", dir)
	if code != exitcode.Thresholds {
		t.Fatalf("exit %d, want %d (gap.max < 1µs cannot pass; not a percentile, which 50 journeys cannot support)\n%s\n%s", code, exitcode.Thresholds, stdout, stderr)
	}
	for _, name := range []string{"result.json", "summary.txt", "run.hlog", "junit.xml", "report.html"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	res, err := report.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The summary rendered from the file is the one the run printed.
	var again bytes.Buffer
	if err := render.Summary(res)(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != stdout {
		t.Errorf("summary from result.json differs from the run's:\n%s\n---\n%s", again.String(), stdout)
	}
	if saved, _ := os.ReadFile(filepath.Join(dir, "summary.txt")); string(saved) != stdout {
		t.Error("summary.txt differs from what the run printed")
	}
	// The interval log adds up to the totals.
	hf, err := os.Open(filepath.Join(dir, "run.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	tags, err := report.ReadHlog(hf)
	if err != nil {
		t.Fatal(err)
	}
	scopes := map[string]*report.Metrics{"all": res.Overall}
	for i, tg := range res.Targets {
		scopes[tg.Name] = res.PerTarget[i]
	}
	checked := 0
	for scope, m := range scopes {
		for _, nh := range m.Histograms() {
			h, ok := tags[scope+"."+nh.Name]
			if nh.H.TotalCount() == 0 {
				if ok && h.TotalCount() != 0 {
					t.Errorf("%s.%s: log has %d values, result none", scope, nh.Name, h.TotalCount())
				}
				continue
			}
			if !ok {
				t.Errorf("%s.%s: not in the interval log", scope, nh.Name)
				continue
			}
			if !h.Equals(nh.H) {
				t.Errorf("%s.%s: log total (count %d, max %d) differs from result (count %d, max %d)",
					scope, nh.Name, h.TotalCount(), h.Max(), nh.H.TotalCount(), nh.H.Max())
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d histograms checked", checked)
	}
	// Series: one point per second, arrivals adding up to the journeys started.
	var arrivals int64
	for _, p := range res.Overall.Series {
		arrivals += p.Arrivals
	}
	if arrivals != res.Arrivals.Started || len(res.Overall.Series) < 3 {
		t.Errorf("series: %d points, %d arrivals; started %d", len(res.Overall.Series), arrivals, res.Arrivals.Started)
	}
	junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if !strings.Contains(string(junit), `failures="1"`) || !strings.Contains(string(junit), "gap.max &lt; 1µs: measured") {
		t.Errorf("junit.xml:\n%s", junit)
	}
	// lpbench report renders it again, in every format.
	for _, format := range []string{"text", "json", "html", "junit"} {
		if code, out, errs := runCLI("report", filepath.Join(dir, "result.json"), "-format", format); code != exitcode.OK || out == "" {
			t.Errorf("report -format %s: exit %d\n%s", format, code, errs)
		}
	}
	if code, out, errs := runCLI("report", "-from-hlog", filepath.Join(dir, "run.hlog")); code != exitcode.OK || !strings.Contains(out, "all.step.create") {
		t.Errorf("report -from-hlog: exit %d\n%s%s", code, out, errs)
	}
}

// TestInsecureTarget: a local simulator behind a self-signed certificate is refused unless its
// target is marked insecure, and then the summary says so.
func TestInsecureTarget(t *testing.T) {
	// Not parallel: it sets environment variables.
	cfg := lpsim.DefaultConfig()
	cfg.Latency = nil
	sim, err := lpsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(sim)
	defer srv.Close()
	t.Setenv("LPBENCH_TLS_ID", cfg.Accounts[0].ClientID)
	t.Setenv("LPBENCH_TLS_SECRET", cfg.Accounts[0].ClientSecret)
	profile := func(insecure bool) string {
		return writeProfile(t, quickLoad+`targets:
  - name: local
    account: "12345678"
    csds: `+srv.URL+`
    client_id_env: LPBENCH_TLS_ID
    client_secret_env: LPBENCH_TLS_SECRET
    routing: default
    insecure: `+strconv.FormatBool(insecure)+"\n")
	}
	code, stdout, stderr := runCLI("run", profile(false), "--live", "--no-progress", "--out", t.TempDir())
	if code != exitcode.RunFailed || !strings.Contains(stdout, "lookup       network") {
		t.Errorf("verified TLS against a self-signed certificate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI("run", profile(true), "--live", "--no-progress", "--out", t.TempDir())
	if code != exitcode.OK || !strings.Contains(stdout, "WARNING: target local was run without TLS certificate verification") {
		t.Errorf("insecure target: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestCAFileTarget: a target naming the CA file of a simulator over TLS runs with certificates
// verified; another CA file fails the run before any journey (exit 1, class network, the file
// named); ca_file with insecure, on a plain http target, or unreadable, is a profile error naming
// file, line and key (exit 2).
func TestCAFileTarget(t *testing.T) {
	// Not parallel: it sets environment variables.
	cfg := quietSimConfig()
	cfg.TLS = true
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	other := quietSimConfig()
	other.TLS, other.TLSCAFile = true, filepath.Join(t.TempDir(), "other-ca.pem")
	otherSim, err := lpsim.NewServer(other)
	if err != nil {
		t.Fatal(err)
	}
	otherSim.Close()
	t.Setenv("LPBENCH_CA_ID", sim.Config().Accounts[0].ClientID)
	t.Setenv("LPBENCH_CA_SECRET", sim.Config().Accounts[0].ClientSecret)
	profile := func(csds, extra string) string {
		return writeProfile(t, quickLoad+`targets:
  - name: local
    account: "12345678"
    csds: `+csds+`
    client_id_env: LPBENCH_CA_ID
    client_secret_env: LPBENCH_CA_SECRET
    routing: default
`+extra)
	}
	code, stdout, stderr := runCLI("run", profile(sim.URL, "    ca_file: "+sim.CAFile+"\n"), "--no-progress", "--out", t.TempDir())
	if code != exitcode.OK || !strings.Contains(stdout, "first auto messages 5") || strings.Contains(stdout, "WARNING") {
		t.Errorf("with the simulator's CA file: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI("run", profile(sim.URL, "    ca_file: "+other.TLSCAFile+"\nwebhooks: {enabled: false}\n"), "--no-progress", "--out", t.TempDir())
	if code != exitcode.RunFailed || !strings.Contains(stderr, "target local: csds: network: certificate not trusted by the CA file "+other.TLSCAFile) {
		t.Errorf("with another CA file: exit %d\n%s", code, stderr)
	}
	for _, tc := range []struct{ name, csds, extra, want string }{
		{"with insecure", sim.URL, "    ca_file: " + sim.CAFile + "\n    insecure: true\n", "targets[0].ca_file: use either ca_file"},
		{"plain http", "http://127.0.0.1:1", "    ca_file: " + sim.CAFile + "\n", "targets[0].ca_file: is for a target reached by https"},
		{"missing file", sim.URL, "    ca_file: no-such-ca.pem\n", "targets[0].ca_file: reading the CA file"},
		{"not PEM", sim.URL, "    ca_file: " + writeProfile(t, "not a certificate") + "\n", "holds no PEM certificate"},
	} {
		f := profile(tc.csds, tc.extra)
		code, _, stderr := runCLI("run", f, "--no-progress", "--out", t.TempDir())
		if code != exitcode.Usage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, f+":") {
			t.Errorf("%s: exit %d, want %d naming the file, line and key (%q):\n%s", tc.name, code, exitcode.Usage, tc.want, stderr)
		}
	}
}

// TestAuthStormStopsEarly: when the simulator refuses the app's credentials, or does not know the
// account, the run stops before its plan ends with exit 1 and a message saying what to check,
// after a handful of requests instead of one per journey; the report says why it ended.
func TestAuthStormStopsEarly(t *testing.T) {
	// Not parallel: it sets environment variables.
	sim, err := lpsim.NewServer(quietSimConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	t.Setenv("LPBENCH_STORM_ID", sim.Config().Accounts[0].ClientID)
	t.Setenv("LPBENCH_STORM_SECRET", "not-the-secret")
	for _, tc := range []struct {
		name, account, want string
	}{
		// Sentinel answers 401 to every token request.
		{"bad credentials", "12345678", "Sentinel refused the app's credentials"},
		// CSDS answers 401 "invalid site".
		{"unknown account", "99999999", "the domain API refused account"},
	} {
		sim.Reset()
		dir := t.TempDir()
		// Webhooks off: a standalone simulator would refuse the receiver's registration for an
		// unknown account before the run (TestUnknownAccountRefusedAtRegistration); the storm
		// is what this test is about.
		f := writeProfile(t, `load:
  stages:
    - {duration: 20s, rate: 50}
webhooks: {enabled: false}
targets:
  - name: storm
    account: "`+tc.account+`"
    csds: `+sim.URL+`
    client_id_env: LPBENCH_STORM_ID
    client_secret_env: LPBENCH_STORM_SECRET
    routing: default
`)
		start := time.Now()
		code, stdout, stderr := runCLI("run", f, "--no-progress", "--out", dir)
		if code != exitcode.RunFailed {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, exitcode.RunFailed, stderr)
		}
		// It gave up before its 20 s plan ended: the arrivals after are not started. How many
		// seconds that took depends on the machine's load; the requests it made (below) do not.
		t.Logf("%s: gave up after %v", tc.name, time.Since(start).Round(time.Millisecond))
		if res, err := report.ReadFile(filepath.Join(dir, "result.json")); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if res.Arrivals.NotStarted == 0 {
			t.Errorf("%s: arrivals %+v: the run did not stop before its plan ended", tc.name, res.Arrivals)
		}
		if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "check") {
			t.Errorf("%s: stderr does not say what failed and what to check:\n%s", tc.name, stderr)
		}
		if !strings.Contains(stdout, "(failed)") || !strings.Contains(stdout, "why it ended: "+"target storm: ") {
			t.Errorf("%s: summary does not say why the run ended:\n%s", tc.name, stdout)
		}
		led := sim.Ledger()
		var sent int64
		for _, byStatus := range led.Requests {
			for _, n := range byStatus {
				sent += n
			}
		}
		if sent > 10 {
			t.Errorf("%s: %d requests reached the simulator: the failing service was hammered", tc.name, sent)
		}
	}
}

// quietSimConfig is the default simulator without latency.
func quietSimConfig() lpsim.Config {
	cfg := lpsim.DefaultConfig()
	cfg.Latency = nil
	return cfg
}

// TestUnknownAccountRefusedAtRegistration: a standalone simulator target whose account the
// simulator does not know fails before any journey, when its webhook receiver is registered:
// exit 1, naming the account, and nothing sent to the messaging API.
func TestUnknownAccountRefusedAtRegistration(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(quietSimConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	f := writeProfile(t, quickLoad+`targets:
  - name: nobody
    account: "99999999"
    csds: `+sim.URL+`
    client_id_env: LPBENCH_NOBODY_ID
    client_secret_env: LPBENCH_NOBODY_SECRET
    routing: default
`)
	code, _, stderr := runCLI("run", f, "--no-progress", "--out", t.TempDir())
	if code != exitcode.RunFailed || !strings.Contains(stderr, `no account "99999999"`) || !strings.Contains(stderr, "target nobody") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if n := sim.Ledger().ConversationsCreated; n != 0 {
		t.Errorf("%d conversations created", n)
	}
}

// TestLiveLeaveOpen: journey.close false on a live target is refused (exit 2, one line naming the
// key and the flag) before any request, unless --leave-open says the conversations stay open.
func TestLiveLeaveOpen(t *testing.T) {
	t.Parallel()
	srv, conns := countingTLSServer(t)
	f := writeProfile(t, quickLoad+"journey: {close: false}\n"+`targets:
  - name: brand
    account: "42"
    csds: `+srv.URL+`
    client_id_env: LPBENCH_TEST_ID
    client_secret_env: LPBENCH_TEST_SECRET
    routing: default
`)
	code, _, stderr := runCLI("run", f, "--no-progress", "--live")
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); code != exitcode.Usage || len(lines) != 1 ||
		!strings.Contains(stderr, "journey.close is false") || !strings.Contains(stderr, "--leave-open") {
		t.Errorf("exit %d, want %d with one line naming journey.close and --leave-open:\n%s", code, exitcode.Usage, stderr)
	}
	// --leave-open passes this check: the next one (credentials unset) refuses it.
	code, _, stderr = runCLI("run", f, "--no-progress", "--live", "--leave-open")
	if code != exitcode.Usage || !strings.Contains(stderr, "LPBENCH_TEST_SECRET is not set") {
		t.Errorf("with --leave-open: exit %d, stderr:\n%s", code, stderr)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections were opened to the live target", n)
	}
}

// countingTLSServer starts a TLS server that answers 404 and counts the connections made to it
// (a live target that must not be touched); it is closed when the test ends.
func countingTLSServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	conns := new(atomic.Int64)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, conns
}
