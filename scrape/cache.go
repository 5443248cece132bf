package scrape

import (
	"sync"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// flights lets scrapes of one format that arrive while its per-scrape part
// is being gathered and encoded share those bytes, instead of each
// gathering again: under 20 concurrent scrapers the work, and the memory it
// holds at once, stays that of a few. (promhttp's CoalesceGather does the
// same for the gather.)
type flights struct {
	mu      sync.Mutex
	running map[flightKey]*flight
}

type flightKey struct {
	series.Key
	snap *series.Snapshot
}

type flight struct {
	done chan struct{}
	b    []byte
	err  error
}

// do returns what fn returns, from the call of fn for k already running, or
// from a new one.
func (f *flights) do(k flightKey, fn func() ([]byte, error)) ([]byte, error) {
	f.mu.Lock()
	if running := f.running[k]; running != nil {
		f.mu.Unlock()
		<-running.done
		return running.b, running.err
	}
	if f.running == nil {
		f.running = map[flightKey]*flight{}
	}
	fl := &flight{done: make(chan struct{})}
	f.running[k] = fl
	f.mu.Unlock()

	fl.b, fl.err = fn()
	f.mu.Lock()
	delete(f.running, k)
	f.mu.Unlock()
	close(fl.done)
	return fl.b, fl.err
}
