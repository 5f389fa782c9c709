package main

import (
	"strings"
	"testing"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/lp/lpsim"
)

// TestDoctorSimURL: `lpbench doctor --sim-url URL` against a default simulator exits 0 with
// every check passed, shows none of the generated secrets, and leaves no conversation open.
func TestDoctorSimURL(t *testing.T) {
	t.Parallel()
	sim, err := lpsim.NewServer(quietSimConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	code, stdout, stderr := runCLI("doctor", "--sim-url", sim.URL)
	if code != exitcode.OK || strings.Contains(stdout, "FAIL") || !strings.Contains(stdout, "PASS auto-message: arrived") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, a := range sim.Config().Accounts {
		if strings.Contains(stdout+stderr, a.ClientSecret) {
			t.Errorf("the output shows account %s's client secret", a.ID)
		}
	}
	if cv := sim.Ledger().Conversations; len(cv) != 1 || !cv[0].Closed {
		t.Errorf("conversations = %+v, want one, closed", cv)
	}
}

// TestDoctorUsage: usage errors exit 2 and send nothing; a live profile needs --live.
func TestDoctorUsage(t *testing.T) {
	t.Parallel()
	srv, conns := countingTLSServer(t)
	live := writeProfile(t, quickLoad+`targets:
  - name: brand
    account: "42"
    csds: `+srv.URL+`
    client_id_env: LPBENCH_TEST_ID
    client_secret_env: LPBENCH_TEST_SECRET
    routing: default
`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", live}, "add --live to confirm"},
		{[]string{"doctor", live, "--live"}, "LPBENCH_TEST_SECRET is not set"},
		{[]string{"doctor", "smoke", "smoke"}, `unexpected argument "smoke"`},
		{[]string{"doctor", "--sim-ca", "ca.pem"}, "--sim-ca goes with --sim-url"},
		{[]string{"doctor", "--sim-url", "ftp://x"}, "-sim-url wants the simulator's http://HOST:PORT"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != exitcode.Usage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", tc.args, code, stderr, exitcode.Usage, tc.want)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections were opened to the live target", n)
	}
}

// TestDoctorRouting: a profile whose target routes to a skill the account does not have (the
// simulator sends it to "-1") fails doctor's routing check, naming both skills; one it has passes.
func TestDoctorRouting(t *testing.T) {
	t.Parallel()
	cfg := quietSimConfig()
	cfg.Accounts[0].Skills = []string{"5678"}
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	for _, tc := range []struct {
		skill, want string
		code        exitcode.Code
	}{
		{"1234", "FAIL routing: the conversation landed on skill -1, not on skill 1234 as asked", exitcode.RunFailed},
		{"5678", "PASS routing: the conversation landed on skill 5678, as asked", exitcode.OK},
	} {
		prof := writeProfile(t, quickLoad+`targets:
  - name: sim
    routing: {skill_id: "`+tc.skill+`"}
`)
		code, stdout, stderr := runCLI("doctor", prof, "--sim-url", sim.URL)
		if code != tc.code || !strings.Contains(stdout, tc.want) {
			t.Errorf("skill %s: exit %d, want %d and %q; stdout:\n%s\nstderr:\n%s", tc.skill, code, tc.code, tc.want, stdout, stderr)
		}
	}
}

// TestRunNamesTheSetUpWhenNoneServed: a run against an account whose auto messages are off gets
// none although every first SEND was inside the window; its summary names the likely set-up
// causes and doctor, rather than reporting only the target's failure.
func TestRunNamesTheSetUpWhenNoneServed(t *testing.T) {
	t.Parallel()
	cfg := quietSimConfig()
	cfg.Accounts[0].AutoMessages = false
	sim, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	prof := writeProfile(t, quickLoad+"journey: {await_auto_message: 1s}\n")
	_, stdout, stderr := runCLI("run", prof, "--sim-url", sim.URL, "--no-progress", "--out", t.TempDir())
	want := "no consumer got an auto message although 5 first SENDs were certainly inside the window: the set-up, not the load"
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, "run lpbench doctor") {
		t.Errorf("the summary does not name the set-up; want %q in stdout:\n%s\nstderr:\n%s", want, stdout, stderr)
	}
	cfg.Accounts[0].AutoMessages = true
	on, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer on.Close()
	if _, stdout, _ := runCLI("run", prof, "--sim-url", on.URL, "--no-progress", "--out", t.TempDir()); strings.Contains(stdout, "the set-up, not the load") {
		t.Errorf("a run whose consumers were served names the set-up:\n%s", stdout)
	}
}
