package auditlog

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func listedAs(ids ...string) func(string) bool {
	return func(id string) bool { return slices.Contains(ids, id) }
}

// TestNewestSuccessWins: partitions are ordered only within themselves; a
// success read after a newer one never takes its place, and a failure
// never counts as a use.
func TestNewestSuccessWins(t *testing.T) {
	tb := newTable()
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	tb.add(authentication{"K1", true, t0.Add(2 * time.Hour)})
	v := tb.version
	tb.add(authentication{"K1", true, t0.Add(time.Hour)})        // older, from another partition
	tb.add(authentication{"K1", false, t0.Add(3 * time.Hour)})   // a failure, newer
	tb.add(authentication{"K2", true, t0.Add(30 * time.Minute)}) //
	if tb.version != v+2 {
		t.Errorf("version %d, want %d: a new newest success and a failure change it, an older success does not", tb.version, v+2)
	}
	got := tb.lastSuccesses(listedAs("K1", "K2"))
	slices.SortFunc(got, func(a, b Key) int { return strings.Compare(a.ID, b.ID) })
	want := []Key{{ID: "K1", LastSuccess: t0.Add(2 * time.Hour)}, {ID: "K2", LastSuccess: t0.Add(30 * time.Minute)}}
	if !slices.Equal(got, want) {
		t.Errorf("lastSuccesses = %v, want %v", got, want)
	}
	if got := tb.lastSuccesses(listedAs("K2")); len(got) != 1 || got[0].ID != "K2" {
		t.Errorf("lastSuccesses of K2 only = %v", got)
	}
}

// TestFailuresOfUnknownIdentifiers: an identifier that is no listed key is
// never returned as a key; its failures are counted together, and stay
// there once it is listed, so that both counts only grow.
func TestFailuresOfUnknownIdentifiers(t *testing.T) {
	tb := newTable()
	now := time.Now()
	for range 3 {
		tb.add(authentication{"DELETED", false, now})
		tb.add(authentication{"' OR 1=1 --", false, now})
	}
	tb.add(authentication{"K1", false, now})
	keys, unknown := tb.failures(listedAs("K1"))
	if !slices.Equal(keys, []Key{{ID: "K1", Failures: 1}}) || unknown != 6 {
		t.Fatalf("failures = %v, unknown %d; want K1:1, unknown 6", keys, unknown)
	}
	// DELETED turns out to be a key listed since the start (created later,
	// say): what was reported unknown stays unknown, and it has no failures
	// of its own until it fails again.
	keys, unknown = tb.failures(listedAs("K1", "DELETED"))
	if !slices.Equal(keys, []Key{{ID: "K1", Failures: 1}}) || unknown != 6 {
		t.Errorf("once DELETED is listed: %v, unknown %d; want K1:1, unknown 6", keys, unknown)
	}
	tb.add(authentication{"DELETED", false, now})
	keys, unknown = tb.failures(listedAs("K1", "DELETED"))
	slices.SortFunc(keys, func(a, b Key) int { return strings.Compare(a.ID, b.ID) })
	if !slices.Equal(keys, []Key{{ID: "DELETED", Failures: 1}, {ID: "K1", Failures: 1}}) || unknown != 6 {
		t.Errorf("after DELETED is listed: %v, unknown %d; want DELETED:1 K1:1, unknown 6", keys, unknown)
	}
}

// TestFailingIdentifiersBounded: identifiers that only ever failed are
// attacker-controlled: past the bound their failures are counted without
// keeping them, and a key that exists still has its own count.
func TestFailingIdentifiersBounded(t *testing.T) {
	tb := newTable()
	now := time.Now()
	tb.add(authentication{"K1", true, now})
	for i := range maxFailingIdentifiers + 500 {
		tb.add(authentication{fmt.Sprintf("random-%d", i), false, now})
	}
	tb.add(authentication{"K1", false, now})
	if n := len(tb.ids); n > maxFailingIdentifiers+1 {
		t.Errorf("%d identifiers kept, want at most %d", n, maxFailingIdentifiers+1)
	}
	keys, unknown := tb.failures(listedAs("K1"))
	if !slices.Equal(keys, []Key{{ID: "K1", Failures: 1}}) || unknown != maxFailingIdentifiers+500 {
		t.Errorf("failures = %v, unknown %d; want K1:1, unknown %d", keys, unknown, maxFailingIdentifiers+500)
	}
}

// TestAKeyAfterAllIsNoFailingIdentifier: an identifier that failed first
// and then authenticated is a key: it no longer counts against the bound of
// identifiers kept for their failures alone, and a failure past the bound
// still changes the version (the failures' series are published by it).
func TestAKeyAfterAllIsNoFailingIdentifier(t *testing.T) {
	tb := newTable()
	now := time.Now()
	for i := range maxFailingIdentifiers {
		tb.add(authentication{fmt.Sprintf("id-%d", i), false, now})
	}
	tb.add(authentication{"id-0", true, now}) // a key after all
	tb.add(authentication{"new-1", false, now})
	if _, ok := tb.ids["new-1"]; !ok || tb.failOnly != maxFailingIdentifiers {
		t.Fatalf("new-1 kept %v, %d identifiers failing only; want kept, %d", ok, tb.failOnly, maxFailingIdentifiers)
	}
	v := tb.version
	tb.add(authentication{"new-2", false, now}) // past the bound
	if _, ok := tb.ids["new-2"]; ok || tb.overflow != 1 || tb.version != v+1 {
		t.Errorf("past the bound: kept %v, overflow %d, version %d (was %d)", ok, tb.overflow, tb.version, v)
	}
	// A listed key whose every failure was reported unknown has none of its own.
	tb.add(authentication{"K", false, now})
	if keys, _ := tb.failures(listedAs()); len(keys) != 0 {
		t.Fatalf("unlisted: %v", keys)
	}
	if keys, _ := tb.failures(listedAs("K")); len(keys) != 0 {
		t.Errorf("a key with no failure of its own since it was listed: %v", keys)
	}
}
