package main

import (
	"strings"
	"testing"
	"time"
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
		// A negative relative barrier.
		{"start-at negative", []string{"--start-at", "+-5s"}, "-start-at wants an RFC 3339 time or +DURATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(append([]string{"run", "smoke", "--no-progress", "--out", t.TempDir()}, tc.args...)...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.inErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.inErr, stderr)
			}
		})
	}
}

// TestParseStartAt: the barrier is an RFC 3339 instant, or a duration after now.
func TestParseStartAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		// Relative to now.
		{"+2m", now.Add(2 * time.Minute)},
		// An instant in UTC.
		{"2026-12-01T10:05:00Z", now.Add(5 * time.Minute)},
		// An instant with an offset and fractions of a second.
		{"2026-12-01T11:05:00.5+01:00", now.Add(5*time.Minute + 500*time.Millisecond)},
	} {
		got, err := parseStartAt(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseStartAt(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestWebhookRelayUnreachable: a run whose relay cannot be subscribed to stops before its first
// arrival (exit 1), naming the relay and the target: without it no auto message would be heard.
func TestWebhookRelayUnreachable(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI("run", "smoke", "--no-progress", "--out", t.TempDir(), "--webhook-relay", "http://127.0.0.1:1")
	if code != exitRunFailed || !strings.Contains(stderr, "target sim: webhook relay: subscribing for target sim") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
