//go:build race

package httpapi

// The race detector changes allocation counts (sync.Pool drops items).
const raceEnabled = true
