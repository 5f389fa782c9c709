package history

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lpbench/lpbench/report"
	"github.com/lpbench/lpbench/sample"
)

// Kinds of runs in a history.
const (
	KindRun      = "run"      // lpbench run: one result.json
	KindCapacity = "capacity" // lpbench capacity: one capacity.json, its finding the sustainable rate
)

// CapacityTarget is the target of a capacity search's metric: the search judges the whole profile.
const CapacityTarget = "*"

// Run is one run of a history file.
type Run struct {
	Seq          int64 // its number in the file, in the order appended (0 before it is appended)
	Kind         string
	RunID        string
	Profile      string
	ProfileHash  string
	Shard        report.Shard
	Start, End   time.Time
	Version      string
	ExitCode     int
	EndReason    string
	ChecksOK     bool // no measurement check failed
	Checks       []report.Check
	Labels       map[string]string
	ResultPath   string
	ResultSHA256 string
	Added        time.Time
	Metrics      []Metric
}

// Metric is one headline metric of one target in one run.
type Metric struct {
	Target, Name string
	Kind         report.ValueKind
	Value        float64
	Samples      int64 // the values behind it: a histogram's count, or a share's population
}

// Metric returns the run's metric name of target, and whether it has it.
func (r *Run) Metric(target, name string) (Metric, bool) {
	for _, m := range r.Metrics {
		if m.Target == target && m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Targets returns the names of the targets the run has metrics of, in their order.
func (r *Run) Targets() []string {
	var ts []string
	for _, m := range r.Metrics {
		if !slices.Contains(ts, m.Target) {
			ts = append(ts, m.Target)
		}
	}
	return ts
}

// Comparable reports whether o ran what r ran: the same kind, profile, shard and labels, but for
// the labels named in ignore (those that change every run: a commit, a build number).
func (r *Run) Comparable(o *Run, ignore []string) bool {
	if r.Kind != o.Kind || r.Profile != o.Profile || r.Shard.Count != o.Shard.Count || r.Shard.Index != o.Shard.Index {
		return false
	}
	if len(ignore) == 0 {
		return maps.Equal(r.Labels, o.Labels)
	}
	keep := func(l map[string]string) map[string]string {
		out := maps.Clone(l)
		for _, k := range ignore {
			delete(out, k)
		}
		return out
	}
	return maps.Equal(keep(r.Labels), keep(o.Labels))
}

// EndPartial is the end reason of a merged run some of whose shards were missing (merge
// --allow-partial), and of a capacity search its caps ended before it converged: like an
// interrupted run, it is neither judged nor in a baseline.
const EndPartial = "partial"

// Judged tells whether a run's own measurement makes it fit to judge and to be a baseline: its
// checks held and it completed (an interrupted or aborted run is not the planned load).
func (r *Run) Judged() (bool, string) {
	switch {
	case r.EndReason == EndPartial && r.Kind == KindCapacity:
		return false, "the search did not converge within its caps"
	case r.EndReason == EndPartial:
		return false, "it is a partial merge: shards were missing"
	case !r.ChecksOK:
		return false, "its measurement checks failed"
	case r.EndReason != string(report.EndCompleted):
		return false, "it ended " + r.EndReason
	}
	return true, ""
}

// Headline metrics: per target, the share served (higher is better; "served.unverified" when
// auto messages were not verified: see servedName), the window verdict shares,
// the share of failed journeys, lag p99 (trended, not judged: see judgedMetric), gap p99, and
// the p50, p95 and p99 of the journey and of every step.
func headlineNames() []string {
	names := []string{"served", "automsg.missing", "window.in", "window.missed", "window.uncertain", "errors", "lag.p99", "gap.p99",
		"journey.p50", "journey.p95", "journey.p99"}
	for s := range sample.NumSteps {
		for _, p := range []string{"p50", "p95", "p99"} {
			names = append(names, "step."+s.String()+"."+p)
		}
	}
	return names
}

// metricsOf returns the headline metrics of every target of res (those it measured).
func metricsOf(res *report.Result) ([]Metric, error) {
	var out []Metric
	for i, t := range res.Targets {
		if i >= len(res.PerTarget) || res.PerTarget[i] == nil {
			continue
		}
		m := res.PerTarget[i]
		for _, name := range headlineNames() {
			if name == "served" {
				if h := m.Headline(); h.Of > 0 {
					out = append(out, Metric{Target: t.Name, Name: servedName(h), Kind: report.KindShare, Value: float64(h.Served) / float64(h.Of), Samples: h.Of})
				}
				continue
			}
			mm, err := report.MeasureMetric(m, name)
			if err != nil {
				return nil, err
			}
			if mm.OK {
				out = append(out, Metric{Target: t.Name, Name: name, Kind: mm.Kind, Value: mm.Value, Samples: mm.Samples})
			}
		}
	}
	return out, nil
}

// servedName is the name of the served share: "served" when auto messages were verified (the
// consumers who got one), "served.unverified" otherwise (first SEND certainly in the window): two
// numbers, so that a run that stopped verifying lacks "served", a regression, instead of
// changing what it means.
func servedName(h report.Headline) string {
	if h.Verified {
		return "served"
	}
	return "served.unverified"
}

// RelaxedFailures returns the measurement checks that failed but were relaxed (by the profile or
// the command line): the run stays valid, a baseline and judged, and says so.
func (r *Run) RelaxedFailures() []report.Check {
	var out []report.Check
	for _, c := range r.Checks {
		if !c.OK && c.Relaxed {
			out = append(out, c)
		}
	}
	return out
}

// FromResult returns the history run of a result (of lpbench run), with the command's exit code
// and the bytes of its result.json as written at resultPath.
func FromResult(res *report.Result, exitCode int, resultPath string) (*Run, error) {
	ms, err := metricsOf(res)
	if err != nil {
		return nil, err
	}
	shard := res.Shard
	if shard.Count < 1 {
		shard = report.Shard{Index: 0, Count: 1}
	}
	end := string(res.End)
	if len(res.MissingShards) > 0 && res.End == report.EndCompleted {
		end = EndPartial // a merge without all its shards: not the planned load
	}
	return &Run{Kind: KindRun, RunID: res.RunID, Profile: res.Profile, ProfileHash: res.ProfileHash, Shard: shard,
		Start: res.Start, End: res.Start.Add(res.Elapsed), Version: res.Version, ExitCode: exitCode, EndReason: end,
		ChecksOK: !report.ChecksFailed(res.Checks), Checks: res.Checks, Labels: res.Labels, ResultPath: resultPath, Metrics: ms}, nil
}

// FromCapacity returns the history run of a capacity search: its metric is the sustainable rate,
// 0 when no rate was found (so that it is judged: the rate fell); a generator-bound search counts
// as failing its checks. version is lpbench's.
func FromCapacity(c *report.Capacity, version string, exitCode int, resultPath string) *Run {
	r := &Run{Kind: KindCapacity, RunID: c.RunID, Profile: c.Profile, Shard: report.Shard{Count: 1}, Start: c.Start,
		End: c.Start.Add(time.Duration(c.Elapsed * float64(time.Second))), Version: version, ExitCode: exitCode,
		EndReason: string(report.EndCompleted), ChecksOK: c.Bound != report.BoundGenerator, Labels: c.Labels, ResultPath: resultPath}
	switch {
	case c.Interrupted:
		r.EndReason = string(report.EndInterrupted)
	case c.Bound == report.BoundBudget:
		r.EndReason = EndPartial // its caps ended it before it converged
	}
	rate := 0.0
	if c.Found {
		rate = c.SustainableRate
	}
	r.Metrics = []Metric{{Target: CapacityTarget, Name: "sustainable_rate", Kind: report.KindRate, Value: rate, Samples: int64(len(c.Steps))}}
	return r
}

// units name a metric's kind in the file.
var units = map[report.ValueKind]string{report.KindDuration: "ns", report.KindShare: "share", report.KindRate: "per_s", report.KindCount: "count"}

func kindOf(unit string) (report.ValueKind, bool) {
	for k, u := range units {
		if u == unit {
			return k, true
		}
	}
	return 0, false
}

// Append adds r to the history in one transaction, with file, the bytes of its result file
// (kept compressed with their sha256), and sets r.Seq. Concurrent appenders (other processes
// included) queue on the file's lock; none loses another's run.
func (h *DB) Append(ctx context.Context, r *Run, file []byte) error {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(file) // a bytes.Buffer does not fail
	if err := zw.Close(); err != nil {
		return err
	}
	sum := sha256.Sum256(file)
	r.ResultSHA256 = hex.EncodeToString(sum[:])
	checks, err := json.Marshal(append([]report.Check{}, r.Checks...))
	if err != nil {
		return err
	}
	r.Added = time.Now().UTC()
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history %s: %w", h.path, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (kind, run_id, profile, profile_hash, shard_index, shard_count, start_time, end_time,
		version, exit_code, end_reason, checks_ok, checks, result_path, result_sha256, result_gz, added_time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Kind, r.RunID, r.Profile, r.ProfileHash, r.Shard.Index, r.Shard.Count, fmtTime(r.Start), fmtTime(r.End),
		r.Version, r.ExitCode, r.EndReason, r.ChecksOK, string(checks), r.ResultPath, r.ResultSHA256, gz.Bytes(), fmtTime(r.Added))
	if err != nil {
		return fmt.Errorf("history %s: appending: %w", h.path, err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("history %s: appending: %w", h.path, err)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		if _, err := tx.ExecContext(ctx, "INSERT INTO labels (seq, key, value) VALUES (?, ?, ?)", seq, k, r.Labels[k]); err != nil {
			return fmt.Errorf("history %s: appending: %w", h.path, err)
		}
	}
	for _, m := range r.Metrics {
		if _, err := tx.ExecContext(ctx, "INSERT INTO metrics (seq, target, metric, unit, value, samples) VALUES (?, ?, ?, ?, ?, ?)",
			seq, m.Target, m.Name, units[m.Kind], m.Value, m.Samples); err != nil {
			return fmt.Errorf("history %s: appending: %w", h.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history %s: appending: %w", h.path, err)
	}
	r.Seq = seq
	return nil
}

const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }
