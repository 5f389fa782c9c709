package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/lp/lpsim"
)

// requestsSeen returns every request a simulator answered and every webhook endpoint it had a
// delivery for.
func requestsSeen(sim *lpsim.Server) int64 {
	led := sim.Ledger()
	n := int64(len(led.WebhookEndpoints))
	for _, byStatus := range led.Requests {
		for _, k := range byStatus {
			n += k
		}
	}
	return n
}

// TestPlanSendsNothing: run --plan and capacity --plan against a standalone simulator print the
// plan and exit 0; the simulator sees no request at all (no registration either), and no output
// directory is made.
func TestPlanSendsNothing(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(quietSimConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "smoke"}, []string{"plan of run of profile smoke", "stages          10s at 20/s",
			"idp               20/s (ConsumerJWS)", "asyncMessagingEnt 60/s (CONVERSATION, SEND, close)", "80/s at the peak",
			"routing ", "webhook ", "consumer ids    lpbench-{run}-{target}-{n}", "thresholds      "}},
		{[]string{"capacity", "smoke", "--max", "100", "--no-progress", "--relax-check", "arrivals"},
			[]string{"plan of capacity search of profile smoke", "worst case: ", "highest step    100 journeys/s"}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		args := append(tc.args, "--plan", "--sim-url", sim.URL, "--out", out)
		code, stdout, stderr := runCLI(args...)
		if code != exitcode.OK {
			t.Fatalf("%v: exit %d\n%s", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: the plan lacks %q:\n%s", tc.args, w, stdout)
			}
		}
		if n := requestsSeen(sim); n != 0 {
			t.Errorf("%v: the simulator saw %d requests", tc.args, n)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: --plan made the output directory (%v)", tc.args, err)
		}
	}
}

// TestPlanOfLiveProfile: --plan of a live profile needs neither --live nor credentials, opens no
// connection, and shows the target's routing and its cap.
func TestPlanOfLiveProfile(t *testing.T) {
	t.Parallel()
	srv, conns := countingTLSServer(t)
	f := writeProfile(t, quickLoad+`targets:
  - name: brand
    account: "42"
    csds: `+srv.URL+`
    client_id_env: LPBENCH_PLAN_UNSET_ID
    client_secret_env: LPBENCH_PLAN_UNSET_SECRET
    max_request_rate: 10
    routing: {skill_id: "77"}
`)
	code, stdout, stderr := runCLI("run", f, "--plan")
	if code != exitcode.OK || conns.Load() != 0 {
		t.Fatalf("exit %d, %d connections\n%s", code, conns.Load(), stderr)
	}
	for _, w := range []string{"target brand: account 42", "(live)", "routing         skill 77", "20/s at the peak (max_request_rate 10/s: OVER the cap"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("the plan lacks %q:\n%s", w, stdout)
		}
	}
}

// TestOpenJournalRefusedFirst: a run whose output directory holds a journal with open
// conversations is refused (exit 2) before any output file is opened: the earlier run's
// interval log is as it was.
func TestOpenJournalRefusedFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := journal.Create(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.WriteHeader(journal.Header{RunID: "r", Close: true, Targets: []journal.Target{{Name: "t", Account: "1", Kind: "simurl", CSDS: "http://127.0.0.1:1"}}}); err != nil {
		t.Fatal(err)
	}
	j.Opening(0, "c1")
	j.Opened(0, "c1", "conv-1")
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	hlog := filepath.Join(dir, "run.hlog")
	if err := os.WriteFile(hlog, []byte("the earlier run's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("run", writeProfile(t, quickLoad), "--no-progress", "--out", dir)
	if code != exitcode.Usage || !strings.Contains(stderr, "lpbench cleanup "+dir) {
		t.Errorf("exit %d, want %d naming lpbench cleanup:\n%s", code, exitcode.Usage, stderr)
	}
	if b, err := os.ReadFile(hlog); err != nil || string(b) != "the earlier run's\n" {
		t.Errorf("run.hlog is now %q (%v): opened before the refusal", b, err)
	}
}

// TestUsageErrorOneLine: a bad flag is one line naming it, then where the flags are told; a
// duration without a unit says what to write.
func TestUsageErrorOneLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--duration", "10"}, "lpbench run: --duration 10: a duration needs a unit, e.g. 10s\nrun 'lpbench run -h'\n"},
		{[]string{"capacity", "--step", "soon"}, "lpbench capacity: --step soon: want a duration, e.g. 10s or 2m\nrun 'lpbench capacity -h'\n"},
		{[]string{"capacity", "--nope"}, "lpbench capacity: unknown flag --nope\nrun 'lpbench capacity -h'\n"},
		{[]string{"report", "--format"}, "lpbench report: --format needs a value\nrun 'lpbench report -h'\n"},
		{[]string{"fly"}, "lpbench: unknown command \"fly\"\nrun 'lpbench -h'\n"},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		if code != exitcode.Usage || stderr != tc.want || stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestVersion: lpbench --version and lpbench version print the version and exit 0.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--version", "-version", "version"} {
		code, stdout, stderr := runCLI(arg)
		if code != exitcode.OK || !strings.HasPrefix(stdout, "lpbench ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, stdout, stderr)
		}
	}
}
