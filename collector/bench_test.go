package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// benchSizes are the organisations of docs/benchmarks.md: N API keys and 500
// BYOK keys. `go test -short` (the smoke run in make test) uses the first only.
var benchSizes = []int{1000, 10000, 100000}

func sizes(*testing.B) []int {
	if testing.Short() {
		return benchSizes[:1]
	}
	return benchSizes
}

// benchExporter returns an Exporter that has refreshed once from a simulated
// organisation of n API keys and 500 BYOK keys, and the simulator.
func benchExporter(b *testing.B, n int) (*Exporter, *sim.Server) {
	b.Helper()
	s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 1, BYOKKeys: 500, APIKeys: n, Quirks: true}, APIKey: testKey, APISecret: testSecret, RateLimit: 1 << 30})
	ts := httptest.NewServer(s)
	b.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	c, err := apiclient.New(apiclient.Config{BaseURL: u, APIKey: testKey, Secret: apiclient.StaticSecret(testSecret)})
	if err != nil {
		b.Fatal(err)
	}
	e := New(c, allOn)
	e.Refresh(context.Background(), time.Now().Add(5*time.Minute))
	if !e.Ready() {
		b.Fatal("refresh failed")
	}
	return e, s
}

// floorRegistry holds the same series as reg in plain GaugeVecs and
// CounterVecs: what client_golang costs for these series at the least.
func floorRegistry(b *testing.B, g prometheus.Gatherer) *prometheus.Registry {
	b.Helper()
	mfs, err := g.Gather()
	if err != nil {
		b.Fatal(err)
	}
	floor := prometheus.NewRegistry()
	for _, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		var names []string
		for _, lp := range mf.GetMetric()[0].GetLabel() {
			names = append(names, lp.GetName())
		}
		values := func(m *dto.Metric) []string {
			var v []string
			for _, lp := range m.GetLabel() {
				v = append(v, lp.GetValue())
			}
			return v
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: mf.GetName(), Help: mf.GetHelp()}, names)
			for _, m := range mf.GetMetric() {
				vec.WithLabelValues(values(m)...).Add(m.GetCounter().GetValue())
			}
			floor.MustRegister(vec)
		default:
			vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mf.GetName(), Help: mf.GetHelp()}, names)
			for _, m := range mf.GetMetric() {
				vec.WithLabelValues(values(m)...).Set(m.GetGauge().GetValue())
			}
			floor.MustRegister(vec)
		}
	}
	return floor
}

var formats = []struct {
	name   string
	accept string
}{
	{"text", string(expfmt.NewFormat(expfmt.TypeTextPlain))},
	{"protobuf", string(expfmt.NewFormat(expfmt.TypeProtoDelim))},
}

func benchmarkHandler(b *testing.B, h http.Handler, accept string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", accept)
	b.ReportAllocs()
	b.ResetTimer()
	var (
		w     discardWriter
		times []time.Duration
	)
	for b.Loop() {
		w = discardWriter{header: http.Header{}}
		start := time.Now()
		h.ServeHTTP(&w, req)
		times = append(times, time.Since(start))
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
	b.ReportMetric(float64(w.n), "bytes/scrape")
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}

// discardWriter is a ResponseWriter that counts the body and keeps none of
// it, as a socket does: the benchmark measures the handler, not a buffer.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) { w.code = code }

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// BenchmarkScrape serves the exporter's key metrics through promhttp, as
// /metrics does, against the floor: the same series from plain metric vectors.
func BenchmarkScrape(b *testing.B) {
	for _, n := range sizes(b) {
		e, _ := benchExporter(b, n)
		reg := prometheus.NewRegistry()
		reg.MustRegister(e)
		ours := Merge(reg, e) // as main serves it
		floor := floorRegistry(b, ours)
		for _, f := range formats {
			b.Run(fmt.Sprintf("keys=%d/format=%s/exporter", n, f.name), func(b *testing.B) {
				benchmarkHandler(b, promhttp.HandlerFor(ours, promhttp.HandlerOpts{}), f.accept)
			})
			b.Run(fmt.Sprintf("keys=%d/format=%s/floor", n, f.name), func(b *testing.B) {
				benchmarkHandler(b, promhttp.HandlerFor(floor, promhttp.HandlerOpts{}), f.accept)
			})
		}
	}
}

// BenchmarkRefresh reads every list from the simulator with no added
// latency and turns them into metrics; MB/s is JSON decoded per second.
func BenchmarkRefresh(b *testing.B) {
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			e, s := benchExporter(b, n)
			bytesPerRefresh := int64(0)
			served := s.BytesServed()
			e.Refresh(context.Background(), time.Now().Add(5*time.Minute))
			bytesPerRefresh = s.BytesServed() - served
			b.SetBytes(bytesPerRefresh)
			before := len(s.Requests())
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				e.Refresh(context.Background(), time.Now().Add(5*time.Minute))
			}
			b.StopTimer()
			if !e.Ready() {
				b.Fatal("refresh failed")
			}
			want := s.MinimalRequests(100, true)
			got := (len(s.Requests()) - before) / max(b.N, 1)
			if got != want {
				b.Fatalf("%d requests per refresh, want the minimum %d", got, want)
			}
			b.ReportMetric(float64(got), "requests/refresh")
		})
	}
}
