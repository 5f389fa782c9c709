package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// These tests run the Jobs' shell scripts as a pod would: through sh, with the container's
// environment (ConfigMap keys resolved from the manifests, JOB_COMPLETION_INDEX as the Job
// controller sets it), the volumes as directories (the ConfigMap's keys as files), and lpbench
// on PATH: first a stub that records its arguments and exits as told, then, unless -short, the
// real lpbench built from the repository, against its embedded simulator.

// pod is one Job's container, ready to run locally.
type pod struct {
	script string
	env    []string
	root   string // where the volumes' mount paths are
}

// newPod prepares Job j's container with its volumes under root, index as its completion index
// (-1: none) and bin first on PATH.
func newPod(t *testing.T, m *manifests, j *batchv1.Job, root, bin string, index int) *pod {
	t.Helper()
	c := theContainer(t, j)
	script := shellScript(t, c)
	for _, vm := range c.VolumeMounts {
		dir := filepath.Join(root, vm.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		script = strings.ReplaceAll(script, vm.MountPath+"/", dir+"/")
		for _, v := range j.Spec.Template.Spec.Volumes {
			if v.Name == vm.Name && v.ConfigMap != nil {
				for k, text := range m.configMaps[v.ConfigMap.Name].Data {
					if err := os.WriteFile(filepath.Join(dir, k), []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + root}
	if index >= 0 {
		env = append(env, "JOB_COMPLETION_INDEX="+strconv.Itoa(index))
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.ConfigMapKeyRef != nil:
			r := e.ValueFrom.ConfigMapKeyRef
			env = append(env, e.Name+"="+m.configMaps[r.Name].Data[r.Key])
		default:
			t.Fatalf("env %s: only literal values and ConfigMap keys are emulated", e.Name)
		}
	}
	for _, ef := range c.EnvFrom {
		if ef.SecretRef != nil {
			for _, k := range secretKeys(m.secrets[ef.SecretRef.Name]) {
				env = append(env, k+"=placeholder")
			}
		}
	}
	return &pod{script: script, env: env, root: root}
}

// start starts the script; wait with finish.
func (p *pod) start(t *testing.T, ctx context.Context, extraEnv ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, testShell(), "-c", p.script)
	cmd.Env = append(slices.Clone(p.env), extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A child left behind (e.g. lpbench, if the shell died without passing a signal on) holds
	// the output pipes: stop waiting for them.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

// run runs the script to its end and returns its exit code.
func (p *pod) run(t *testing.T, extraEnv ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, o, e := p.start(t, ctx, extraEnv...)
	return exitCode(t, cmd.Wait()), o.String(), e.String()
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	case errors.As(err, &ee):
		t.Fatalf("the script was killed by a signal (%v): it did not exit by itself", err)
		return -1
	default:
		t.Fatalf("the script did not exit by itself: %v", err)
		return -1
	}
}

// stubLpbench is a fake lpbench: it appends its arguments (one line, space-separated) to
// $STUB_LOG; `run` creates --out DIR with a result.json, `merge` writes -o FILE and prints a
// summary; then it exits with $STUB_EXIT. With STUB_WAIT_TERM set it waits for SIGTERM first,
// exiting 130 like lpbench after a graceful stop.
const stubLpbench = `#!/bin/sh
echo "$*" >>"$STUB_LOG"
cmd=$1
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --out) mkdir -p "$2" && echo '{}' >"$2/result.json"; shift ;;
    -o) echo '{}' >"$2"; echo "merged summary"; shift ;;
  esac
  shift
done
if [ -n "${STUB_WAIT_TERM:-}" ]; then
  trap 'echo TERM >>"$STUB_LOG"; exit 130' TERM
  : >"$STUB_WAIT_TERM"
  i=0
  while [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  echo "no TERM" >>"$STUB_LOG"
  exit 1
fi
exit "${STUB_EXIT:-0}"
`

// testShell is the shell the scripts run in: /bin/sh, or $LPBENCH_TEST_SH (e.g. "busybox sh"
// is Alpine's, the image's; a one-word path here: a wrapper script for busybox).
func testShell() string {
	if sh := os.Getenv("LPBENCH_TEST_SH"); sh != "" {
		return sh
	}
	return "/bin/sh"
}

func needShell(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(testShell()); err != nil {
		t.Skipf("no shell %s", testShell())
	}
}

func stubBin(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "lpbench"), []byte(stubLpbench), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func readLog(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestShardScript: the shard's exit code is lpbench's, except 3 (judged after the merge); a
// reused run directory is refused before anything is sent.
func TestShardScript(t *testing.T) {
	needShell(t)
	m := loadManifests(t)
	j := m.job(t, shardJobName)
	n := int(shardCount(t, shellScript(t, theContainer(t, j))))
	runID := m.configMaps["lpbench-run"].Data["RUN_ID"]
	for _, tc := range []struct {
		name     string
		lpbench  int  // lpbench's exit code
		existing bool // the shard's directory holds a result.json already
		want     int
		called   bool
	}{
		{"passed", 0, false, 0, true},
		{"thresholds breached on the shard", 3, false, 0, true},
		{"run failed", 1, false, 1, true},
		{"bad profile", 2, false, 2, true},
		{"interrupted", 130, false, 130, true},
		{"run directory used before", 0, true, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, bin := t.TempDir(), stubBin(t)
			log := filepath.Join(root, "calls")
			index := n - 1
			p := newPod(t, m, j, root, bin, index)
			dir := filepath.Join(root, "results", runID, "shard-"+strconv.Itoa(index))
			if tc.existing {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "result.json"), []byte("{}"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, _, stderr := p.run(t, "STUB_LOG="+log, "STUB_EXIT="+strconv.Itoa(tc.lpbench))
			if code != tc.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.want, stderr)
			}
			calls := readLog(t, log)
			if !tc.called {
				if len(calls) != 0 {
					t.Errorf("lpbench was called: %q", calls)
				}
				return
			}
			want := fmt.Sprintf("run %s/profile/profile.yaml --live --no-progress --shard %d/%d --run-id %s --start-at %s --webhook-relay %s --out %s",
				root, index, n, runID, m.configMaps["lpbench-run"].Data["START_AT"], envVar(theContainer(t, j), "WEBHOOK_RELAY").Value, dir)
			if !slices.Equal(calls, []string{want}) {
				t.Errorf("lpbench called as\n%q\nwant\n%q", calls, want)
			}
		})
	}
}

// TestShardScriptPassesSIGTERM: the shell is PID 1 in the pod and ignores SIGTERM unless it
// traps it; the wrapper must hand it to lpbench (which drains and writes its reports) and exit
// with lpbench's code.
func TestShardScriptPassesSIGTERM(t *testing.T) {
	needShell(t)
	m := loadManifests(t)
	root, bin := t.TempDir(), stubBin(t)
	log, ready := filepath.Join(root, "calls"), filepath.Join(root, "ready")
	p := newPod(t, m, m.job(t, shardJobName), root, bin, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd, _, stderr := p.start(t, ctx, "STUB_LOG="+log, "STUB_WAIT_TERM="+ready)
	waitFor(t, ready, 20*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd.Wait()); code != 130 {
		t.Errorf("exit code %d after SIGTERM, want lpbench's 130; stderr:\n%s", code, stderr)
	}
	if calls := readLog(t, log); len(calls) != 2 || calls[1] != "TERM" {
		t.Errorf("lpbench did not get SIGTERM: %q", calls)
	}
}

func waitFor(t *testing.T, path string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s did not appear within %v", path, d)
}

// TestShardsThenMerge runs every shard of the Job, then the merge, on one results volume: the
// merge gets each shard's result.json exactly once; a missing shard stops it; its exit code is
// lpbench merge's, 3 included.
func TestShardsThenMerge(t *testing.T) {
	needShell(t)
	m := loadManifests(t)
	shards, merge := m.job(t, shardJobName), m.job(t, mergeJobName)
	n := int(shardCount(t, shellScript(t, theContainer(t, shards))))
	runID := m.configMaps["lpbench-run"].Data["RUN_ID"]
	for _, tc := range []struct {
		name    string
		run     int // shards run: 0..run-1
		lpbench int // lpbench merge's exit code
		want    int
	}{
		{"all shards, passed", n, 0, 0},
		{"all shards, thresholds breached on the merge", n, 3, 3},
		{"all shards, results of different runs", n, 2, 2},
		{"a shard missing", n - 1, 0, 1},
		{"no shard", 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, bin := t.TempDir(), stubBin(t)
			for k := range tc.run {
				log := filepath.Join(root, "shard-calls")
				if code, _, stderr := newPod(t, m, shards, root, bin, k).run(t, "STUB_LOG="+log); code != 0 {
					t.Fatalf("shard %d: exit code %d; stderr:\n%s", k, code, stderr)
				}
			}
			log := filepath.Join(root, "merge-calls")
			code, stdout, stderr := newPod(t, m, merge, root, bin, -1).run(t, "STUB_LOG="+log, "STUB_EXIT="+strconv.Itoa(tc.lpbench))
			if code != tc.want {
				t.Errorf("merge exit code %d, want %d; stderr:\n%s", code, tc.want, stderr)
			}
			calls := readLog(t, log)
			if tc.run != n {
				if len(calls) != 0 {
					t.Errorf("lpbench merge was called on %d of %d shards: %q", tc.run, n, calls)
				}
				return
			}
			dir := filepath.Join(root, "results", runID)
			want := "merge"
			for k := range n {
				want += " " + filepath.Join(dir, "shard-"+strconv.Itoa(k), "result.json")
			}
			want += " -o " + filepath.Join(dir, "merged.json")
			if !slices.Equal(calls, []string{want}) {
				t.Errorf("lpbench called as\n%q\nwant\n%q", calls, want)
			}
			if !strings.Contains(stdout, "merged summary") {
				t.Errorf("the merge does not print the summary; stdout:\n%s", stdout)
			}
		})
	}
}

// buildLpbench builds the real lpbench from the repository's root module.
func buildLpbench(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs lpbench: not with -short")
	}
	needShell(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	if _, err := os.Stat(filepath.Join("..", "go.mod")); err != nil {
		t.Skip("not inside the lpbench repository")
	}
	built.once.Do(func() {
		bin, err := os.MkdirTemp("", "lpbench-deploy-test-")
		if err != nil {
			built.err = err
			return
		}
		cmd := exec.Command(goBin, "build", "-o", filepath.Join(bin, "lpbench"), ".")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build lpbench: %v\n%s", err, out)
			return
		}
		built.bin = bin
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// built is lpbench, built once for all the tests; TestMain removes it.
var built struct {
	once sync.Once
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.bin != "" {
		os.RemoveAll(built.bin)
	}
	os.Exit(code)
}

// simProfile replaces the live profile by a short one on lpbench's embedded simulator, so the
// real commands run here without credentials or network.
func simProfile(t *testing.T, root, threshold string) {
	t.Helper()
	prof := "name: k8s-e2e\nload:\n  stages:\n    - duration: 2s\n      rate: 20\nthresholds:\n  - \"" + threshold + "\"\n"
	if err := os.WriteFile(filepath.Join(root, "profile", "profile.yaml"), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestProfileValidates checks the ConfigMap's profile with the real `lpbench validate`.
func TestProfileValidates(t *testing.T) {
	bin := buildLpbench(t)
	m := loadManifests(t)
	f := filepath.Join(t.TempDir(), "profile.yaml")
	if err := os.WriteFile(f, []byte(m.profileText(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(bin, "lpbench"), "validate", f).CombinedOutput(); err != nil {
		t.Errorf("lpbench validate: %v\n%s", err, out)
	}
}

// TestEndToEnd runs the Jobs' scripts with the real lpbench on its simulator: N shards at once,
// then the merge, whose merged.json must hold the whole plan; a breached threshold passes the
// shards and fails the merge.
func TestEndToEnd(t *testing.T) {
	bin := buildLpbench(t)
	m := loadManifests(t)
	shards, merge := m.job(t, shardJobName), m.job(t, mergeJobName)
	n := int(shardCount(t, shellScript(t, theContainer(t, shards))))
	runID := m.configMaps["lpbench-run"].Data["RUN_ID"]
	for _, tc := range []struct {
		name, threshold string
		want            int
	}{
		{"passed", "errors < 50%", 0},
		{"thresholds breached", "count.ok < 1", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			type running struct {
				cmd            *exec.Cmd
				stdout, stderr *bytes.Buffer
			}
			var pods []*pod
			for k := range n {
				pods = append(pods, newPod(t, m, shards, root, bin, k))
			}
			simProfile(t, root, tc.threshold)
			// The ConfigMap's example START_AT is long past (lpbench refuses it): one barrier a
			// little ahead for all the shards, as the README's commands set it.
			startAt := "START_AT=" + time.Now().Add(2*time.Second).UTC().Format(time.RFC3339Nano)
			// The relay as relay.yaml runs it, here on 127.0.0.1.
			relay := "WEBHOOK_RELAY=" + startRelay(t, bin)
			var rs []running
			for _, p := range pods {
				cmd, o, e := p.start(t, ctx, startAt, relay)
				rs = append(rs, running{cmd, o, e})
			}
			for k, r := range rs {
				if code := exitCode(t, r.cmd.Wait()); code != 0 {
					t.Fatalf("shard %d: exit code %d\nstdout:\n%s\nstderr:\n%s", k, code, r.stdout, r.stderr)
				}
			}
			code, stdout, stderr := newPod(t, m, merge, root, bin, -1).run(t)
			if code != tc.want {
				t.Fatalf("merge: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
			var merged struct {
				Shard   struct{ Count int } `json:"shard"`
				Overall struct {
					Arrivals struct{ Planned, Started int64 } `json:"arrivals"`
				} `json:"overall"`
				Targets []struct {
					Webhooks struct {
						AutoMessages int64 `json:"auto_messages"`
						Relayed      int64 `json:"relayed"`
					} `json:"webhooks"`
				} `json:"targets"`
			}
			data, err := os.ReadFile(filepath.Join(root, "results", runID, "merged.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &merged); err != nil {
				t.Fatal(err)
			}
			if merged.Overall.Arrivals.Planned != 40 || merged.Overall.Arrivals.Started != 40 {
				t.Errorf("merged arrivals %+v, want the whole plan: 40 planned and started", merged.Overall.Arrivals)
			}
			// Every shard heard its consumers' auto messages through the relay.
			if len(merged.Targets) != 1 || merged.Targets[0].Webhooks.AutoMessages != 40 || merged.Targets[0].Webhooks.Relayed == 0 {
				t.Errorf("merged webhooks %+v, want 40 first auto messages, relayed", merged.Targets)
			}
			if !strings.Contains(stdout, "arrivals  planned 40") {
				t.Errorf("the merge printed no summary of the whole run:\n%s", stdout)
			}
		})
	}
}

// TestEndToEndSIGTERM stops a real shard as Kubernetes does, with SIGTERM to the shell: lpbench
// must drain, write its reports and exit 130, within the pod's grace period.
func TestEndToEndSIGTERM(t *testing.T) {
	bin := buildLpbench(t)
	m := loadManifests(t)
	j := m.job(t, shardJobName)
	runID := m.configMaps["lpbench-run"].Data["RUN_ID"]
	root := t.TempDir()
	p := newPod(t, m, j, root, bin, 0)
	prof := "name: k8s-term\nload:\n  stages:\n    - duration: 1m\n      rate: 20\n"
	if err := os.WriteFile(filepath.Join(root, "profile", "profile.yaml"), []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, stdout, stderr := p.start(t, ctx, "START_AT=+0s", "WEBHOOK_RELAY="+startRelay(t, bin))
	dir := filepath.Join(root, "results", runID, "shard-0")
	waitFor(t, filepath.Join(dir, "run.hlog"), 30*time.Second)
	time.Sleep(time.Second) // some journeys under way
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	code := exitCode(t, cmd.Wait())
	took := time.Since(sent)
	if code != 130 {
		t.Errorf("exit code %d after SIGTERM, want 130\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if grace := time.Duration(*j.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second; took >= grace {
		t.Errorf("stopping took %v, beyond the pod's grace period %v", took, grace)
	}
	var res struct {
		EndReason string `json:"end_reason"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatalf("no result.json after SIGTERM: %v", err)
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if res.EndReason != "interrupted" {
		t.Errorf("end_reason %q, want interrupted", res.EndReason)
	}
}
