package apiclient

import (
	"context"
	"errors"
	"testing"
	"time"
)

// try is acquire that does not wait: nil when a request may go now.
func try(p *pacer) error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return p.acquire(ctx, "test")
}

// TestPacerAfterABlock: nothing goes while blocked; when the block ends,
// one request at a time until an answer shows quota left; then no more in
// flight than the last X-RateLimit-Remaining.
func TestPacerAfterABlock(t *testing.T) {
	p := newPacer()
	for range 3 { // no word of a limit yet: no bound
		if err := try(p); err != nil {
			t.Fatalf("before any answer: %v", err)
		}
	}
	for range 3 {
		p.cancel()
	}

	p.block(time.Now().Add(50 * time.Millisecond))
	if err := try(p); err == nil {
		t.Fatal("a request went while the organisation was blocked")
	}
	// Wait for the block to end (acquire itself waits for it).
	if err := p.acquire(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
	if err := try(p); err == nil {
		t.Fatal("two requests at once right after a block: want one until quota shows")
	}
	// An answer with no quota left keeps it to one at a time.
	p.release(RateLimit{Limit: 10, Remaining: 0}, false)
	if err := try(p); err != nil {
		t.Fatalf("the next single request after an answer: %v", err)
	}
	if err := try(p); err == nil {
		t.Fatal("two at once though no answer showed quota left")
	}
	// Quota left: up to Remaining in flight.
	p.release(RateLimit{Limit: 10, Remaining: 3}, false)
	for i := range 3 {
		if err := try(p); err != nil {
			t.Fatalf("request %d of the 3 the quota allows: %v", i+1, err)
		}
	}
	if err := try(p); err == nil {
		t.Fatal("a 4th request in flight with 3 remaining")
	}
	for range 3 {
		p.release(RateLimit{Limit: 10, Remaining: 5}, false)
	}
	// A 429 does not end the one-at-a-time phase; an answer without the
	// headers (no word of the quota) does.
	p.block(time.Now())
	if err := try(p); err != nil {
		t.Fatal(err)
	}
	p.release(RateLimit{Limit: 10, Remaining: 0}, true)
	if err := try(p); err != nil {
		t.Fatal(err)
	}
	if err := try(p); err == nil {
		t.Fatal("two at once after a 429")
	}
	p.release(RateLimit{Limit: -1, Remaining: -1}, false)
	if p.probing || p.inflight != 0 {
		t.Fatalf("after an answer without headers: probing %v, %d in flight; want false, 0", p.probing, p.inflight)
	}
}

// TestPacerWakesWaiters: a request waiting for a slot goes when one ends,
// and one waiting for a block goes when it passes.
func TestPacerWakesWaiters(t *testing.T) {
	p := newPacer()
	if err := try(p); err != nil {
		t.Fatal(err)
	}
	p.release(RateLimit{Limit: 10, Remaining: 1}, false)
	if err := try(p); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.acquire(context.Background(), "test") }()
	p.release(RateLimit{Limit: 10, Remaining: 1}, false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a waiter did not go when the request in flight ended")
	}
}

// TestPacerGivesUpPastTheDeadline: when the block ends after the caller's
// deadline, acquire says so at once, as a RateLimitedError.
func TestPacerGivesUpPastTheDeadline(t *testing.T) {
	p := newPacer()
	p.block(time.Now().Add(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	err := p.acquire(ctx, "iam_api_keys")
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.Endpoint != "iam_api_keys" {
		t.Fatalf("got %v, want a RateLimitedError for iam_api_keys", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %s, want at once", d)
	}
}
