// Package compare compares runs metric by metric: percentiles by a block bootstrap of the runs'
// per-second histograms (or of single values when a run has no series), shares by Newcombe's
// score interval, each with a direction (better, worse, no significant change, no data, or not
// judged: a step served from a cache, the generator's lag). Against compares several runs (or
// targets) each with the first, with one confidence for them all. It reads report's model and
// renders nothing (render writes a comparison and its one-line verdict).
//
//   - compare.go: Runs, Against, Options, Change, Pair and Regressed;
//   - sides.go: the sides of a comparison read from result files, or targets of one;
//   - gates.go: the regression gates (--fail-on-regression) and the percentiles compared;
//   - blocks.go: the per-second blocks and their length (Politis and White);
//   - interval.go: the bootstrap and score intervals.
package compare
