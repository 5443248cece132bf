package auditlog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func byID(keys []Key) []Key {
	slices.SortFunc(keys, func(a, b Key) int { return strings.Compare(a.ID, b.ID) })
	return keys
}

// TestNewestSuccessWins: partitions are ordered only within themselves; a
// success read after a newer one never takes its place, and a failure
// never counts as a use. Only keys of the latest list are returned.
func TestNewestSuccessWins(t *testing.T) {
	tb := newTable()
	now := t0.UnixNano()
	tb.setListed([]string{"K1", "K2"}, now)
	tb.add(authentication{"K1", true, t0.Add(2 * time.Hour), false}, now)
	v := tb.version
	tb.add(authentication{"K1", true, t0.Add(time.Hour), false}, now)        // older, from another partition
	tb.add(authentication{"K1", false, t0.Add(3 * time.Hour), false}, now)   // a failure, newer
	tb.add(authentication{"K2", true, t0.Add(30 * time.Minute), false}, now) //
	tb.add(authentication{"K3", true, t0.Add(30 * time.Minute), false}, now) // not listed
	if tb.version != v+3 {
		t.Errorf("version %d, want %d: a new newest success and a failure change it, an older success does not", tb.version, v+3)
	}
	want := []Key{{ID: "K1", LastSuccess: t0.Add(2 * time.Hour)}, {ID: "K2", LastSuccess: t0.Add(30 * time.Minute)}}
	if got := byID(tb.lastSuccesses()); !slices.Equal(got, want) {
		t.Errorf("lastSuccesses = %v, want %v", got, want)
	}
	// K3 is listed later: its success was kept, K2 is gone from the list.
	tb.setListed([]string{"K1", "K3"}, now+1)
	want = []Key{{ID: "K1", LastSuccess: t0.Add(2 * time.Hour)}, {ID: "K3", LastSuccess: t0.Add(30 * time.Minute)}}
	if got := byID(tb.lastSuccesses()); !slices.Equal(got, want) {
		t.Errorf("after a new list: lastSuccesses = %v, want %v", got, want)
	}
}

// TestFailuresOfUnknownIdentifiers: an identifier that is no listed key is
// never returned as a key; its failures are counted together, and stay
// there once it is listed, so that both counts only grow.
func TestFailuresOfUnknownIdentifiers(t *testing.T) {
	tb := newTable()
	now := t0.UnixNano()
	tb.setListed([]string{"K1"}, now)
	for range 3 {
		tb.add(authentication{"DELETED", false, t0, false}, now)
		tb.add(authentication{"' OR 1=1 --", false, t0, false}, now)
	}
	tb.add(authentication{"K1", false, t0, false}, now)
	keys, unknown := tb.failures()
	if !slices.Equal(keys, []Key{{ID: "K1", Failures: 1}}) || unknown != 6 {
		t.Fatalf("failures = %v, unknown %d; want K1:1, unknown 6", keys, unknown)
	}
	// DELETED turns out to be a key (created later, say): what was
	// reported unknown stays unknown, and it has no failures of its own
	// until it fails again.
	tb.setListed([]string{"K1", "DELETED"}, now+1)
	keys, unknown = tb.failures()
	if !slices.Equal(keys, []Key{{ID: "K1", Failures: 1}}) || unknown != 6 {
		t.Errorf("once DELETED is listed: %v, unknown %d; want K1:1, unknown 6", keys, unknown)
	}
	tb.add(authentication{"DELETED", false, t0, false}, now)
	keys, unknown = tb.failures()
	if want := []Key{{ID: "DELETED", Failures: 1}, {ID: "K1", Failures: 1}}; !slices.Equal(byID(keys), want) || unknown != 6 {
		t.Errorf("after DELETED is listed: %v, unknown %d; want %v, unknown 6", keys, unknown, want)
	}
	// A key listed once and then deleted keeps its own count while it
	// was listed within the lookback.
	tb.setListed([]string{"K1"}, now+2)
	tb.add(authentication{"DELETED", false, t0, false}, now)
	if keys, _ = tb.failures(); !slices.Equal(byID(keys), []Key{{ID: "DELETED", Failures: 2}, {ID: "K1", Failures: 1}}) {
		t.Errorf("a deleted key's failures: %v, want DELETED:2", keys)
	}
}

// TestListedKeysAlwaysKeepTheirFailures: identifiers that only ever failed
// are attacker-controlled: past the bound their failures are counted
// without keeping them; a listed key's failures are its own however many
// random identifiers came first, listed before them or after.
func TestListedKeysAlwaysKeepTheirFailures(t *testing.T) {
	tb := newTable()
	now := t0.UnixNano()
	tb.setListed([]string{"K1"}, now)
	for i := range maxFailingIdentifiers + 500 {
		tb.add(authentication{fmt.Sprintf("random-%d", i), false, t0, false}, now)
	}
	tb.setListed([]string{"K1", "K2"}, now+1) // K2 created after the flood
	tb.add(authentication{"K1", false, t0, false}, now)
	tb.add(authentication{"K2", false, t0, false}, now)
	if n := len(tb.rows); n > maxFailingIdentifiers+2 {
		t.Errorf("%d identifiers kept, want at most %d", n, maxFailingIdentifiers+2)
	}
	keys, unknown := tb.failures()
	if want := []Key{{ID: "K1", Failures: 1}, {ID: "K2", Failures: 1}}; !slices.Equal(byID(keys), want) || unknown != maxFailingIdentifiers+500 {
		t.Errorf("failures = %v, unknown %d; want %v, unknown %d", keys, unknown, want, maxFailingIdentifiers+500)
	}
}

// TestLongIdentifiersAreNeverKept: what no API key can be is counted,
// never kept, whether it failed or (a hostile log) succeeded.
func TestLongIdentifiersAreNeverKept(t *testing.T) {
	tb := newTable()
	now := t0.UnixNano()
	long := strings.Repeat("A", maxIdentifierBytes+1)
	tb.add(authentication{long, false, t0, false}, now)
	tb.add(authentication{long, true, t0, false}, now)
	tb.add(authentication{strings.Repeat("B", maxIdentifierBytes), false, t0, false}, now)
	if _, ok := tb.index[long]; ok || len(tb.rows) != 1 || tb.overflow != 1 {
		t.Errorf("kept %d identifiers (the long one: %v), overflow %d; want the 255-byte one only, overflow 1", len(tb.rows), ok, tb.overflow)
	}
}

// TestAKeyAfterAllIsNoFailingIdentifier: an identifier that failed first
// and then authenticated or was listed is a key: it no longer counts
// against the bound, and a failure past the bound still changes the
// version (the failures' series are published by it).
func TestAKeyAfterAllIsNoFailingIdentifier(t *testing.T) {
	tb := newTable()
	now := t0.UnixNano()
	for i := range maxFailingIdentifiers {
		tb.add(authentication{fmt.Sprintf("id-%d", i), false, t0, false}, now)
	}
	tb.add(authentication{"id-0", true, t0, false}, now) // a key after all
	tb.setListed([]string{"id-1"}, now)                  // and a listed one
	tb.add(authentication{"new-1", false, t0, false}, now)
	tb.add(authentication{"new-2", false, t0, false}, now)
	if tb.failOnly != maxFailingIdentifiers {
		t.Fatalf("%d identifiers failing only, want %d", tb.failOnly, maxFailingIdentifiers)
	}
	v := tb.version
	tb.add(authentication{"new-3", false, t0, false}, now) // past the bound
	if _, ok := tb.index["new-3"]; ok || tb.overflow != 1 || tb.version != v+1 {
		t.Errorf("past the bound: kept %v, overflow %d, version %d (was %d)", ok, tb.overflow, tb.version, v)
	}
}

// TestPruneFollowsTheLatestList: a key no list named for longer than the
// lookback before the latest list is forgotten, as is the success of an
// identifier never listed; nothing goes while no list came, and what was
// counted under key_id="" stays counted.
func TestPruneFollowsTheLatestList(t *testing.T) {
	lookback := 7 * 24 * time.Hour
	day := int64(24 * time.Hour)
	tb := newTable()
	tb.add(authentication{"NEVER-LISTED", true, t0, false}, t0.UnixNano())
	tb.prune(lookback)
	if len(tb.rows) != 1 {
		t.Fatal("pruned before any list")
	}
	tb.setListed([]string{"OLD", "KEEP"}, t0.UnixNano())
	tb.add(authentication{"OLD", true, t0, false}, t0.UnixNano())
	tb.add(authentication{"TYPED", false, t0, false}, t0.UnixNano())
	_, before := tb.failures()
	tb.setListed([]string{"KEEP"}, t0.UnixNano()+6*day)
	tb.prune(lookback)
	if len(tb.rows) != 4 {
		t.Errorf("six days on: %d identifiers, want 4 (nothing older than the lookback)", len(tb.rows))
	}
	tb.setListed([]string{"KEEP"}, t0.UnixNano()+8*day)
	tb.prune(lookback)
	var kept []string
	for id := range tb.index {
		kept = append(kept, id)
	}
	slices.Sort(kept)
	if !slices.Equal(kept, []string{"KEEP", "TYPED"}) {
		t.Errorf("eight days on: kept %v, want KEEP and TYPED (failures only, bounded apart)", kept)
	}
	if _, after := tb.failures(); after < before {
		t.Errorf("unknown failures went from %d to %d", before, after)
	}
}
