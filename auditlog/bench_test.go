package auditlog

import (
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
