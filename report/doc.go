// Package report owns a run's result model: it aggregates journey records into HDR histograms
// and counters (one recorder goroutine owns them all), writes result.json and capacity.json and
// reads them back, merges shards, and parses and evaluates thresholds; its histograms are package
// hdr's. It knows nothing of HTTP and renders nothing for people: the renderers (package render)
// read its model.
//
//   - result.go: Result and what it describes (targets, arrivals, shard, end reason);
//   - metrics.go: Metrics, the aggregates of a set of journeys, and the counts derived from them;
//   - recorder.go, hlog.go: the recorder goroutine and its interval log (.hlog);
//   - series.go, knee.go: the per-second series and the knee of a ramp;
//   - merge.go: shards of one run added into one Result;
//   - resultfile.go: result.json, written and read back;
//   - check.go: the measurement checks' model (what a run says of its own measurement);
//   - metricname.go, threshold.go: the metric names, and thresholds parsed and evaluated;
//   - capacity.go: a capacity search's model and capacity.json;
//   - format.go: how values read, in the threshold language and for every renderer
//     (FormatDuration, TrimFloat, FormatValue, FormatRel).
package report
