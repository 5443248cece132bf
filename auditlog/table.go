package auditlog

import (
	"sync"
	"time"
)

// maxFailingIdentifiers bounds the identifiers kept for their failures
// alone: an identifier that failed is what a client typed, attacker-
// controlled. Past the bound, their failures are counted without them.
// (Identifiers that authenticated are API keys that exist: bounded by the
// organisation's keys.)
const maxFailingIdentifiers = 10000

// table folds authentications: per identifier, the newest successful
// authentication and the failures. Its memory follows the number of keys,
// not of records.
type table struct {
	mu       sync.Mutex
	ids      map[string]*identifier
	failing  map[string]*identifier // the identifiers with failures, a few of ids
	failOnly int                    // identifiers that never succeeded
	overflow uint64                 // failures of identifiers past maxFailingIdentifiers
	version  uint64                 // changes when a newest success or the failures change
}

type identifier struct {
	lastSuccess time.Time
	failures    uint64
	// reportedUnknown is the part of failures already reported while the
	// identifier was not a listed key: it stays under key_id="" for ever,
	// so that both counters only grow when the identifier is listed later.
	reportedUnknown uint64
}

func newTable() *table {
	return &table{ids: map[string]*identifier{}, failing: map[string]*identifier{}}
}

// add folds one authentication in. The newest success wins whatever order
// the records come in: partitions are ordered only within themselves.
func (t *table) add(a authentication) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := t.ids[a.identifier]
	if id == nil {
		if !a.success && t.failOnly >= maxFailingIdentifiers {
			t.overflow++
			t.version++
			return
		}
		id = &identifier{}
		t.ids[a.identifier] = id
		if !a.success {
			t.failOnly++
		}
	} else if a.success && id.lastSuccess.IsZero() && id.failures > 0 {
		t.failOnly-- // it is a key after all
	}
	if a.success {
		if a.at.After(id.lastSuccess) {
			id.lastSuccess = a.at
			t.version++
		}
		return
	}
	id.failures++
	t.failing[a.identifier] = id
	t.version++
}

// Key is what the audit log says of one listed API key.
type Key struct {
	ID          string
	LastSuccess time.Time // zero: no successful authentication seen
	Failures    uint64    // failed authentications since the key was first listed, or since the start
}

// lastSuccesses returns the listed keys that authenticated, with when
// they last did. An identifier becomes a key only when it is listed: one a
// client typed never does.
func (t *table) lastSuccesses(listed func(id string) bool) []Key {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Key
	for name, id := range t.ids {
		if !id.lastSuccess.IsZero() && listed(name) {
			out = append(out, Key{ID: name, LastSuccess: id.lastSuccess})
		}
	}
	return out
}

// failures returns the listed keys that failed, with how often, and the
// failures of every identifier that is no listed key. Both only grow: the
// failures an identifier had while it was not listed stay with the
// unknown ones once it is.
func (t *table) failures(listed func(id string) bool) (keys []Key, unknown uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	unknown = t.overflow
	for name, id := range t.failing {
		if !listed(name) {
			id.reportedUnknown = id.failures
			unknown += id.failures
			continue
		}
		unknown += id.reportedUnknown
		if own := id.failures - id.reportedUnknown; own > 0 {
			keys = append(keys, Key{ID: name, Failures: own})
		}
	}
	return keys, unknown
}
