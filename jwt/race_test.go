//go:build race

package jwt

// sync.Pool drops items at random under the race detector, so allocation
// counts are only meaningful without it.
func init() { raceEnabled = true }
