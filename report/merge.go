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
// be merged.
func Merge(rs []*Result) (*Result, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	first := rs[0]
	out := &Result{
		Version: first.Version, GoVersion: first.GoVersion, Profile: first.Profile, Effective: first.Effective,
		Start: first.Start, End: EndCompleted, Window: first.Window, Rate: first.Rate, Duration: first.Duration,
		MaxInFlight: first.MaxInFlight, Overall: NewMetrics(), Shard: Shard{Index: 0, Count: 1},
	}
	out.Overall.Window = first.Window
	index := map[string]int{}
	var end time.Time
	for i, r := range rs {
		if r.Window != first.Window {
			return nil, fmt.Errorf("result %d has window %v, the first %v: they are not parts of one run", i+1, r.Window, first.Window)
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
		if err := mergeMetrics(out.Overall, r.Overall); err != nil {
			return nil, fmt.Errorf("result %d: %w", i+1, err)
		}
		out.Checks = append(out.Checks, shardChecks(r)...)
		for k, t := range r.Targets {
			j, ok := index[t.Name]
			if !ok {
				j = len(out.Targets)
				index[t.Name] = j
				info := t
				info.AppJWTFetches, info.DomainLookups, info.Webhooks = 0, 0, nil
				out.Targets = append(out.Targets, info)
				m := NewMetrics()
				m.Window = first.Window
				out.PerTarget = append(out.PerTarget, m)
			}
			out.Targets[j].AppJWTFetches += t.AppJWTFetches
			out.Targets[j].DomainLookups += t.DomainLookups
			out.Targets[j].Webhooks = addWebhookStats(out.Targets[j].Webhooks, t.Webhooks)
			if err := mergeMetrics(out.PerTarget[j], r.PerTarget[k]); err != nil {
				return nil, fmt.Errorf("result %d, target %s: %w", i+1, t.Name, err)
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
