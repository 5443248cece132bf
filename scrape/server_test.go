package scrape

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// TestProbeWait: the wait is 80% of any scrape timeout Prometheus could
// send; anything else (none, zero, negative, not a number, infinite, or
// longer than any scrape) is the first-probe wait.
func TestProbeWait(t *testing.T) {
	const firstProbeWait = 7 * time.Second
	s := NewServer(ServerOpts{FirstProbeWait: firstProbeWait})
	for header, want := range map[string]time.Duration{
		"3": 2400 * time.Millisecond, "10": 8 * time.Second, "0.5": 400 * time.Millisecond, "300": 240 * time.Second,
		"": firstProbeWait, "0": firstProbeWait, "-3": firstProbeWait, "ten": firstProbeWait,
		"NaN": firstProbeWait, "Inf": firstProbeWait, "+Inf": firstProbeWait, "301": firstProbeWait, "1e300": firstProbeWait,
	} {
		if got := s.probeWait(http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {header}}); got != want {
			t.Errorf("%q: %s, want %s", header, got, want)
		}
	}
	if got := NewServer(ServerOpts{}).probeWait(nil); got != 10*time.Second {
		t.Errorf("default first-probe wait %s, want Prometheus's default scrape timeout, 10s", got)
	}
}

// orgSnapshot is a snapshot of one key of the organisation org.
func orgSnapshot(org, key string) *series.Snapshot {
	b := series.NewBuilder(org)
	b.Add(keyInfo, 1, key, "a key")
	families, err := b.Build()
	if err != nil {
		panic(err)
	}
	return series.New(families)
}

func probe(s *Server, query string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Probe().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/probe"+query, nil))
	return rec
}

// TestServerServesWhatIsPublished: an organisation is served from Serve on,
// with what it published last, on /metrics together with the others (each
// family once) and alone on /probe with its own health; a removed one is
// gone from both; what a replaced run publishes late is not served.
func TestServerServesWhatIsPublished(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	s := NewServer(ServerOpts{Registry: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	a, b := s.Organization("a", nil), s.Organization("b", nil)
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "confluent_test_up", Help: "Health of a.", ConstLabels: prometheus.Labels{"organization": "a"}})
	a.MustRegister(up)
	a.Publish(orgSnapshot("a", "KA"))
	if body := get(s.Metrics(), "", "").Body.String(); strings.Contains(body, "KA") {
		t.Fatal("an organisation served before Serve")
	}
	s.Serve(a)
	s.Serve(b)
	b.Publish(orgSnapshot("b", "KB"))
	body := get(s.Metrics(), "text/plain;version=0.0.4", "").Body.String()
	for _, want := range []string{`key_id="KA"`, `key_id="KB"`, `confluent_test_up{organization="a"} 0`, "promhttp_metric_handler_requests_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if n := strings.Count(body, "# TYPE confluent_test_key_info "); n != 1 {
		t.Errorf("confluent_test_key_info under %d TYPE lines, want 1", n)
	}
	if body := probe(s, "?organization=a").Body.String(); !strings.Contains(body, `key_id="KA"`) || strings.Contains(body, "KB") ||
		!strings.Contains(body, "confluent_test_up") {
		t.Errorf("/probe?organization=a:\n%s", body)
	}

	// A new run of a takes its place; the old one's late snapshot is not served.
	a2 := s.Organization("a", nil)
	s.Serve(a2)
	a.Publish(orgSnapshot("a", "OLD"))
	a2.Publish(orgSnapshot("a", "KA2"))
	if body := get(s.Metrics(), "", "").Body.String(); strings.Contains(body, "OLD") || !strings.Contains(body, "KA2") ||
		strings.Contains(body, "confluent_test_up") {
		t.Errorf("after a new run of a:\n%s", body)
	}

	s.Remove("b")
	if body := get(s.Metrics(), "", "").Body.String(); strings.Contains(body, "KB") {
		t.Error("a removed organisation is still on /metrics")
	}
	if rec := probe(s, "?organization=b"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "configured: a") {
		t.Errorf("/probe of a removed organisation: %d %s", rec.Code, rec.Body)
	}
	if rec := probe(s, ""); rec.Code != http.StatusBadRequest {
		t.Errorf("/probe without an organisation: %d", rec.Code)
	}
	long := strings.Repeat("x", 500)
	if rec := probe(s, "?organization="+long); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), strings.Repeat("x", 65)) {
		t.Errorf("/probe of an unknown, long name: %d, quoting more than 64 characters of it", rec.Code)
	}
	if logs.Len() > 0 {
		t.Errorf("serving logged, though nothing failed:\n%s", logs.String())
	}
}

// TestServerProbeOnly: with ProbeOnly, /metrics carries no organisation's
// series nor health; /probe serves each, after its start ran within the
// probe's deadline.
func TestServerProbeOnly(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewServer(ServerOpts{Registry: reg, ProbeOnly: true, FirstProbeWait: time.Second})
	started := make(chan time.Duration, 1)
	a := s.Organization("a", func(ctx context.Context) {
		d, _ := ctx.Deadline()
		started <- time.Until(d)
	})
	a.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "confluent_test_up", Help: "Health of a."}))
	s.Serve(a)
	a.Publish(orgSnapshot("a", "KA"))
	if body := get(s.Metrics(), "", "").Body.String(); strings.Contains(body, "KA") || strings.Contains(body, "confluent_test_up") {
		t.Errorf("/metrics serves an organisation with ProbeOnly:\n%s", body)
	}
	req := httptest.NewRequest(http.MethodGet, "/probe?organization=a", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "5")
	rec := httptest.NewRecorder()
	s.Probe().ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `key_id="KA"`) {
		t.Errorf("/probe:\n%s", rec.Body)
	}
	if d := <-started; d <= 3*time.Second || d > 4*time.Second {
		t.Errorf("the start ran with %s left, want 80%% of the 5 s scrape timeout", d)
	}
}
