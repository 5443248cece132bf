package auditlog

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// benchRecords are records as the simulated audit log writes them: an
// authentication and other events (authorizations, first fetches,
// control-plane requests).
func benchRecords(b *testing.B) (auth []byte, others [][]byte) {
	b.Helper()
	broker, err := sim.StartAuditLog(nil, sim.AuditLogOptions{APIKey: "K", Secret: "s"})
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	return broker.Sample()
}

// BenchmarkDecode: what one record costs the reader, by kind. Other event
// types are classified from their type alone (nine records in ten of a
// real audit log); an authentication is parsed.
func BenchmarkDecode(b *testing.B) {
	auth, others := benchRecords(b)
	at := time.Now()
	b.Run("kind=other", func(b *testing.B) {
		var d decoder
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if k, _ := d.decode(others[n%len(others)], at); k != KindOther {
				b.Fatal(k)
			}
			n++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("kind=authentication", func(b *testing.B) {
		var d decoder
		b.ReportAllocs()
		for b.Loop() {
			if k, _ := d.decode(auth, at); k != KindAuthentication {
				b.Fatal(k)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

// BenchmarkSave: saving the state of 100,000 keys. "copy" is the copy of
// the state under the reader's lock, a chunk at a time, with the longest
// hold of the lock: the longest reading waits for a save. "save" is the
// whole save: the copy, the encoding and the write (temporary file, fsync,
// rename), of which reading waits for the copy's holds alone.
func BenchmarkSave(b *testing.B) {
	const keys = 100000
	r := NewReader("acme", Config{Lookback: 7 * 24 * time.Hour, StateFile: filepath.Join(b.TempDir(), "audit-log-acme.json")}, nil)
	ids := make([]string, keys)
	for i := range ids {
		ids[i] = fmt.Sprintf("KEY%013d", i)
	}
	r.SetListed(ids)
	now := time.Now()
	for i, id := range ids {
		if i%4 != 0 { // three keys in four were used
			r.table.add(authentication{identifier: id, success: true, at: now.Add(-time.Duration(i) * time.Second)}, now.UnixNano())
		}
	}
	r.source = logSource{Cluster: "lkc-a0d17", Topic: DefaultTopic, TopicID: "0011"}
	for p := range int32(6) {
		r.parts[p] = &position{next: 1 << 20, since: now.Add(-7 * 24 * time.Hour).UnixNano()}
	}
	b.Run("copy", func(b *testing.B) {
		// The copy holds the reader's lock once for the head (pruning,
		// the offsets) and once per chunk of rows: the longest hold is
		// the longest reading can wait for a save.
		var longest time.Duration
		chunk := make([]entry, copyChunk)
		b.ReportAllocs()
		for b.Loop() {
			t := time.Now()
			_, _, rows := r.snapshotHead(now)
			longest = max(longest, time.Since(t))
			for from := 0; from < rows; from += copyChunk {
				t := time.Now()
				r.copyRows(chunk, from, min(from+copyChunk, rows))
				longest = max(longest, time.Since(t))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/op")
		b.ReportMetric(float64(longest.Microseconds())/1000, "longest-hold-ms")
	})
	b.Run("save", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.changes++
			r.save()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/op")
		if r.Status().StateErrors[OpSave] > 0 {
			b.Fatal("a save failed")
		}
		info, _ := os.Stat(r.cfg.StateFile)
		b.ReportMetric(float64(info.Size())/(1<<20), "MiB")
	})
}
