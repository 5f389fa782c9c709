//go:build !race

package render

// raceEnabled: the race detector slows the long statistical tests tenfold; they check numbers,
// not concurrency (the same code runs under it in the shorter tests), so they skip.
const raceEnabled = false
