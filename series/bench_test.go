package series

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
)

// The organisations of docs/benchmarks.md: n API keys. `go test -short`
// (the smoke run of make test) uses the first.
var benchSizes = []int{1000, 10000, 100000}

func sizes() []int {
	if testing.Short() {
		return benchSizes[:1]
	}
	return benchSizes
}

// The formats Prometheus scrapes: OpenMetrics (2.x and 3.x) and the text
// format, gzip-compressed.
var benchKeys = []Format{
	{Format: expfmt.FmtOpenMetrics_1_0_0, Gzip: true},
	{Format: expfmt.FmtText, Gzip: true},
}

var (
	benchInfo     = NewGauge("iam", "api_key_info", "An API key.", "key_id", "display_name", "description", "owner_id", "owner_kind", "resource_id", "resource_kind", "environment", "created_by")
	benchCreated  = NewGauge("iam", "api_key_created_timestamp_seconds", "Created.", "key_id")
	benchResource = NewGauge("iam", "api_key_resource_info", "A resource.", "key_id", "resource_id", "resource_kind", "environment")
	benchCount    = NewGauge("iam", "api_keys", "API keys.", "owner_kind", "resource_kind")
)

// benchLists are an organisation's eight lists as the collectors build
// them: the API keys (three series per key) and seven smaller ones, each
// different in every round.
func benchLists(b *testing.B, n, round int) []Families {
	b.Helper()
	out := make([]Families, 8)
	for l := range out {
		bld := NewBuilder("bench")
		switch l {
		case 0:
			for i := range n {
				id := fmt.Sprintf("KEY%012d", i)
				bld.Add(benchInfo, 1, id, "key-"+id, "simulated key", fmt.Sprintf("sa-%05d", i/8), "ServiceAccount",
					fmt.Sprintf("lkc-%04d", i%40), "Cluster", fmt.Sprintf("env-%03d", i%6), "u-00000")
				bld.Add(benchCreated, float64(1700000000+i), id)
				bld.Add(benchResource, 1, id, fmt.Sprintf("lkc-%04d", i%40), "Cluster", fmt.Sprintf("env-%03d", i%6))
			}
			bld.Add(benchCount, float64(n+round), "ServiceAccount", "Cluster")
		default:
			m := NewGauge(fmt.Sprintf("list%d", l), "info", "Names.", "id", "name")
			for i := range 50 * l {
				bld.Add(m, float64(round), fmt.Sprintf("id-%d", i), fmt.Sprintf("name %d", i))
			}
		}
		families, err := bld.Build()
		if err != nil {
			b.Fatal(err)
		}
		out[l] = families
	}
	return out
}

// BenchmarkRefreshRound is one refresh round in which every list changes:
// the exporter publishes a snapshot after each of the eight lists, and each
// is warmed in the formats scraped, as the supervisor does. It reports the
// bytes encoded per round and format as full encodings of the snapshot
// (target: at most 1; before the families kept their encodings, one per
// list changed: 8).
func BenchmarkRefreshRound(b *testing.B) {
	for _, n := range sizes() {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			lists := benchLists(b, n, 0)
			prev := New(lists...)
			for _, k := range benchKeys { // scraped in both formats
				if _, err := prev.Encoding(k, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			var encoded, full int64
			rounds := 0
			b.ReportAllocs()
			for b.Loop() {
				rounds++
				b.StopTimer()
				changed := benchLists(b, n, rounds)
				b.StartTimer()
				for l := range lists {
					lists[l] = changed[l]
					next := New(lists...)
					had := pieceSet(next)
					if err := Warm(prev, next, time.Now()); err != nil {
						b.Fatal(err)
					}
					encoded += newBytes(next, had)
					prev = next
				}
			}
			for _, k := range benchKeys {
				enc, err := prev.Encoding(k, time.Now())
				if err != nil {
					b.Fatal(err)
				}
				full += int64(enc.Size)
			}
			b.ReportMetric(float64(encoded)/float64(rounds)/float64(full), "encodings/round")
		})
	}
}

// pieceSet is every piece s's families hold now.
func pieceSet(s *Snapshot) map[*piece]bool {
	out := map[*piece]bool{}
	for _, g := range s.groups {
		for _, f := range g.parts {
			f.cache.mu.Lock()
			for _, p := range f.cache.m {
				out[p] = true
			}
			f.cache.mu.Unlock()
		}
	}
	return out
}

// newBytes is the size of s's pieces not in had: what was encoded since.
func newBytes(s *Snapshot, had map[*piece]bool) int64 {
	var n int64
	for p := range pieceSet(s) {
		if !had[p] {
			n += int64(len(p.header) + len(p.series))
		}
	}
	return n
}

// BenchmarkEncode is what a refresh of a changed list of API keys costs per
// format scraped: its families encoded (Warm does it once per change and
// format).
func BenchmarkEncode(b *testing.B) {
	for _, n := range sizes() {
		for _, k := range append(benchKeys, Format{Format: expfmt.FmtProtoDelim}) {
			name := map[expfmt.FormatType]string{expfmt.TypeOpenMetrics: "openmetrics", expfmt.TypeTextPlain: "text", expfmt.TypeProtoDelim: "protobuf"}[k.Format.FormatType()]
			b.Run(fmt.Sprintf("keys=%d/format=%s/gzip=%v", n, name, k.Gzip), func(b *testing.B) {
				b.ReportAllocs()
				size := 0
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					snap := New(benchLists(b, n, i)...)
					b.StartTimer()
					enc, err := snap.Encoding(k, time.Now())
					if err != nil {
						b.Fatal(err)
					}
					size = enc.Size
				}
				b.ReportMetric(float64(size), "bytes")
			})
		}
	}
}
