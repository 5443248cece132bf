package main

// In-process tests of what newMux serves; the binary-level tests (e2e_test.go,
// security_test.go) keep what only a running process shows.

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// constGatherer serves one gauge family.
var constGatherer = prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
	return []*dto.MetricFamily{{
		Name: proto.String("confluent_test_gauge"), Help: proto.String("h"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(42)}}},
	}}, nil
})

// serveMux serves newMux over g; reg gets the handler's own metrics.
func serveMux(t *testing.T, g prometheus.Gatherer, ready func() bool, path string, maxRequests int) (*httptest.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	mux, err := newMux(reg, g, ready, path, maxRequests, slog.New(slog.NewTextHandler(&testkit.Buffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, reg
}

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
	srv, reg := serveMux(t, constGatherer, isReady.Load, "/custom-metrics", 10)
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
	srv, _ := serveMux(t, constGatherer, func() bool { return true }, "/", 10)
	if code, body := fetch(t, http.MethodGet, srv.URL+"/"); code != 200 || !strings.Contains(body, "confluent_test_gauge 42") {
		t.Fatalf("metrics at /: %d %.200q", code, body)
	}
}

// TestConcurrentScrapesAreBounded: with --web.max-requests=N, N scrapes that
// are being gathered hold every slot: exactly the ones beyond get 503 at
// once; when they finish, scrapes are served again.
func TestConcurrentScrapesAreBounded(t *testing.T) {
	const limit, extra = 3, 4
	entered := make(chan struct{}, limit+extra)
	release := make(chan struct{})
	blocking := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		entered <- struct{}{}
		<-release
		return constGatherer.Gather()
	})
	srv, _ := serveMux(t, blocking, func() bool { return true }, "/metrics", limit)

	codes := make(chan int, limit)
	var wg sync.WaitGroup
	for range limit {
		wg.Go(func() {
			code, _ := fetch(t, http.MethodGet, srv.URL+"/metrics")
			codes <- code
		})
	}
	for range limit {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the first scrapes did not reach the gatherer")
		}
	}
	// A scrape beyond the limit is answered at once; one let through would
	// wait for the release, so it gets a deadline instead of hanging the test.
	impatient := &http.Client{Timeout: 5 * time.Second}
	for range extra {
		resp, err := impatient.Get(srv.URL + "/metrics")
		if err != nil {
			t.Errorf("a scrape beyond the limit was not refused at once: %v", err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("a scrape beyond the limit: %d, want 503", resp.StatusCode)
		}
	}
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Errorf("a scrape within the limit: %d, want 200", code)
		}
	}
	if len(entered) != 0 {
		t.Errorf("%d scrapes beyond the limit reached the gatherer", len(entered))
	}
	if code, _ := fetch(t, http.MethodGet, srv.URL+"/metrics"); code != http.StatusOK {
		t.Errorf("after the slots freed: %d, want 200", code)
	}
}
