package e2e

import (
	"bufio"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// startTLSSimProcess runs `lpbench sim -tls` and returns its URL and the CA file its banner
// names.
func startTLSSimProcess(t *testing.T, bin string) (simURL, caFile string) {
	t.Helper()
	sim := exec.Command(bin, "sim", "-tls", "-listen", "127.0.0.1:0")
	out, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sim.Process.Signal(syscall.SIGTERM)
		sim.Wait()
	})
	sc := bufio.NewScanner(out)
	listening := regexp.MustCompile(`^lpsim listening on (https://\S+)$`)
	ca := regexp.MustCompile(`^TLS certificates signed by the CA in (\S+) `)
	for sc.Scan() && (simURL == "" || caFile == "") {
		if m := listening.FindStringSubmatch(sc.Text()); m != nil {
			simURL = m[1]
		}
		if m := ca.FindStringSubmatch(sc.Text()); m != nil {
			caFile = m[1]
		}
	}
	if simURL == "" || caFile == "" {
		t.Fatalf("no https URL or CA file in the banner of lpbench sim -tls")
	}
	go io.Copy(io.Discard, out)
	return simURL, caFile
}

// TestSimTLS: `lpbench run --sim-url https://…` against `lpbench sim -tls` with the CA file the
// banner names passes a smoke run with certificates verified (every journey ok, auto messages
// received); with another simulator's CA it fails at once: exit 1, a certificate error of class
// network naming the CA file.
func TestSimTLS(t *testing.T) {
	t.Parallel()
	bin := lpbenchBinary(t)
	simURL, caFile := startTLSSimProcess(t, bin)
	dir := t.TempDir()
	run := func(ca string, out string) (string, error) {
		b, err := exec.Command(bin, "run", "--rate", "10", "--duration", "2s", "--sim-url", simURL, "--sim-ca", ca, "--no-progress",
			"--relax-check", "generator_lag", "--relax-check", "generator_cpu", "--relax-check", "load_delivered", "--relax-check", "arrivals",
			"--out", out).CombinedOutput()
		return string(b), err
	}
	if out, err := run(caFile, filepath.Join(dir, "ok")); err != nil {
		t.Fatalf("run with the simulator's CA file: %v\n%s", err, out)
	}
	res, err := report.ReadFile(filepath.Join(dir, "ok", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ok := res.Overall.Outcomes[sample.OutcomeOK]; ok != 20 || res.Targets[0].Insecure || res.Targets[0].Kind != "simurl" {
		t.Errorf("ok = %d (want 20), insecure %v, kind %q", ok, res.Targets[0].Insecure, res.Targets[0].Kind)
	}

	// Another simulator's CA.
	other := lpsim.DefaultConfig()
	other.TLS, other.TLSCAFile = true, filepath.Join(t.TempDir(), "other-ca.pem")
	srv, err := lpsim.NewServer(other)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	start := time.Now()
	out, err := run(other.TLSCAFile, filepath.Join(dir, "wrong"))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != int(exitcode.RunFailed) {
		t.Fatalf("run with another CA: %v, want exit %d\n%s", err, exitcode.RunFailed, out)
	}
	for _, want := range []string{"class network", "certificate", "CA file " + other.TLSCAFile} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q:\n%s", want, out)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to fail", took)
	}
}
