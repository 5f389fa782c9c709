//go:build !race

package e2e

// raceEnabled: the race detector slows the generator, so timed tests skip.
const raceEnabled = false
