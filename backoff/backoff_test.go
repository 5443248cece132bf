package backoff

import (
	"math"
	"testing"
	"time"
)

func TestDoubling(t *testing.T) {
	for _, tc := range []struct {
		base, limit time.Duration
		n           int
		want        time.Duration
	}{
		{time.Second, 0, 1, time.Second},
		{time.Second, 0, 4, 8 * time.Second},
		{10 * time.Second, time.Minute, 3, 40 * time.Second},
		{10 * time.Second, time.Minute, 4, time.Minute},
		{10 * time.Second, time.Minute, 1000, time.Minute}, // no overflow on a long outage
		{time.Hour, time.Minute, 1, time.Minute},
		{math.MaxInt64 / 2, 0, 2, math.MaxInt64 - 1}, // the largest that still doubles
		{math.MaxInt64/2 + 1, 0, 2, math.MaxInt64/2 + 1},
	} {
		if got := Doubling(tc.base, tc.limit, tc.n); got != tc.want {
			t.Errorf("Doubling(%s, %s, %d) = %s, want %s", tc.base, tc.limit, tc.n, got, tc.want)
		}
	}
}

// TestJitter: a retry waits between half the backoff and all of it, both
// ends included, down to the nanosecond.
func TestJitter(t *testing.T) {
	if w := Jitter(-time.Second); w != 0 {
		t.Errorf("Jitter(-1s) = %v, want 0", w)
	}
	for _, d := range []time.Duration{0, time.Nanosecond, 2, 3, time.Second, time.Minute} {
		lo, hi := d, time.Duration(0)
		for range 2000 {
			w := Jitter(d)
			lo, hi = min(lo, w), max(hi, w)
		}
		if lo < d/2 || hi > d {
			t.Errorf("Jitter(%v) in [%v, %v], want within [%v, %v]", d, lo, hi, d/2, d)
		}
		if d >= time.Second && (lo > d/2+d/10 || hi < d-d/10) {
			t.Errorf("Jitter(%v) in [%v, %v]: not spread over [%v, %v]", d, lo, hi, d/2, d)
		}
	}
}
