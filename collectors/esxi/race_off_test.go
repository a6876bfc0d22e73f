//go:build !race

package esxi

// raceDetector is true under -race, whose slowdown (several times) the
// deadline tests allow for.
const raceDetector = false
