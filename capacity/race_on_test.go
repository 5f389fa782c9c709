//go:build race

package capacity

// raceEnabled reports that the race detector slows this build (timing-sensitive tests skip).
const raceEnabled = true
