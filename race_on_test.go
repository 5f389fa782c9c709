//go:build race

package main

// raceEnabled: the race detector slows the generator, so timed tests skip.
const raceEnabled = true
