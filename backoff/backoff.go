// Package backoff is the wait between attempts that fail in a row: doubling
// from a base up to a cap, and jittered, so that the clients (replicas,
// organisations, partitions) that failed together do not try again together.
package backoff

import (
	"math"
	"math/rand/v2"
	"time"
)

// Doubling is base doubled after each failure: the wait after the n-th
// failure in a row (1-based) is base << (n-1), at most limit (0: no limit).
func Doubling(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d <= math.MaxInt64/2; i++ {
		d *= 2
	}
	if limit > 0 {
		return min(d, limit)
	}
	return d
}

// Jitter returns a wait in [d/2, d] (0 for a d of 0 or less).
func Jitter(d time.Duration) time.Duration {
	d = max(d, 0)
	return d/2 + rand.N(d/2+1)
}
