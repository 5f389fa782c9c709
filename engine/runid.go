package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lpbench/lpbench/report"
)

// CheckRunID accepts a run id (Options.RunID) of 1 to 64 letters, digits, '.', '_' and '-': it
// goes into every consumer id and into file paths.
func CheckRunID(id string) error {
	if !report.IsName(id) {
		return fmt.Errorf("wants 1 to 64 letters, digits, '.', '_' or '-', got %q", id)
	}
	return nil
}

// ParseShard reads shard K of N (Options.Shard, Options.Shards), written "K/N".
func ParseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 0 || k >= n {
		return 0, 0, fmt.Errorf("wants K/N with 0 ≤ K < N, got %q", s)
	}
	return k, n, nil
}

// ParseStartAt reads a start barrier (Options.StartAt): RFC 3339, or +DURATION after now.
func ParseStartAt(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil || dur < 0 {
			return time.Time{}, fmt.Errorf("wants an RFC 3339 time or +DURATION (e.g. +2m), got %q", s)
		}
		return now.Add(dur), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("wants an RFC 3339 time (e.g. 2026-12-01T10:00:00Z) or +DURATION, got %q", s)
	}
	return t, nil
}
