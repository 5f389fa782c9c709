package history

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Filter selects runs: every field set must match (a run matches Labels when it has each of
// them, whatever its other labels). Target keeps, of each run, only that target's metrics, and
// only the runs that have some, unless KeepEmpty (a run whose target went silent is kept, without
// metrics: the check flags what it lacks).
type Filter struct {
	Profile   string
	Target    string
	Labels    map[string]string
	KeepEmpty bool
}

func (f Filter) match(r *Run) bool {
	if f.Profile != "" && r.Profile != f.Profile {
		return false
	}
	for k, v := range f.Labels {
		if got, ok := r.Labels[k]; !ok || got != v {
			return false
		}
	}
	if f.Target == "" {
		return true
	}
	var keep []Metric
	for _, m := range r.Metrics {
		if m.Target == f.Target {
			keep = append(keep, m)
		}
	}
	r.Metrics = keep
	return len(keep) > 0 || f.KeepEmpty
}

// String describes the filter, e.g. "profile nightly, target sim, label env=ci"; "" when empty.
func (f Filter) String() string {
	var parts []string
	if f.Profile != "" {
		parts = append(parts, "profile "+f.Profile)
	}
	if f.Target != "" {
		parts = append(parts, "target "+f.Target)
	}
	if len(f.Labels) > 0 {
		parts = append(parts, "labels "+FormatLabels(f.Labels))
	}
	return strings.Join(parts, ", ")
}

// Runs returns the runs that match f, oldest first, with their labels and metrics.
func (h *DB) Runs(ctx context.Context, f Filter) ([]*Run, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT seq, kind, run_id, profile, profile_hash, shard_index, shard_count, start_time, end_time,
		version, exit_code, end_reason, checks_ok, checks, result_path, result_sha256, added_time FROM runs ORDER BY seq`)
	if err != nil {
		return nil, h.wrap(err)
	}
	defer rows.Close()
	var all []*Run
	bySeq := map[int64]*Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, h.wrap(err)
		}
		all = append(all, r)
		bySeq[r.Seq] = r
	}
	if err := rows.Err(); err != nil {
		return nil, h.wrap(err)
	}
	if err := h.loadDetails(ctx, bySeq); err != nil {
		return nil, err
	}
	var out []*Run
	for _, r := range all {
		if f.match(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func scanRun(rows *sql.Rows) (*Run, error) {
	r := &Run{Labels: map[string]string{}}
	var start, end, added, checks string
	if err := rows.Scan(&r.Seq, &r.Kind, &r.RunID, &r.Profile, &r.ProfileHash, &r.Shard.Index, &r.Shard.Count, &start, &end,
		&r.Version, &r.ExitCode, &r.EndReason, &r.ChecksOK, &checks, &r.ResultPath, &r.ResultSHA256, &added); err != nil {
		return nil, err
	}
	var err error
	for _, t := range []struct {
		s   string
		dst *time.Time
	}{{start, &r.Start}, {end, &r.End}, {added, &r.Added}} {
		if *t.dst, err = time.Parse(time.RFC3339Nano, t.s); err != nil {
			return nil, fmt.Errorf("run %d: time %q: %w", r.Seq, t.s, err)
		}
	}
	if err := json.Unmarshal([]byte(checks), &r.Checks); err != nil {
		return nil, fmt.Errorf("run %d: checks: %w", r.Seq, err)
	}
	return r, nil
}

// loadDetails reads the labels and metrics of the runs.
func (h *DB) loadDetails(ctx context.Context, bySeq map[int64]*Run) error {
	rows, err := h.db.QueryContext(ctx, "SELECT seq, key, value FROM labels ORDER BY seq, key")
	if err != nil {
		return h.wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var k, v string
		if err := rows.Scan(&seq, &k, &v); err != nil {
			return h.wrap(err)
		}
		if r := bySeq[seq]; r != nil {
			r.Labels[k] = v
		}
	}
	if err := rows.Err(); err != nil {
		return h.wrap(err)
	}
	mrows, err := h.db.QueryContext(ctx, "SELECT seq, target, metric, unit, value, samples FROM metrics ORDER BY seq, target")
	if err != nil {
		return h.wrap(err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var seq int64
		var m Metric
		var unit string
		if err := mrows.Scan(&seq, &m.Target, &m.Name, &unit, &m.Value, &m.Samples); err != nil {
			return h.wrap(err)
		}
		k, ok := kindOf(unit)
		if !ok {
			return h.wrap(fmt.Errorf("run %d, %s %s: unknown unit %q", seq, m.Target, m.Name, unit))
		}
		m.Kind = k
		if r := bySeq[seq]; r != nil {
			r.Metrics = append(r.Metrics, m)
		}
	}
	if err := mrows.Err(); err != nil {
		return h.wrap(err)
	}
	for _, r := range bySeq {
		slices.SortStableFunc(r.Metrics, func(a, b Metric) int {
			if c := strings.Compare(a.Target, b.Target); c != 0 {
				return c
			}
			return metricRank(a.Name) - metricRank(b.Name)
		})
	}
	return nil
}

// metricRank orders metric names as headlineNames does, unknown ones last.
func metricRank(name string) int {
	if i := slices.Index(headlineNames(), name); i >= 0 {
		return i
	}
	return 1 << 20
}

func (h *DB) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("history %s: %w", h.path, err)
}

// Find returns the run of runs that ref names: its number (12 or #12), or its run id when one
// run has it; "" names the newest.
func Find(runs []*Run, ref string) (*Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("no run matches")
	}
	if ref == "" {
		return runs[len(runs)-1], nil
	}
	if n, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64); err == nil {
		for _, r := range runs {
			if r.Seq == n {
				return r, nil
			}
		}
	}
	var found []*Run
	for _, r := range runs {
		if r.RunID == ref {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no run %s among the %d that match", ref, len(runs))
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%d runs have run id %s (shards of one run): name one by its number, e.g. #%d", len(found), ref, found[0].Seq)
}

// ResultFile returns the bytes of run seq's result file as they were appended.
func (h *DB) ResultFile(ctx context.Context, seq int64) ([]byte, error) {
	var gz []byte
	if err := h.db.QueryRowContext(ctx, "SELECT result_gz FROM runs WHERE seq = ?", seq).Scan(&gz); err != nil {
		return nil, h.wrap(fmt.Errorf("run %d: %w", seq, err))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, h.wrap(fmt.Errorf("run %d: result: %w", seq, err))
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, h.wrap(fmt.Errorf("run %d: result: %w", seq, err))
	}
	return b, nil
}

// FormatLabels writes labels as k=v,k2=v2 in key order; "-" when there are none.
func FormatLabels(labels map[string]string) string {
	if len(labels) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}
