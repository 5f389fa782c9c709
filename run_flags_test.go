package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/report"
)

// TestUnrunnableFlags: every flag value a run cannot use is refused before anything is sent,
// with exit 2 and a message naming the flag — including a zero given explicitly, which is not
// "the profile's value".
func TestUnrunnableFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		inErr string
	}{
		// The bug report: a zero pool silently ran with the profile's 500.
		{"max-in-flight 0", []string{"--max-in-flight", "0"}, "-max-in-flight must be ≥ 1, got 0"},
		// A negative pool.
		{"max-in-flight negative", []string{"--max-in-flight", "-3"}, "-max-in-flight must be ≥ 1, got -3"},
		// A zero rate given explicitly.
		{"rate 0", []string{"--rate", "0"}, "-rate must be > 0 journeys/s, got 0"},
		// A negative rate.
		{"rate negative", []string{"--rate", "-1"}, "-rate must be > 0 journeys/s, got -1"},
		// A zero duration given explicitly.
		{"duration 0", []string{"--duration", "0s"}, "-duration must be > 0, got 0s"},
		// A zero window given explicitly.
		{"window 0", []string{"--window", "0s"}, "-window must be > 0, got 0s"},
		// A negative grace.
		{"grace negative", []string{"--grace", "-1s"}, "-grace must be ≥ 0, got -1s"},
		// An empty shard given explicitly.
		{"shard empty", []string{"--shard", ""}, "-shard wants K/N"},
		// A shard index out of range.
		{"shard out of range", []string{"--shard", "4/4"}, "-shard wants K/N"},
		// A run id that cannot go into consumer ids.
		{"run id with a slash", []string{"--run-id", "a/b"}, "-run-id (or $LPBENCH_RUN_ID) wants 1 to 64 letters"},
		// An empty run id given explicitly.
		{"run id empty", []string{"--run-id", ""}, "-run-id (or $LPBENCH_RUN_ID) wants"},
		// A start barrier that is not a time.
		{"start-at garbage", []string{"--start-at", "tomorrow"}, "-start-at wants an RFC 3339 time"},
		// A barrier so far back that the whole plan has passed (the manifests' example value).
		{"start-at long past", []string{"--start-at", "2026-01-01T00:00:00Z"}, "-start-at 2026-01-01T00:00:00Z lies"},
		// A webhook relay given empty.
		{"webhook-relay empty", []string{"--webhook-relay", ""}, "-webhook-relay wants the relay's base URL"},
		// A webhook relay without scheme.
		{"webhook-relay no scheme", []string{"--webhook-relay", "lpbench-relay:8080"}, "-webhook-relay: want the relay's base http(s) URL"},
		// A webhook relay with a password: refused without repeating it (see below).
		{"webhook-relay credentials", []string{"--webhook-relay", "http://user:s3cret@127.0.0.1:18089"}, "-webhook-relay: no user or password in the relay's URL"},
		// A negative relative barrier.
		{"start-at negative", []string{"--start-at", "+-5s"}, "-start-at wants an RFC 3339 time or +DURATION"},
		// A metrics endpoint without a port, one with a port out of range, a negative linger.
		{"metrics-listen no port", []string{"--metrics-listen", "localhost"}, `-metrics-listen: want host:port (e.g. 127.0.0.1:9464 or :9464), got "localhost"`},
		{"metrics-listen bad port", []string{"--metrics-listen", ":http"}, `-metrics-listen: want a port from 0 to 65535 in host:port, got ":http"`},
		{"metrics-linger negative", []string{"--metrics-listen", "127.0.0.1:0", "--metrics-linger", "-1s"}, "-metrics-linger must be ≥ 0, got -1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(append([]string{"run", "smoke", "--no-progress", "--out", t.TempDir()}, tc.args...)...)
			if code != exitcode.Usage {
				t.Fatalf("exit %d, want %d\n%s", code, exitcode.Usage, stderr)
			}
			if !strings.Contains(stderr, tc.inErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.inErr, stderr)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("stderr repeats the password:\n%s", stderr)
			}
		})
	}
}

// TestMetricsAddressInUse: a metrics endpoint whose address cannot be bound stops run and
// capacity before anything is sent, with exit 2 (like an output directory that cannot be made)
// and a message naming the address and where it came from.
func TestMetricsAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	for _, args := range [][]string{{"run", "smoke", "--no-progress"}, {"capacity", "smoke"}} {
		cmd := args[0]
		code, _, stderr := runCLI(append(args, "--out", t.TempDir(), "--metrics-listen", addr)...)
		if code != exitcode.Usage {
			t.Errorf("%s: exit %d, want %d\n%s", cmd, code, exitcode.Usage, stderr)
		}
		if want := "metrics endpoint: cannot listen on " + addr; !strings.Contains(stderr, want) || !strings.Contains(stderr, "-metrics-listen or outputs.metrics_listen") {
			t.Errorf("%s: stderr lacks %q and where it came from:\n%s", cmd, want, stderr)
		}
	}
}

// TestMetricsNoLinger: with --metrics-linger 0 the endpoint (on a free port) closes with the
// run, which says where it served. The flags change no profile: the effective profile, which the
// shards of a run share, is the one without them.
func TestMetricsNoLinger(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, _, stderr := runCLI("run", writeProfile(t, quickLoad), "--no-progress", "--out", dir,
		"--metrics-listen", "127.0.0.1:0", "--metrics-linger", "0")
	if code != exitcode.OK && code != exitcode.Thresholds {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "lpbench: live metrics at http://127.0.0.1:") || strings.Contains(stderr, "stays up") {
		t.Errorf("stderr should say where the metrics were served and not linger:\n%s", stderr)
	}
	res, err := report.ReadFile(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Effective, `metrics_listen: ""`) || !strings.Contains(res.Effective, "metrics_linger: 30s") {
		t.Errorf("the flags changed the effective profile:\n%s", res.Effective)
	}
}

// TestWebhookRelayUnreachable: a run whose relay cannot be subscribed to stops before its first
// arrival (exit 1), naming the relay and the target: without it no auto message would be heard.
func TestWebhookRelayUnreachable(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI("run", "smoke", "--no-progress", "--out", t.TempDir(), "--webhook-relay", "http://127.0.0.1:1")
	if code != exitcode.RunFailed || !strings.Contains(stderr, "target sim: webhook relay: subscribing for target sim") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
