package collector

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// Refresh refreshes every collector once, concurrently, each with the given
// deadline, and returns when all are done: Run's refresh, at a test's pace.
func (e *Refresher) Refresh(ctx context.Context, deadline time.Time) {
	var wg sync.WaitGroup
	for _, j := range e.jobs {
		wg.Go(func() { _ = e.refresh(ctx, j, deadline, e.retryDelay) })
	}
	wg.Wait()
}

// recorder keeps the snapshot a refresher published last, and hands it on
// to the test's own publisher, if any.
type recorder struct {
	last atomic.Pointer[series.Snapshot]
	next Publisher
}

func (r *recorder) Publish(s *series.Snapshot) {
	r.last.Store(s)
	if r.next != nil {
		r.next.Publish(s)
	}
}

var recorders sync.Map // *Refresher → *recorder

// newRefresher is New, keeping what the refresher publishes (snapshotOf).
func newRefresher(l Lister, opts Options) *Refresher {
	rec := &recorder{next: opts.Publish}
	opts.Publish = rec
	r := New(l, opts)
	recorders.Store(r, rec)
	return r
}

// snapshotOf is what r published last; an empty snapshot before.
func snapshotOf(r *Refresher) *series.Snapshot {
	if rec, ok := recorders.Load(r); ok {
		if s := rec.(*recorder).last.Load(); s != nil {
			return s
		}
	}
	return series.New()
}

// publishFunc is a Publisher of a function.
type publishFunc func(*series.Snapshot)

func (f publishFunc) Publish(s *series.Snapshot) { f(s) }
