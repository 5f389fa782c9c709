// Package report aggregates journey records into HDR histograms and counters (one recorder
// goroutine owns them all) and renders the result. It knows nothing of HTTP.
//
// The model and its recording:
//
//   - result.go: Result and what it describes (targets, arrivals, shard, end reason);
//   - metrics.go: Metrics, the aggregates of a set of journeys, and the counts derived from them;
//   - histogram.go: every histogram helper (geometry, record, decode, merge, statistics);
//   - recorder.go, hlog.go: the recorder goroutine and its interval log (.hlog);
//   - series.go, knee.go: the per-second series and the knee of a ramp;
//   - merge.go: shards of one run added into one Result;
//   - resultfile.go: result.json, written and read back;
//   - metricname.go, threshold.go: the metric names, and thresholds parsed and evaluated;
//   - compare.go, interval.go: two runs compared, and the intervals behind the verdicts.
//
// The renderings, apart from the model: summary.go (the terminal summary, threshold table and
// interval-log summary), html.go, html_table.go, html_chart.go, html_svg.go and html.tmpl
// (report.html), trend_html.go and trend_html.tmpl (a history's trend.html), junit.go,
// compare_render.go (compare as text and HTML), and format.go, how values read in all of them.
package report
