// Package compare compares two runs metric by metric: percentiles by a block bootstrap of the
// runs' per-second histograms (or of single values when a run has no series), shares by
// Newcombe's score interval, each with a direction (better, worse, no significant change, no
// data). It reads report's model and renders nothing (render writes a comparison).
//
//   - compare.go: Runs, Options, Change and Regressed;
//   - blocks.go: the per-second blocks and their length (Politis and White);
//   - interval.go: the bootstrap and score intervals.
package compare
