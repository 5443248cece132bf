package scrape

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// The organisations of docs/benchmarks.md: N API keys, 500 BYOK keys, every
// collector on. `go test -short` (the smoke run in make test) uses the first.
var benchSizes = []int{1000, 10000, 100000}

func sizes() []int {
	if testing.Short() {
		return benchSizes[:1]
	}
	return benchSizes
}

// The credentials the simulator accepts: long enough that redacting them
// from its bodies (as the client does with every answer) changes nothing else.
const (
	benchKey    = "BENCHKEY0123"
	benchSecret = "bench-secret-not-for-production"
)

// wired is the snapshot an organisation of n API keys published after one
// refresh, and its registry of the per-scrape part, as main wires them.
type wired struct {
	snap *last
	reg  *prometheus.Registry
}

// last keeps the snapshot published last.
type last struct {
	atomic.Pointer[series.Snapshot]
}

func (l *last) Publish(s *series.Snapshot) { l.Store(s) }

func benchWired(b *testing.B, n int) wired {
	b.Helper()
	s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 1, BYOKKeys: 500, APIKeys: n, Quirks: true}, APIKey: benchKey, APISecret: benchSecret, RateLimit: 1 << 30})
	ts := httptest.NewServer(s)
	b.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	up := collector.NewUpstream("bench")
	c, err := apiclient.New(apiclient.Config{BaseURL: u, APIKey: benchKey, Secret: secret.Static(benchSecret), Observer: up})
	if err != nil {
		b.Fatal(err)
	}
	published := &last{}
	e := collector.New(c, collector.Options{
		Organization: "bench", Interval: time.Hour, APIKeysPerKey: true, Publish: published,
		Collectors: []string{"organization", "byok", "api_keys", "service_accounts", "users", "environments", "kafka_clusters", "quotas"},
	})
	// The first refresh of Run, as the supervisor starts it; the next would
	// come in an hour.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	<-e.Attempted()
	cancel()
	<-done
	if !e.Ready() {
		b.Fatal("refresh failed")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e, up, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return wired{snap: published, reg: reg}
}

// clients are the requests measured: what Prometheus 2.42 and 3.x send
// (their Accept header, gzip), and identity text and protobuf.
var clients = []struct {
	name, accept, encoding string
}{
	{"prometheus2-gzip", acceptPrometheus2, "gzip"},
	{"prometheus3-gzip", acceptPrometheus3, "gzip"},
	{"text-identity", "text/plain;version=0.0.4", ""},
	{"protobuf-identity", acceptProtobuf, ""},
}

// BenchmarkScrape serves one scrape at a time through three handlers:
// cached (this package, as the supervisor serves it), promhttp (the handler
// before the cache: promhttp over the registry merged with the exporter's
// families, built once, as the exporter then kept them) and floor (promhttp
// over the same series held in plain metric vectors).
func BenchmarkScrape(b *testing.B) {
	for _, n := range sizes() {
		w := benchWired(b, n)
		families := w.snap.Load().Select(all)
		merged := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
			dyn, err := w.reg.Gather()
			out := append(slices.Clone(families), dyn...)
			slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
			return out, err
		})
		handlers := []struct {
			name string
			h    http.Handler
		}{
			{"cached", New(Opts{Static: w.snap.Load, Dynamic: w.reg})},
			{"promhttp", promhttp.HandlerFor(merged, promhttp.HandlerOpts{EnableOpenMetrics: true})},
			{"floor", promhttp.HandlerFor(floorRegistry(b, merged), promhttp.HandlerOpts{EnableOpenMetrics: true})},
		}
		for _, c := range clients {
			for _, h := range handlers {
				b.Run(fmt.Sprintf("keys=%d/client=%s/handler=%s", n, c.name, h.name), func(b *testing.B) {
					benchmarkHandler(b, h.h, c.accept, c.encoding)
				})
			}
		}
	}
}

func benchmarkHandler(b *testing.B, h http.Handler, accept, encoding string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", accept)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	w := &countingWriter{header: http.Header{}}
	h.ServeHTTP(w, req) // the first scrape of a format fills the cache, as Warm would at refresh
	b.ReportAllocs()
	b.ResetTimer()
	var times []time.Duration
	for b.Loop() {
		w = &countingWriter{header: http.Header{}}
		start := time.Now()
		h.ServeHTTP(w, req)
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

// countingWriter is a ResponseWriter that counts the body and keeps none of
// it, as a socket does: the benchmark measures the handler, not a buffer.
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *countingWriter) Header() http.Header  { return w.header }
func (w *countingWriter) WriteHeader(code int) { w.code = code }
func (w *countingWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// floorRegistry holds the same series as g in plain GaugeVecs and
// CounterVecs (histograms as they are): what client_golang costs for these
// series at the least.
func floorRegistry(b *testing.B, g prometheus.Gatherer) prometheus.Gatherer {
	b.Helper()
	mfs, err := g.Gather()
	if err != nil {
		b.Fatal(err)
	}
	floor := prometheus.NewRegistry()
	var rest []*dto.MetricFamily
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
		case dto.MetricType_GAUGE:
			vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mf.GetName(), Help: mf.GetHelp()}, names)
			for _, m := range mf.GetMetric() {
				vec.WithLabelValues(values(m)...).Set(m.GetGauge().GetValue())
			}
			floor.MustRegister(vec)
		default:
			rest = append(rest, mf)
		}
	}
	return prometheus.Gatherers{floor, prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return rest, nil })}
}
