//go:build race

package poller

// raceDetector: the race detector's instrumentation and its randomly
// emptied sync.Pools allocate several times what a normal build does, so
// heap figures mean nothing under it.
const raceDetector = true
