package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
	"github.com/lpbench/lpbench/sample"
)

// Schema names the version of the result file format.
const Schema = "lpbench.result/v1"

// The result file (result.json) holds everything needed to render every report again: the run's
// metadata and effective profile, and for the whole run and each target the counts, the window
// verdicts, the failures and every histogram in HdrHistogram's standard compressed form, plus
// the per-second series and the threshold results. Durations are integer nanoseconds.

type resultFile struct {
	Schema     string            `json:"schema"`
	Version    string            `json:"lpbench_version"`
	GoVersion  string            `json:"go_version"`
	Profile    string            `json:"profile"`
	Start      time.Time         `json:"start"`
	End        time.Time         `json:"end"`
	Elapsed    time.Duration     `json:"elapsed_ns"`
	EndReason  EndReason         `json:"end_reason"`
	Reason     string            `json:"reason,omitempty"`
	Shard      Shard             `json:"shard"`
	Window     time.Duration     `json:"window_ns"`
	Rate       float64           `json:"peak_rate"`
	Duration   time.Duration     `json:"duration_ns"`
	MaxFlight  int               `json:"max_in_flight"`
	MaxAsked   int               `json:"max_in_flight_asked,omitempty"`
	Effective  string            `json:"effective_profile,omitempty"`
	Overall    metricsFile       `json:"overall"`
	Targets    []targetFile      `json:"targets"`
	Thresholds []thresholdFile   `json:"thresholds"`
	Checks     []Check           `json:"checks"`
	RunID      string            `json:"run_id,omitempty"`
	Hash       string            `json:"profile_hash,omitempty"`
	StartAt    time.Time         `json:"start_at,omitzero"`
	Waited     time.Duration     `json:"waited_ns"`
	JoinedLate time.Duration     `json:"joined_late_ns"`
	Clock      *ClockOffset      `json:"clock_offset,omitempty"`
	Partial    bool              `json:"partial,omitempty"`
	Missing    []int             `json:"missing_shards,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Relay      string            `json:"webhook_relay,omitempty"`
}

type targetFile struct {
	TargetInfo
	Metrics metricsFile `json:"metrics"`
}

type thresholdFile struct {
	Expr     string  `json:"expr"`
	Target   string  `json:"target,omitempty"`
	Metric   string  `json:"metric"`
	Op       string  `json:"op"`
	Value    float64 `json:"value"`
	Kind     string  `json:"kind"`
	Measured float64 `json:"measured"`
	NoData   bool    `json:"no_data"`
	Pass     bool    `json:"pass"`
}

type metricsFile struct {
	Arrivals     Arrivals         `json:"arrivals"`
	Outcomes     map[string]int64 `json:"outcomes"`
	Verdicts     map[string]int64 `json:"verdicts"`
	Failures     []failureFile    `json:"failures"`
	StepFailures []failureFile    `json:"step_failures"`
	Requests     map[string]int64 `json:"requests"`
	Retries      map[string]int64 `json:"retries"`
	Unsent       map[string]int64 `json:"unsent,omitempty"` // by step, steps with none left out
	// RateLimited counts the 429 responses by step, retried or not; steps with none left out
	// (absent in files written before it was counted: read as none).
	RateLimited  map[string]int64 `json:"rate_limited,omitempty"`
	ByDelay      []delayFile      `json:"by_send_delay,omitempty"`
	AutoAwaited  map[string]int64 `json:"auto_messages_awaited"`  // by window verdict
	AutoReceived map[string]int64 `json:"auto_messages_received"` // by window verdict
	// Routing counts the journeys that checked their conversation's skill, by result (matched,
	// mismatched, unseen); absent when none did.
	Routing map[string]int64 `json:"routing,omitempty"`
	// Served is the headline, derived from the counts above (written for readers of the file;
	// not read back).
	Served     headlineFile        `json:"served"`
	Histograms map[string]histFile `json:"histograms"`
	Series     Series              `json:"series"`
}

type failureFile struct {
	Step  string `json:"step"`
	Class string `json:"class"`
	Count int64  `json:"count"`
}

type delayFile struct {
	From      time.Duration `json:"from_ns"`
	To        time.Duration `json:"to_ns"` // 0: no upper bound
	In        int64         `json:"in"`
	Missed    int64         `json:"missed"`
	Uncertain int64         `json:"uncertain"`
}

// histFile is one histogram: summary statistics for readers, and the whole histogram.
type histFile struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"min_ns"`
	Mean  time.Duration `json:"mean_ns"`
	Max   time.Duration `json:"max_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P95   time.Duration `json:"p95_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p99_9_ns"`
	P9999 time.Duration `json:"p99_99_ns"`
	HDR   string        `json:"hdr"` // HdrHistogram V2 compressed, base64 ("HISTF…")
}

// WriteJSON writes r as a result file.
func WriteJSON(w io.Writer, r *Result) error {
	f := resultFile{
		Schema: Schema, Version: r.Version, GoVersion: r.GoVersion, Profile: r.Profile,
		Start: r.Start, End: r.Start.Add(r.Elapsed), Elapsed: r.Elapsed, EndReason: r.End, Reason: r.Reason, Shard: r.Shard,
		Window: r.Window, Rate: r.Rate, Duration: r.Duration, MaxFlight: r.MaxInFlight, MaxAsked: r.MaxInFlightAsked, Effective: r.Effective,
		RunID: r.RunID, Hash: r.ProfileHash, StartAt: r.StartAt, Waited: r.Waited, JoinedLate: r.JoinedLate, Clock: r.Clock,
		Partial: len(r.MissingShards) > 0, Missing: r.MissingShards, Labels: r.Labels, Relay: r.Relay,
	}
	var err error
	if f.Overall, err = metricsToFile(r.Overall); err != nil {
		return err
	}
	for i, t := range r.Targets {
		mf, err := metricsToFile(r.PerTarget[i])
		if err != nil {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
		f.Targets = append(f.Targets, targetFile{TargetInfo: t, Metrics: mf})
	}
	f.Thresholds = []thresholdFile{}
	for _, t := range r.Thresholds {
		f.Thresholds = append(f.Thresholds, thresholdFile{Expr: t.Expr, Target: t.Target, Metric: t.Metric, Op: t.Op,
			Value: t.Value, Kind: t.Kind.String(), Measured: t.Measured, NoData: t.NoData, Pass: t.Pass})
	}
	f.Checks = append([]Check{}, r.Checks...)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(f)
}

// headlineFile is Headline in the result file.
type headlineFile struct {
	Verified  bool  `json:"auto_messages_verified"`
	Served    int64 `json:"consumers"` // first auto message received (verified), or first SEND certainly in the window
	Of        int64 `json:"of"`        // journeys that ended
	Anomalies int64 `json:"anomalies"` // auto messages after a certainly missed window
}

func metricsToFile(m *Metrics) (metricsFile, error) {
	f := metricsFile{
		Arrivals: m.Arrivals, Outcomes: map[string]int64{}, Verdicts: map[string]int64{},
		Failures: []failureFile{}, StepFailures: []failureFile{}, Requests: map[string]int64{}, Retries: map[string]int64{},
		Histograms: map[string]histFile{}, Series: m.Series,
	}
	if f.Series == nil {
		f.Series = Series{}
	}
	for o := range sample.NumOutcomes {
		f.Outcomes[o.String()] = m.Outcomes[o]
	}
	h := m.Headline()
	f.Served = headlineFile{Verified: h.Verified, Served: h.Served, Of: h.Of, Anomalies: h.Anomalies}
	f.AutoAwaited, f.AutoReceived = map[string]int64{}, map[string]int64{}
	for v := range sample.NumVerdicts {
		f.Verdicts[v.String()] = m.Verdicts[v]
		f.AutoAwaited[v.String()] = m.AutoMsgAwaited[v]
		f.AutoReceived[v.String()] = m.AutoMsgReceived[v]
	}
	for r := sample.RoutingNotChecked + 1; r < sample.NumRoutings; r++ {
		if n := m.Routing[r]; n > 0 {
			if f.Routing == nil {
				f.Routing = map[string]int64{}
			}
			f.Routing[r.String()] = n
		}
	}
	for s := range sample.NumSteps {
		f.Requests[s.String()] = m.Requests[s]
		f.Retries[s.String()] = m.Retries[s]
		if n := m.Unsent[s]; n > 0 {
			if f.Unsent == nil {
				f.Unsent = map[string]int64{}
			}
			f.Unsent[s.String()] = n
		}
		if n := m.RateLimited[s]; n > 0 {
			if f.RateLimited == nil {
				f.RateLimited = map[string]int64{}
			}
			f.RateLimited[s.String()] = n
		}
		for c := range sample.NumClasses {
			if n := m.Failures[s][c]; n > 0 {
				f.Failures = append(f.Failures, failureFile{s.String(), c.String(), n})
			}
			if n := m.StepFailures[s][c]; n > 0 {
				f.StepFailures = append(f.StepFailures, failureFile{s.String(), c.String(), n})
			}
		}
	}
	for b := range m.ByDelay {
		v := m.ByDelay[b]
		if JudgedOf(&v) == 0 {
			continue
		}
		lo, hi := m.DelayBucketRange(b)
		f.ByDelay = append(f.ByDelay, delayFile{lo, hi, v[sample.VerdictIn], v[sample.VerdictMissed], v[sample.VerdictUncertain]})
	}
	for _, nh := range m.Histograms() {
		hf, err := histToFile(nh.H)
		if err != nil {
			return f, fmt.Errorf("%s: %w", nh.Name, err)
		}
		f.Histograms[nh.Name] = hf
	}
	return f, nil
}

func histToFile(h *hdrhistogram.Histogram) (histFile, error) {
	enc, err := hdr.Encode(h)
	if err != nil {
		return histFile{}, err
	}
	f := histFile{Count: h.TotalCount(), HDR: enc}
	if f.Count > 0 {
		f.Min, f.Mean, f.Max = hdr.MinOf(h), hdr.Mean(h), hdr.MaxOf(h)
		f.P50, f.P90, f.P95 = hdr.Percentile(h, 50), hdr.Percentile(h, 90), hdr.Percentile(h, 95)
		f.P99, f.P999, f.P9999 = hdr.Percentile(h, 99), hdr.Percentile(h, 99.9), hdr.Percentile(h, 99.99)
	}
	return f, nil
}

// ReadJSON reads a result file. Every histogram is decoded and checked to have lpbench's geometry;
// counts and verdicts are read back by name, so the Result renders exactly as the run did.
func ReadJSON(rd io.Reader) (*Result, error) {
	var f resultFile
	dec := json.NewDecoder(io.LimitReader(rd, 1<<30))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a result file: %w", err)
	}
	if f.Schema != Schema {
		return nil, fmt.Errorf("result schema %q: this lpbench reads %q", f.Schema, Schema)
	}
	r := &Result{
		Version: f.Version, GoVersion: f.GoVersion, Profile: f.Profile, Start: f.Start, Elapsed: f.Elapsed,
		End: f.EndReason, Reason: f.Reason, Shard: f.Shard, Window: f.Window, Rate: f.Rate, Duration: f.Duration,
		MaxInFlight: f.MaxFlight, MaxInFlightAsked: f.MaxAsked, Effective: f.Effective,
		RunID: f.RunID, ProfileHash: f.Hash, StartAt: f.StartAt, Waited: f.Waited, JoinedLate: f.JoinedLate, Clock: f.Clock,
		MissingShards: f.Missing, Labels: f.Labels, Relay: f.Relay,
	}
	var err error
	if r.Overall, err = metricsFromFile(f.Overall, f.Window); err != nil {
		return nil, fmt.Errorf("overall: %w", err)
	}
	r.Arrivals = r.Overall.Arrivals
	for _, t := range f.Targets {
		m, err := metricsFromFile(t.Metrics, f.Window)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		r.Targets = append(r.Targets, t.TargetInfo)
		r.PerTarget = append(r.PerTarget, m)
	}
	for _, t := range f.Thresholds {
		th, err := ParseThreshold(t.Expr)
		if err != nil {
			return nil, fmt.Errorf("threshold %q: %w", t.Expr, err)
		}
		r.Thresholds = append(r.Thresholds, ThresholdResult{Threshold: th, Target: t.Target, Measured: t.Measured, NoData: t.NoData, Pass: t.Pass})
	}
	r.Checks = f.Checks
	return r, nil
}

func metricsFromFile(f metricsFile, window time.Duration) (*Metrics, error) {
	m := NewMetrics()
	m.Window, m.Arrivals, m.Series = window, f.Arrivals, f.Series
	for o := range sample.NumOutcomes {
		m.Outcomes[o] = f.Outcomes[o.String()]
	}
	for v := range sample.NumVerdicts {
		m.Verdicts[v] = f.Verdicts[v.String()]
		m.AutoMsgAwaited[v] = f.AutoAwaited[v.String()]
		m.AutoMsgReceived[v] = f.AutoReceived[v.String()]
	}
	for r := sample.RoutingNotChecked + 1; r < sample.NumRoutings; r++ {
		m.Routing[r] = f.Routing[r.String()]
	}
	for s := range sample.NumSteps {
		m.Requests[s] = f.Requests[s.String()]
		m.Retries[s] = f.Retries[s.String()]
		m.Unsent[s] = f.Unsent[s.String()]
		m.RateLimited[s] = f.RateLimited[s.String()]
	}
	for _, list := range []struct {
		in  []failureFile
		out *[sample.NumSteps][sample.NumClasses]int64
	}{{f.Failures, &m.Failures}, {f.StepFailures, &m.StepFailures}} {
		for _, x := range list.in {
			s, ok1 := sample.ParseStep(x.Step)
			c, ok2 := sample.ParseClass(x.Class)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("unknown failure %s/%s", x.Step, x.Class)
			}
			list.out[s][c] += x.Count
		}
	}
	for _, d := range f.ByDelay {
		b := m.delayBucket(d.From)
		m.ByDelay[b][sample.VerdictIn] += d.In
		m.ByDelay[b][sample.VerdictMissed] += d.Missed
		m.ByDelay[b][sample.VerdictUncertain] += d.Uncertain
	}
	for _, nh := range m.Histograms() {
		hf, ok := f.Histograms[nh.Name]
		if !ok {
			return nil, fmt.Errorf("histogram %s missing", nh.Name)
		}
		h, err := hdr.Decode(hf.HDR)
		if err != nil {
			return nil, fmt.Errorf("histogram %s: %w", nh.Name, err)
		}
		if err := hdr.Merge(nh.H, h); err != nil {
			return nil, fmt.Errorf("histogram %s: %w", nh.Name, err)
		}
	}
	return m, nil
}

// ReadFile reads the result file at path.
func ReadFile(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// WriteFileAtomic writes a file through a temporary file in the same directory, renamed into
// place once complete: readers see the old file or the whole new one, never a part. The file is
// readable by all (0644, as a report another user or a CI step reads; a temporary file is 0600).
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
