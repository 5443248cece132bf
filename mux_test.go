package main

// In-process tests of what newMux serves; the binary-level tests (e2e_test.go,
// security_test.go) keep what only a running process shows.

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/scrape"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// constGatherer serves one gauge family.
var constGatherer = prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
	return []*dto.MetricFamily{{
		Name: proto.String("confluent_test_gauge"), Help: proto.String("h"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(42)}}},
	}}, nil
})

// serveMux serves newMux with the scrape handler over g, as the supervisor
// makes it; reg gets the handler's own metrics.
func serveMux(t *testing.T, g prometheus.Gatherer, ready func() bool, path string, maxRequests int, pprofOn bool) (*httptest.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	empty := series.New()
	var limit chan struct{}
	if maxRequests > 0 {
		limit = make(chan struct{}, maxRequests)
	}
	metrics := promhttp.InstrumentMetricHandler(reg, scrape.New(scrape.Opts{
		Static: func() *series.Snapshot { return empty }, Dynamic: g, Registry: reg, Limit: limit,
		Logger: slog.New(slog.NewTextHandler(&testkit.Buffer{}, nil)),
	}))
	mux, err := newMux(fakeOrgs{ready, metrics}, http.NotFoundHandler(), path, pprofOn)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, reg
}

// fakeOrgs is the supervisor as the mux sees it: ready or not, its
// metrics handler, no /probe.
type fakeOrgs struct {
	ready   func() bool
	metrics http.Handler
}

func (f fakeOrgs) Ready() bool           { return f.ready() }
func (f fakeOrgs) Metrics() http.Handler { return f.metrics }
func (f fakeOrgs) Probe() http.Handler   { return http.NotFoundHandler() }
func (f fakeOrgs) Names() []string       { return []string{"default"} }

func fetch(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestMuxEndpoints(t *testing.T) {
	var isReady atomic.Bool
	srv, reg := serveMux(t, constGatherer, isReady.Load, "/custom-metrics", 10, false)
	for _, tc := range []struct {
		path string
		code int
		body string
	}{
		{"/-/healthy", 200, "Healthy"},
		{"/-/ready", 503, "Not ready: waiting for the first complete refresh of every collector"},
		{"/custom-metrics", 200, "confluent_test_gauge 42"},
		{"/", 200, `href="/custom-metrics"`},
	} {
		code, body := fetch(t, http.MethodGet, srv.URL+tc.path)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("GET %s: %d %.200q, want %d with %q", tc.path, code, body, tc.code, tc.body)
		}
	}
	isReady.Store(true)
	if code, body := fetch(t, http.MethodGet, srv.URL+"/-/ready"); code != 200 || !strings.Contains(body, "Ready") {
		t.Errorf("/-/ready once ready: %d %q", code, body)
	}
	if code, body := fetch(t, http.MethodHead, srv.URL+"/custom-metrics"); code != 200 || body != "" {
		t.Errorf("HEAD: %d %q", code, body)
	}
	// The handler counts its scrapes in the registry, as promhttp's does.
	if n, err := testutil.GatherAndCount(reg, "promhttp_metric_handler_requests_total"); err != nil || n == 0 {
		t.Errorf("promhttp_metric_handler_requests_total: %d series, %v", n, err)
	}
	if v := testutil.ToFloat64(mustCounter(t, reg, "promhttp_metric_handler_requests_total", "200")); v != 2 {
		t.Errorf("scrapes counted with code 200: %v, want 2 (GET and HEAD)", v)
	}
}

// mustCounter returns the value of name{code} in reg as a collector.
func mustCounter(t *testing.T, reg *prometheus.Registry, name, code string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == name && l.GetName() == "code" && l.GetValue() == code {
					return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"}, m.GetCounter().GetValue)
				}
			}
		}
	}
	t.Fatalf("no %s{code=%q}", name, code)
	return nil
}

func TestMuxMetricsAtRoot(t *testing.T) {
	srv, _ := serveMux(t, constGatherer, func() bool { return true }, "/", 10, false)
	if code, body := fetch(t, http.MethodGet, srv.URL+"/"); code != 200 || !strings.Contains(body, "confluent_test_gauge 42") {
		t.Fatalf("metrics at /: %d %.200q", code, body)
	}
}

// TestPprofOnlyWhenAsked: the landing page links Go's profiles, and they are
// served, only with --web.enable-pprof; never a link to a 404.
func TestPprofOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		srv, _ := serveMux(t, constGatherer, func() bool { return true }, "/metrics", 10, on)
		_, landing := fetch(t, http.MethodGet, srv.URL+"/")
		code, _ := fetch(t, http.MethodGet, srv.URL+"/debug/pprof/heap")
		if links := strings.Contains(landing, "debug/pprof"); links != on || (code == http.StatusOK) != on {
			t.Errorf("pprof %v: landing links it %v, /debug/pprof/heap %d", on, links, code)
		}
	}
}
