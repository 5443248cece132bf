package collector

import (
	"context"
	"sync"
	"time"
)

// Refresh refreshes every collector once, concurrently, each with the given
// deadline, and returns when all are done: Run's refresh, at a test's pace.
func (e *Exporter) Refresh(ctx context.Context, deadline time.Time) {
	var wg sync.WaitGroup
	for _, j := range e.jobs {
		wg.Go(func() { _ = e.refresh(ctx, j, deadline, e.retryDelay) })
	}
	wg.Wait()
}
