package auditlog

import (
	"time"
)

// The bounds of what a client typed: an identifier that only ever failed
// is attacker-controlled. At most maxFailingIdentifiers of them are kept,
// none longer than maxIdentifierBytes (under 4 MiB in all); the failures
// of any other are counted without it. Identifiers that authenticated, or
// that the API listed, are API keys that exist: bounded by the
// organisation's keys.
const (
	maxFailingIdentifiers = 10000
	maxIdentifierBytes    = 255
)

// table folds authentications: per identifier, the newest successful
// authentication and the failures, and when the API last listed it. Its
// memory follows the number of keys, not of records. The Reader guards it
// with its mutex. Entries are rows of one slice, which only grows but in
// prune: a save copies it a chunk at a time, so that reading never waits
// for a copy of the whole.
type table struct {
	index    map[string]int // identifier → row
	rows     []entry
	failOnly int    // identifiers kept that never succeeded and were never listed
	overflow uint64 // failures of identifiers not kept
	// latestList is when the latest complete list of keys was given
	// (SetListed), Unix nanoseconds; 0 before the first.
	latestList int64
	version    uint64 // changes with what lastSuccesses or failures return
}

type entry struct {
	id          string
	lastSuccess int64 // Unix nanoseconds; 0: no successful authentication seen
	listed      int64 // when a list last named it, Unix nanoseconds; 0: never
	added       int64 // when it was first seen, Unix nanoseconds
	failures    uint64
	// reportedUnknown is the part of failures already reported while the
	// identifier was not a listed key: it stays under key_id="" for ever,
	// so that both counters only grow when the identifier is listed later.
	reportedUnknown uint64
}

func newTable() table { return table{index: map[string]int{}} }

// get returns id's entry, nil if there is none. It is valid until rows
// change.
func (t *table) get(id string) *entry {
	if i, ok := t.index[id]; ok {
		return &t.rows[i]
	}
	return nil
}

// put adds an entry for id, added at now, and returns it.
func (t *table) put(id string, now int64) *entry {
	t.index[id] = len(t.rows)
	t.rows = append(t.rows, entry{id: id, added: now})
	return &t.rows[len(t.rows)-1]
}

// failingOnly reports whether e counts against maxFailingIdentifiers.
func (e *entry) failingOnly() bool { return e.lastSuccess == 0 && e.listed == 0 }

// add folds one authentication in, at now (Unix nanoseconds). The newest
// success wins whatever order the records come in: partitions are ordered
// only within themselves.
func (t *table) add(a authentication, now int64) {
	e := t.get(a.identifier)
	if e == nil {
		if !a.success && (t.failOnly >= maxFailingIdentifiers || len(a.identifier) > maxIdentifierBytes) {
			t.overflow++
			t.version++
			return
		}
		if len(a.identifier) > maxIdentifierBytes {
			return // no API key is that long: what succeeded is no key of the list
		}
		e = t.put(a.identifier, now)
		if !a.success {
			t.failOnly++
		}
	} else if a.success && e.failingOnly() {
		t.failOnly-- // it is a key after all
	}
	if a.success {
		if at := a.at.UnixNano(); at > e.lastSuccess {
			e.lastSuccess = at
			t.version++
		}
		return
	}
	e.failures++
	t.version++
}

// setListed notes the keys of a complete list, made at now.
func (t *table) setListed(ids []string, now int64) {
	for _, id := range ids {
		e := t.get(id)
		if e == nil {
			e = t.put(id, now)
		} else if e.failingOnly() {
			t.failOnly--
		}
		e.listed = now
	}
	t.latestList = now
	t.version++
}

// known reports whether a list has been given: before, no identifier can
// be told from what a client typed.
func (t *table) known() bool { return t.latestList != 0 }

// current reports whether e was in the latest list.
func (t *table) current(e *entry) bool { return t.latestList != 0 && e.listed == t.latestList }

// Key is what the audit log says of one listed API key.
type Key struct {
	ID          string
	LastSuccess time.Time // zero: no successful authentication seen
	Failures    uint64    // failed authentications since the reader started, while the key was listed
}

// lastSuccesses returns the keys of the latest list that authenticated,
// with when they last did. An identifier becomes a key only when it is
// listed: one a client typed never does.
func (t *table) lastSuccesses() []Key {
	var out []Key
	for i := range t.rows {
		if e := &t.rows[i]; e.lastSuccess != 0 && t.current(e) {
			out = append(out, Key{ID: e.id, LastSuccess: time.Unix(0, e.lastSuccess).UTC()})
		}
	}
	return out
}

// failures returns the keys listed within the lookback (a deleted key an
// application still tries keeps its name) that failed, with how often, and
// the failures of every other identifier. Both only grow: the failures an
// identifier had while it was not listed stay with the unknown ones once
// it is.
func (t *table) failures() (keys []Key, unknown uint64) {
	unknown = t.overflow
	for i := range t.rows {
		e := &t.rows[i]
		if e.failures == 0 {
			continue
		}
		if e.listed == 0 {
			e.reportedUnknown = e.failures
			unknown += e.failures
			continue
		}
		unknown += e.reportedUnknown
		if own := e.failures - e.reportedUnknown; own > 0 {
			keys = append(keys, Key{ID: e.id, Failures: own})
		}
	}
	return keys, unknown
}

// prune drops what the lookback has left behind: keys no list has named
// for longer than lookback before the latest list, and successes of
// identifiers never listed, first seen that long before it. Nothing is
// dropped before a list is known: the latest list is the clock, so a list
// that keeps failing drops nothing.
func (t *table) prune(lookback time.Duration) {
	if !t.known() {
		return
	}
	horizon := t.latestList - lookback.Nanoseconds()
	for i := 0; i < len(t.rows); {
		e := &t.rows[i]
		stale := e.listed != 0 && e.listed < horizon || e.listed == 0 && e.lastSuccess != 0 && e.added < horizon
		if !stale {
			i++
			continue
		}
		// What was counted under key_id="" stays counted there.
		if e.listed != 0 {
			t.overflow += e.reportedUnknown
		} else {
			t.overflow += e.failures
		}
		delete(t.index, e.id)
		last := len(t.rows) - 1
		if i != last {
			t.rows[i] = t.rows[last]
			t.index[t.rows[i].id] = i
		}
		t.rows = t.rows[:last]
		t.version++
	}
}

// appendKeys appends what is kept across restarts of rows: every key
// listed or with a success. Failures are counters since the start.
func appendKeys(out []stateKey, rows []entry) []stateKey {
	for _, e := range rows {
		if e.listed != 0 || e.lastSuccess != 0 {
			out = append(out, stateKey{ID: e.id, LastSuccess: e.lastSuccess, Listed: e.listed, Added: e.added})
		}
	}
	return out
}

// restore puts back what keys saved; latestList is the saved latest list.
func (t *table) restore(keys []stateKey, latestList int64) {
	for _, k := range keys {
		e := t.get(k.ID)
		if e == nil {
			e = t.put(k.ID, k.Added)
		}
		e.lastSuccess, e.listed, e.added = k.LastSuccess, k.Listed, k.Added
	}
	t.latestList = latestList
	t.version++
}
