package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/lp/lpsim"
)

// slowSim is a simulator on 127.0.0.1 whose CONVERSATION takes 300 ms, so that a run killed
// mid-way has CONVERSATIONs in flight as well as conversations opened and not yet closed.
func slowSim(t *testing.T) *lpsim.Server {
	t.Helper()
	sim, err := lpsim.NewServer(lpsim.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.SetLatency(lpsim.EndpointCreate, lpsim.Fixed(300*time.Millisecond))
	return sim
}

// startDelayed starts a 30-s run at 20/s whose first SEND waits 2 s, on sim, writing into dir.
func startDelayed(t *testing.T, bin string, sim *lpsim.Server, dir string) *exec.Cmd {
	t.Helper()
	prof := filepath.Join(t.TempDir(), "delayed.yaml")
	yaml := "name: delayed\nload:\n  stages:\n    - duration: 30s\n      rate: 20\njourney:\n  send_delay: 2s\n"
	if err := os.WriteFile(prof, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", prof, "--sim-url", sim.URL, "--out", dir, "--no-progress")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// awaitOpen polls the ledger until at least n conversations are open and closed have been
// closed, for at most 30 s.
func awaitOpen(t *testing.T, sim *lpsim.Server, n, closed int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		led := sim.Ledger()
		if led.ConversationsCreated-led.ConversationsClosed >= n && led.ConversationsClosed >= closed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s, %d conversations created, %d closed: want %d open, %d closed", led.ConversationsCreated, led.ConversationsClosed, n, closed)
		}
	}
}

// openInLedger returns the conversations of the ledger that are not closed.
func openInLedger(sim *lpsim.Server) []string {
	var open []string
	for _, c := range sim.Ledger().Conversations {
		if !c.Closed {
			open = append(open, c.ExtConsumerID)
		}
	}
	return open
}

var cleanupLine = regexp.MustCompile(`(\d+) possibly open: closed (\d+), already closed (\d+), could not close (\d+), could not resolve (\d+)`)

// runCleanup runs lpbench cleanup on dir and returns its exit code and counts: possibly open,
// closed, already closed, could not close, could not resolve.
func runCleanup(t *testing.T, bin, dir, simURL string) (int, [5]int, string) {
	t.Helper()
	cmd := exec.Command(bin, "cleanup", dir, "--sim-url", simURL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var n [5]int
	m := cleanupLine.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no counts in the cleanup's output:\n%s%s", stdout.String(), stderr.String())
	}
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return code, n, stdout.String() + stderr.String()
}

// TestCleanupAfterKill: a run killed with SIGKILL while conversations are open leaves them open;
// lpbench cleanup closes every one (the ledger shows each conversation of the run closed), and a
// second cleanup closes none.
func TestCleanupAfterKill(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	sim := slowSim(t)
	dir := t.TempDir()
	cmd := startDelayed(t, bin, sim, dir)
	awaitOpen(t, sim, 20, 20)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	before := sim.Ledger()
	left := len(openInLedger(sim))
	if left == 0 {
		t.Fatal("the killed run left no conversation open: nothing to test")
	}
	// A new run into the same directory would lose the journal: refused, nothing sent.
	again, err := exec.Command(bin, "run", "--rate", "5", "--duration", "1s", "--sim-url", sim.URL, "--out", dir, "--no-progress").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(exitcode.Usage) || !strings.Contains(string(again), "run lpbench cleanup") ||
		sim.Ledger().ConversationsCreated != before.ConversationsCreated {
		t.Errorf("a run into the killed run's directory: %v\n%s", err, again)
	}
	code, n, out := runCleanup(t, bin, dir, sim.URL)
	if code != 0 || n[3] != 0 || n[4] != 0 || n[1] == 0 {
		t.Errorf("cleanup: exit %d, counts %v: want exit 0, some closed, none left\n%s", code, n, out)
	}
	if open := openInLedger(sim); len(open) > 0 {
		t.Errorf("still open after the cleanup: %v\n%s", open, out)
	}
	inFlight := "?"
	if m := regexp.MustCompile(`\((\d+) of them with their CONVERSATION in flight\)`).FindStringSubmatch(out); m != nil {
		inFlight = m[1]
	}
	t.Logf("killed run: %d conversations created, %d open at the kill; cleanup: %d possibly open in the journal (%s with their CONVERSATION in flight), closed %d, already closed %d",
		before.ConversationsCreated, left, n[0], inFlight, n[1], n[2])
	created := sim.Ledger().ConversationsCreated
	code, n, out = runCleanup(t, bin, dir, sim.URL)
	if code != 0 || n != [5]int{} || sim.Ledger().ConversationsCreated != created {
		t.Errorf("second cleanup: exit %d, counts %v, %d conversations created since: want exit 0 and nothing to do\n%s",
			code, n, sim.Ledger().ConversationsCreated-created, out)
	}
}

// TestRunLeavesNoneOpen: a run that ends on its own, and one interrupted with SIGINT while
// conversations are open, close every conversation they opened, and their journals say so.
func TestRunLeavesNoneOpen(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	t.Run("completed", func(t *testing.T) {
		sim := slowSim(t)
		dir := t.TempDir()
		out, err := exec.Command(bin, "run", "--rate", "10", "--duration", "2s", "--sim-url", sim.URL, "--out", dir, "--no-progress").CombinedOutput()
		if err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
		checkNoneOpen(t, bin, sim, dir)
	})
	t.Run("interrupted", func(t *testing.T) {
		sim := slowSim(t)
		dir := t.TempDir()
		cmd := startDelayed(t, bin, sim, dir)
		awaitOpen(t, sim, 10, 5)
		cmd.Process.Signal(syscall.SIGINT)
		var ee *exec.ExitError
		if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != int(exitcode.Interrupted) {
			t.Fatalf("exit: %v, want %d", err, exitcode.Interrupted)
		}
		checkNoneOpen(t, bin, sim, dir)
	})
}

func checkNoneOpen(t *testing.T, bin string, sim *lpsim.Server, dir string) {
	t.Helper()
	led := sim.Ledger()
	if open := openInLedger(sim); len(open) > 0 || led.ConversationsCreated == 0 {
		t.Errorf("%d conversations created, open: %v", led.ConversationsCreated, open)
	}
	code, n, out := runCleanup(t, bin, dir, sim.URL)
	if code != 0 || n != [5]int{} {
		t.Errorf("cleanup: exit %d, counts %v: the journal should record every conversation closed\n%s", code, n, out)
	}
	if !strings.Contains(out, "0 possibly open") {
		t.Errorf("cleanup output:\n%s", out)
	}
}
