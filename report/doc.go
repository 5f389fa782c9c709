// Package report aggregates journey records into HDR histograms and counters (one recorder
// goroutine owns them all) and renders the result. It knows nothing of HTTP.
//
// The model and its recording: result.go (Result and what it describes), metrics.go (the
// aggregates of a set of journeys), histogram.go (every histogram helper), recorder.go and
// hlog.go (the recorder and its interval log), series.go (per-second series), knee.go, merge.go,
// resultfile.go (result.json), threshold.go and compare.go with interval.go (thresholds and
// comparisons, evaluated). The renderings: summary.go (terminal text), html.go, html_chart.go
// and html.tmpl, junit.go, compare_render.go, and format.go, how values read in all of them.
package report
