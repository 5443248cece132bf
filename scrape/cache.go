package scrape

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
)

// key is what a scrape negotiated: the format (with its escaping scheme) and
// whether the body is gzip-compressed.
type key struct {
	format expfmt.Format
	gzip   bool
}

// cache holds the encodings of one snapshot: the latest one a scrape or Warm
// saw. A newer snapshot replaces the whole entry, so a scrape writes the
// bytes of one complete refresh or of the previous one, never a mix.
type cache struct {
	current atomic.Pointer[entry]

	mu   sync.Mutex
	used map[key]time.Time // the formats scraped, with when each was last
}

// keepFormat is how long after its last scrape a format is still encoded
// ahead by Warm: longer than any sensible scrape interval, so that one
// curl's identity text is not kept, and re-encoded, for ever.
var keepFormat = 10 * time.Minute

type entry struct {
	snap *collector.Snapshot

	mu        sync.Mutex
	encodings map[key]*encoding
}

// encoding is one snapshot in one format, encoded once: the first scrape
// that asks for it encodes, the others of that format wait for it.
type encoding struct {
	once sync.Once
	b    []byte
	err  error
}

// entry returns the entry of snap, replacing an older one.
func (c *cache) entry(snap *collector.Snapshot) *entry {
	for {
		cur := c.current.Load()
		if cur != nil && cur.snap == snap {
			return cur
		}
		e := &entry{snap: snap, encodings: map[key]*encoding{}}
		if c.current.CompareAndSwap(cur, e) {
			return e
		}
	}
}

// seen returns the formats scraped within keepFormat, and forgets the
// others.
func (c *cache) seen() map[key]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[key]bool{}
	for k, at := range c.used {
		if time.Since(at) > keepFormat {
			delete(c.used, k)
			continue
		}
		out[k] = true
	}
	return out
}

func (c *cache) note(k key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used == nil {
		c.used = map[key]time.Time{}
	}
	c.used[k] = time.Now()
}

// keep drops the encodings of formats not in keys.
func (e *entry) keep(keys map[key]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.encodings {
		if !keys[k] {
			delete(e.encodings, k)
		}
	}
}

// bytes returns the snapshot's families in k's format, without the end of
// the exposition (the dynamic part follows), encoding them on first use.
func (e *entry) bytes(k key) ([]byte, error) {
	e.mu.Lock()
	enc := e.encodings[k]
	if enc == nil {
		enc = &encoding{}
		e.encodings[k] = enc
	}
	e.mu.Unlock()
	enc.once.Do(func() {
		var buf bytes.Buffer
		enc.err = encodeSnapshot(&buf, k, e.snap)
		enc.b = bytes.Clone(buf.Bytes()) // not the buffer's spare room: these bytes are kept
	})
	return enc.b, enc.err
}

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
	key
	snap *collector.Snapshot
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
