//go:build race

package bench

// raceEnabled: the race detector adds allocations of its own, so the allocation ceilings skip.
const raceEnabled = true
