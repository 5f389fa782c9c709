package e2e

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/report"
)

// startSimProcess starts `lpbench sim` on 127.0.0.1 and returns its URL; it is stopped when
// the test ends.
func startSimProcess(t *testing.T, bin string) string {
	t.Helper()
	sim := exec.Command(bin, "sim", "-listen", "127.0.0.1:0")
	banner, err := sim.StdoutPipe()
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
	line := make([]byte, 256)
	n, _ := banner.Read(line)
	m := regexp.MustCompile(`listening on (http://\S+)`).FindSubmatch(line[:n])
	if m == nil {
		t.Fatalf("no URL in the simulator's banner: %q", line[:n])
	}
	go io.Copy(io.Discard, banner)
	return string(m[1])
}

// TestShardsStartTogether: three shard processes of one run against one simulator, started 2 s
// apart with one --start-at: every shard's plan starts at the barrier (the result's start, from
// which every intended start is an offset of the plan), and the merged per-second arrivals, by
// intended start, match the whole plan's within 1 in every second. Whether the arrivals went out
// on time depends on how loaded the test machine is: the shards' lag is logged, and their timing
// checks are relaxed. Not parallel: the other tests' processes would only add to the lag.
func TestShardsStartTogether(t *testing.T) {
	bin := lpbenchBinary(t)
	simURL := startSimProcess(t, bin)
	dir := t.TempDir()
	const rate, seconds, shards = 30, 4, 3
	// The last shard starts 4 s in: 5.5 s more for its process to start and set up, however
	// busy the machine (a shard ready after the barrier joins late, which is another test's).
	barrier := time.Now().Add(9500 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make([]error, shards)
	for k := range shards {
		if k > 0 {
			time.Sleep(2 * time.Second) // shard k starts 2k s after the first
		}
		wg.Go(func() {
			out, err := exec.Command(bin, "run", "--rate", fmt.Sprint(rate), "--duration", fmt.Sprint(seconds, "s"),
				"--sim-url", simURL, "--shard", fmt.Sprintf("%d/%d", k, shards), "--no-progress", "--run-id", "barrier-test",
				"--start-at", barrier.UTC().Format(time.RFC3339Nano), "--out", filepath.Join(dir, fmt.Sprint("shard-", k)),
				// The test asserts the start instant and the per-second counts itself; the
				// generator's timing checks depend on how loaded the test machine is.
				"--relax-check", "generator_lag", "--relax-check", "generator_cpu", "--relax-check", "arrivals").CombinedOutput()
			if err != nil {
				errs[k] = fmt.Errorf("shard %d: %v\n%s", k, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"merge"}
	for k := range shards {
		f := filepath.Join(dir, fmt.Sprint("shard-", k), "result.json")
		args = append(args, f)
		r, err := report.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dev := r.Start.Sub(barrier).Abs()
		t.Logf("shard %d: start − barrier %v, waited %v, lag p99 %v max %v, clock offset %+v", k, dev, r.Waited.Round(time.Millisecond),
			time.Duration(hdr.Percentile(r.Overall.Lag, 99)), time.Duration(r.Overall.Lag.Max()), r.Clock)
		if dev > 10*time.Millisecond || r.JoinedLate != 0 {
			t.Errorf("shard %d: start %v, barrier %v (joined late %v): want the barrier within 10ms", k, r.Start, barrier, r.JoinedLate)
		}
		if r.RunID != "barrier-test" || r.ProfileHash == "" {
			t.Errorf("shard %d: run id %q, profile hash %q", k, r.RunID, r.ProfileHash)
		}
	}
	merged := filepath.Join(dir, "merged.json")
	if code, _, stderr := runBin(t, append(args, "-o", merged)...); code != exitcode.OK {
		t.Fatalf("merge: exit %d\n%s", code, stderr)
	}
	res, err := report.ReadFile(merged)
	if err != nil {
		t.Fatal(err)
	}
	planned := map[int64]int64{}
	for n := range rate * seconds {
		planned[barrier.Add(time.Duration(n)*time.Second/rate).Unix()]++
	}
	got := map[int64]int64{}
	for _, pt := range res.Overall.Series {
		got[pt.Unix] = pt.Arrivals
	}
	worst := int64(0)
	for sec := barrier.Unix(); sec <= barrier.Add(seconds*time.Second).Unix(); sec++ {
		d := got[sec] - planned[sec]
		worst = max(worst, d, -d)
		if d > 1 || d < -1 {
			t.Errorf("second %d: %d arrivals merged, the plan has %d", sec-barrier.Unix(), got[sec], planned[sec])
		}
	}
	t.Logf("merged per-second arrivals: worst error %d over %d s", worst, seconds+1)
	if a := res.Arrivals; a.Planned != rate*seconds || a.Started != a.Planned {
		t.Errorf("merged arrivals %+v, want %d planned and started", a, rate*seconds)
	}
}
