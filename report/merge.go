package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/lpbench/lpbench/sample"
)

// Merge adds the results of the shards of one run into one result, exactly: arrival and outcome
// counts add, histograms merge without loss, and the time series align on wall-clock seconds.
// Targets are matched by name. Thresholds are not carried over: the caller evaluates them again
// on the merged data. Each shard's measurement checks are kept as they are, their Target
// prefixed with the shard ("shard 1/4" or "shard 1/4 sim"). Results of different windows cannot
// be merged; CheckShards refuses, before, results that are not the shards of one run. The run
// id, profile hash, barrier and labels are the first result's; the wait and the late join the
// longest.
func Merge(rs []*Result) (*Result, error) { return MergeNamed(nil, rs) }

// MergeNamed is Merge with the results' file names, for the errors (nil: "result 1", ...).
func MergeNamed(names []string, rs []*Result) (*Result, error) {
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return fmt.Sprintf("result %d", i+1)
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	first := rs[0]
	out := &Result{
		Version: first.Version, GoVersion: first.GoVersion, Profile: first.Profile, Effective: first.Effective,
		Start: first.Start, End: EndCompleted, Window: first.Window, Rate: first.Rate, Duration: first.Duration,
		MaxInFlight: first.MaxInFlight, Overall: NewMetrics(), Shard: Shard{Index: 0, Count: 1},
		RunID: first.RunID, ProfileHash: first.ProfileHash, StartAt: first.StartAt, Labels: first.Labels, Relay: first.Relay,
	}
	out.Overall.Window = first.Window
	index := map[string]int{}
	var end time.Time
	for i, r := range rs {
		if r.Window != first.Window {
			return nil, fmt.Errorf("%s has window %v, %s %v: they are not parts of one run", name(i), r.Window, name(0), first.Window)
		}
		if r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if e := r.Start.Add(r.Elapsed); e.After(end) {
			end = e
		}
		if r.End != EndCompleted {
			out.End = r.End
		}
		out.Waited, out.JoinedLate = max(out.Waited, r.Waited), max(out.JoinedLate, r.JoinedLate)
		out.Clock = widerClock(out.Clock, r.Clock)
		if err := mergeMetrics(out.Overall, r.Overall); err != nil {
			return nil, fmt.Errorf("%s: %w", name(i), err)
		}
		out.Checks = append(out.Checks, shardChecks(r)...)
		for k, t := range r.Targets {
			j, ok := index[t.Name]
			if !ok {
				j = len(out.Targets)
				index[t.Name] = j
				info := t
				info.AppJWTFetches, info.DomainLookups, info.Webhooks, info.RelayHop = 0, 0, nil, nil
				out.Targets = append(out.Targets, info)
				m := NewMetrics()
				m.Window = first.Window
				out.PerTarget = append(out.PerTarget, m)
			}
			out.Targets[j].AppJWTFetches += t.AppJWTFetches
			out.Targets[j].DomainLookups += t.DomainLookups
			out.Targets[j].Webhooks = addWebhookStats(out.Targets[j].Webhooks, t.Webhooks)
			hop, err := addRelayHop(out.Targets[j].RelayHop, t.RelayHop)
			if err != nil {
				return nil, fmt.Errorf("%s, target %s: %w", name(i), t.Name, err)
			}
			out.Targets[j].RelayHop = hop
			if err := mergeMetrics(out.PerTarget[j], r.PerTarget[k]); err != nil {
				return nil, fmt.Errorf("%s, target %s: %w", name(i), t.Name, err)
			}
		}
	}
	out.Elapsed = end.Sub(out.Start)
	out.Arrivals = out.Overall.Arrivals
	return out, nil
}

// shardChecks returns r's checks with the shard named in their target.
func shardChecks(r *Result) []Check {
	shard := fmt.Sprintf("shard %d/%d", r.Shard.Index, max(r.Shard.Count, 1))
	out := make([]Check, len(r.Checks))
	for i, c := range r.Checks {
		c.Target = strings.TrimSpace(shard + " " + c.Target)
		out[i] = c
	}
	return out
}

// mergeMetrics merges o into m, series included.
func mergeMetrics(m, o *Metrics) error {
	if err := m.Merge(o); err != nil {
		return err
	}
	s, err := MergeSeries(m.Series, o.Series)
	if err != nil {
		return fmt.Errorf("series: %w", err)
	}
	m.Series = s
	return nil
}

// addWebhookStats adds b to a; nil stands for "not verified".
func addWebhookStats(a, b *sample.WebhookStats) *sample.WebhookStats {
	if b == nil {
		return a
	}
	var sum sample.WebhookStats
	if a != nil {
		sum = *a
	}
	sum.Add(*b)
	return &sum
}

// widerClock returns bounds that hold both a and b (nil: not measured): the clocks of every
// merged shard lie within them of their targets'.
func widerClock(a, b *ClockOffset) *ClockOffset {
	switch {
	case b == nil:
		return a
	case a == nil:
		c := *b
		return &c
	}
	c := *a
	if b.Min < c.Min {
		c.Min = b.Min
	}
	if b.Max > c.Max {
		c.Max = b.Max
	}
	if b.Target != c.Target {
		c.Target = "the targets"
	}
	return &c
}

// MaxStartSpread is how far apart the starts of two shards of one run may be. Shards that wait
// for one barrier (--start-at) start at the same instant; without one they start when their
// processes do, within seconds of each other, and a minute apart is another run.
const MaxStartSpread = time.Minute

// CheckShards refuses results that are not the shards of one run: names are their files, for
// the messages. They must have the same run id, profile (hash of the effective profile), window,
// start barrier and shard count, start within MaxStartSpread of each other, and hold each shard
// index once. A missing shard is refused unless allowPartial; missing returns the indexes that
// are absent.
func CheckShards(names []string, rs []*Result, allowPartial bool) (missing []int, err error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	first, fname := rs[0], names[0]
	count := max(first.Shard.Count, 1)
	seen := make(map[int]string, len(rs))
	for i, r := range rs {
		name := names[i]
		if err := sameRun(fname, first, name, r); err != nil {
			return nil, err
		}
		if c := max(r.Shard.Count, 1); c != count {
			return nil, fmt.Errorf("%s is shard %d/%d, %s shard %d/%d: the runs had different shard counts", fname, first.Shard.Index, count, name, r.Shard.Index, c)
		}
		if other, dup := seen[r.Shard.Index]; dup {
			return nil, fmt.Errorf("%s and %s are both shard %d/%d: a shard index twice", other, name, r.Shard.Index, count)
		}
		seen[r.Shard.Index] = name
	}
	for k := range count {
		if _, ok := seen[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && !allowPartial {
		given := make([]string, len(rs))
		for i, r := range rs {
			given[i] = fmt.Sprintf("%s (shard %d/%d)", names[i], r.Shard.Index, count)
		}
		return missing, fmt.Errorf("shard(s) %s of %d missing (given: %s): a partial run is not merged unless --allow-partial", joinInts(missing), count, strings.Join(given, ", "))
	}
	return missing, nil
}

// sameRun returns why r (file name) is not of the same run as first (file fname), or nil.
func sameRun(fname string, first *Result, name string, r *Result) error {
	switch {
	case r.RunID != first.RunID:
		return fmt.Errorf("%s has run id %q, %s %q: shards of different runs (shards of one run share --run-id)", name, r.RunID, fname, first.RunID)
	case r.Relay != first.Relay: // before the profile: the relay is part of it
		return fmt.Errorf("%s used webhook relay %s, %s %s: the shards of one run all hear one relay, or none", name, relayName(r.Relay), fname, relayName(first.Relay))
	case r.ProfileHash != first.ProfileHash:
		return fmt.Errorf("%s ran profile %s (hash %s), %s profile %s (hash %s): the effective profiles differ", name, r.Profile, short(r.ProfileHash), fname, first.Profile, short(first.ProfileHash))
	case r.Window != first.Window:
		return fmt.Errorf("%s has window %v, %s %v: they are not parts of one run", name, r.Window, fname, first.Window)
	case !r.StartAt.Equal(first.StartAt):
		return fmt.Errorf("%s waited for the start barrier %s, %s for %s: not one run", name, fmtBarrier(r.StartAt), fname, fmtBarrier(first.StartAt))
	}
	if d := r.Start.Sub(first.Start).Abs(); d > MaxStartSpread {
		return fmt.Errorf("%s started %s, %s %s: %s apart (more than %s), not one run", name, r.Start.UTC().Format(time.RFC3339), fname, first.Start.UTC().Format(time.RFC3339), d.Round(time.Second), MaxStartSpread)
	}
	return nil
}

func relayName(u string) string {
	if u == "" {
		return "(none: its own receiver)"
	}
	return u
}

func fmtBarrier(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// short returns the first 12 characters of a hash, or "(none)".
func short(h string) string {
	if h == "" {
		return "(none)"
	}
	return h[:min(len(h), 12)]
}

func joinInts(ks []int) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = fmt.Sprint(k)
	}
	return strings.Join(s, ", ")
}
