package e2e

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
)

// binPath is the lpbench binary built for this test run ("" with -short or -list: no test runs
// it).
var binPath string

// TestMain builds the lpbench binary once for every test of the package (a plain go build, as a
// user builds it: the race detector would slow the generator these tests run), says so on
// stderr, and removes it after.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || listing() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "lpbench-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "lpbench")
		start := time.Now()
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/lpbench/lpbench").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: building lpbench: %v\n%s", err, out)
			return 1
		}
		fmt.Fprintf(os.Stderr, "e2e: built lpbench once in %.1fs\n", time.Since(start).Seconds())
		binPath = bin
		return m.Run()
	}()
	os.Exit(code)
}

// listing reports that the test binary only lists its tests (go test -list): nothing runs.
func listing() bool {
	f := flag.Lookup("test.list")
	return f != nil && f.Value.String() != ""
}

// lpbenchBinary returns the binary TestMain built; a test that runs it is skipped with -short.
func lpbenchBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	return binPath
}

// runBin runs the binary with args and returns its exit code and outputs; a binary that could
// not be started fails the test.
func runBin(t *testing.T, args ...string) (code exitcode.Code, stdout, stderr string) {
	t.Helper()
	return runBinEnv(t, nil, args...)
}

// runBinEnv is runBin with env added to the test's environment.
func runBinEnv(t *testing.T, env []string, args ...string) (code exitcode.Code, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(lpbenchBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = exitcode.Code(ee.ExitCode())
	case err != nil:
		t.Fatalf("lpbench %q: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// writeProfile writes a profile file into a temporary directory and returns its path.
func writeProfile(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// relaxTiming relaxes the measurement checks that depend on how busy the machine is (the
// generator's lag, CPU, delivered load and arrival process): tests that are not about them run
// in parallel with many others, on a loaded machine, and must not exit 4 because of it. Relaxed
// checks are still computed and shown.
const relaxTiming = "checks: {relax: [generator_lag, generator_cpu, load_delivered, arrivals]}\n"
