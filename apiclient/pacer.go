package apiclient

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// pacer admits the requests of one organisation (the rate limit is per
// organisation and user, not per endpoint), by what the API said last:
//
//   - after a 429, or a window used up (X-RateLimit-Remaining 0), no
//     request until the wait it asked for has passed;
//   - when that wait ends, one request at a time, until an answer shows
//     quota left: the lists that waited do not all ask again at once;
//   - never more requests in flight than the last X-RateLimit-Remaining.
//
// Every list shares the organisation's quota with Terraform, the CLI and
// the other replicas: a request sent while the organisation is blocked
// spends it for nothing.
type pacer struct {
	mu           sync.Mutex
	blockedUntil time.Time
	probing      bool // a block ended and no answer has shown quota left since
	remaining    int  // the last X-RateLimit-Remaining, -1 when none was seen
	inflight     int
	changed      chan struct{} // closed, and replaced, whenever a waiter may go
}

func newPacer() *pacer { return &pacer{remaining: -1, changed: make(chan struct{})} }

// wakeLocked lets the waiters look again. p.mu is held.
func (p *pacer) wakeLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// allowedLocked is how many requests may be in flight now; 0 while blocked.
func (p *pacer) allowedLocked(now time.Time) int {
	switch {
	case now.Before(p.blockedUntil):
		return 0
	case p.probing:
		return 1
	case p.remaining >= 0:
		return max(p.remaining, 1) // 0 with no reset said: the block after it has passed
	}
	return int(^uint(0) >> 1)
}

// acquire waits until one more request may go, and counts it in flight;
// release must follow. When the block ends past ctx's deadline it gives up
// at once (a RateLimitedError) rather than wait in vain.
func (p *pacer) acquire(ctx context.Context, endpoint string) error {
	for {
		p.mu.Lock()
		now := time.Now()
		if p.inflight < p.allowedLocked(now) {
			p.inflight++
			p.mu.Unlock()
			return nil
		}
		until, changed := p.blockedUntil, p.changed
		p.mu.Unlock()
		if deadline, ok := ctx.Deadline(); ok && deadline.Before(until) {
			return &RateLimitedError{Endpoint: endpoint, Wait: time.Until(until).Round(time.Second).String()}
		}
		// Until the block ends, or a request in flight ends (not blocked,
		// only an end wakes it; the hour is a bound, never reached).
		wait := until.Sub(now)
		if wait <= 0 {
			wait = time.Hour
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: waiting for the rate limit: %w", endpoint, ctx.Err())
		case <-t.C:
		case <-changed:
		}
		t.Stop()
	}
}

// release ends a request admitted by acquire, with what its answer said of
// the rate limit: rl (Limit -1 without headers), and whether it was a 429.
func (p *pacer) release(rl RateLimit, limited bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if rl.Remaining >= 0 {
		p.remaining = rl.Remaining
	}
	if !limited && rl.Remaining != 0 {
		p.probing = false // quota left (or no word of it): the waiters may go
	}
	p.wakeLocked()
}

// cancel ends a request admitted by acquire that got no answer.
func (p *pacer) cancel() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	p.wakeLocked()
}

// block holds back every request until t, plus a jitter of up to a tenth of
// the wait (at most a second), so that the replicas and tools that share an
// organisation's quota do not all ask again at the same instant; after it,
// one request at a time until an answer shows quota left.
func (p *pacer) block(t time.Time) {
	if wait := time.Until(t); wait > 0 {
		t = t.Add(rand.N(min(wait/10, time.Second) + 1))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.blockedUntil) {
		p.blockedUntil = t
	}
	p.probing = true
	p.wakeLocked()
}
