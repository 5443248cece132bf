package scrape

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// The Accept headers real clients send.
const (
	acceptPrometheus2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	acceptPrometheus3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
	acceptProtobuf    = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3"
	acceptProtoText   = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"
	acceptProtoShort  = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text"
	acceptCurl        = "*/*"
)

var accepts = []string{acceptPrometheus2, acceptPrometheus3, acceptProtobuf, acceptProtoText, acceptProtoShort, acceptCurl, ""}

var (
	keyInfo = series.NewGauge("test", "key_info", "A key.", "key_id", "display_name")
	keyList = series.NewGauge("test", "keys", "Keys.")
)

// keySnapshot is a snapshot of n keys' info series and one counted gauge,
// each with value v, built as the collectors build theirs.
func keySnapshot(n int, v float64) *series.Snapshot {
	b := series.NewBuilder("acme")
	for i := range n {
		b.Add(keyInfo, v, fmt.Sprintf("K%06d", i), fmt.Sprintf("key \"%d\"\nnewline", i))
	}
	b.Add(keyList, float64(n)*v)
	families, err := b.Build()
	if err != nil {
		panic(err)
	}
	return series.New(families)
}

// all selects every family of a snapshot.
func all(string) bool { return true }

// dynamicRegistry has a counter with labels, a gauge and a histogram, fixed
// so that two scrapes are alike.
func dynamicRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "confluent_test_requests_total", Help: "Requests."}, []string{"code"})
	c.WithLabelValues("200").Add(7)
	c.WithLabelValues("429").Add(2)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "confluent_test_success", Help: "Success."})
	g.Set(1)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "confluent_test_duration_seconds", Help: "Durations.", Buckets: []float64{.1, 1}})
	h.Observe(0.05)
	h.Observe(3)
	reg.MustRegister(c, g, h)
	return reg
}

func newHandler(t testing.TB, static func() *series.Snapshot, dynamic prometheus.Gatherer, reg prometheus.Registerer, maxRequests int) (*Handler, *testkit.Buffer) {
	t.Helper()
	log := &testkit.Buffer{}
	var limit chan struct{}
	if maxRequests > 0 {
		limit = make(chan struct{}, maxRequests)
	}
	h := New(Opts{
		Static: static, Dynamic: dynamic, Registry: reg, Limit: limit,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	return h, log
}

// get serves one request to h in process.
func get(h http.Handler, accept, encoding string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// plain is the body of rec, gunzipped (all members) where it says gzip.
func plain(t testing.TB, rec *httptest.ResponseRecorder) []byte {
	t.Helper()
	if rec.Header().Get("Content-Encoding") != "gzip" {
		return rec.Body.Bytes()
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSameBytesAsPromhttp: for every format a client can negotiate, with and
// without gzip, a scrape of the cached path is, once gunzipped, byte for
// byte what promhttp writes for the same families in the same order, with
// the same Content-Type; a second scrape (from the cache) is the same again.
func TestSameBytesAsPromhttp(t *testing.T) {
	snap := keySnapshot(50, 1)
	dyn := dynamicRegistry()
	h, _ := newHandler(t, func() *series.Snapshot { return snap }, dyn, nil, 0)
	inOrder := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		d, err := dyn.Gather()
		return append(slices.Clone(snap.Select(all)), d...), err
	})
	ref := promhttp.HandlerFor(inOrder, promhttp.HandlerOpts{EnableOpenMetrics: true})
	for _, accept := range accepts {
		for _, enc := range []string{"", "gzip", "gzip;q=0, identity", "deflate, gzip;q=0.5"} {
			t.Run(fmt.Sprintf("%s/%s", accept, enc), func(t *testing.T) {
				want := get(ref, accept, enc)
				for range 2 {
					got := get(h, accept, enc)
					if got.Code != 200 || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") ||
						got.Header().Get("Content-Encoding") != want.Header().Get("Content-Encoding") {
						t.Fatalf("%d %q %q, promhttp %q %q", got.Code, got.Header().Get("Content-Type"), got.Header().Get("Content-Encoding"),
							want.Header().Get("Content-Type"), want.Header().Get("Content-Encoding"))
					}
					if g, w := plain(t, got), plain(t, want); !bytes.Equal(g, w) {
						t.Fatalf("body differs from promhttp's:\n%s", testkit.LineDiff(string(w), string(g)))
					}
				}
			})
		}
	}
}

// TestPrometheusReadsEveryScrape: Prometheus's own parsers read each format
// as the handler serves it (gzip as two members) and find every series of
// an ordinary registry holding the same ones, and OpenMetrics ends with one
// "# EOF", at the very end.
func TestPrometheusReadsEveryScrape(t *testing.T) {
	snap := keySnapshot(30, 2)
	dyn := dynamicRegistry()
	h, _ := newHandler(t, func() *series.Snapshot { return snap }, dyn, nil, 0)
	ordinary := prometheus.NewRegistry()
	ordinary.MustRegister(constFamilies(snap.Select(all)), dynamicRegistryCollector(dyn))
	ref := promhttp.HandlerFor(ordinary, promhttp.HandlerOpts{EnableOpenMetrics: true})
	for _, accept := range []string{acceptPrometheus2, acceptPrometheus3, acceptProtobuf} {
		for _, enc := range []string{"", "gzip"} {
			got := get(h, accept, enc)
			body := plain(t, got)
			ct := got.Header().Get("Content-Type")
			if strings.HasPrefix(ct, "application/openmetrics-text") {
				if n := bytes.Count(body, []byte("# EOF\n")); n != 1 || !bytes.HasSuffix(body, []byte("# EOF\n")) {
					t.Errorf("%s: %d EOF lines, last at the end: %v", ct, n, bytes.HasSuffix(body, []byte("# EOF\n")))
				}
			}
			want := get(ref, accept, "")
			if g, w := samples(t, body, ct), samples(t, want.Body.Bytes(), want.Header().Get("Content-Type")); !slices.Equal(g, w) || len(g) < 35 {
				t.Errorf("%s %s: %d samples, an ordinary registry %d:\n%s", ct, enc, len(g), len(w), testkit.LineDiff(strings.Join(w, "\n"), strings.Join(g, "\n")))
			}
		}
	}
}

// samples parses a scrape as Prometheus does and returns its samples, sorted.
func samples(t *testing.T, body []byte, contentType string) []string {
	t.Helper()
	p, err := textparse.New(body, contentType, labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		t.Fatalf("%s: %v", contentType, err)
	}
	var out []string
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", contentType, err)
		}
		if e == textparse.EntrySeries {
			var l labels.Labels
			p.Labels(&l)
			_, _, v := p.Series()
			out = append(out, fmt.Sprintf("%s %g", l.String(), v))
		}
	}
	slices.Sort(out)
	return out
}

// constFamilies collects fixed families as an ordinary registry's collector.
type constFamilies []*dto.MetricFamily

func (c constFamilies) Describe(chan<- *prometheus.Desc) {}
func (c constFamilies) Collect(ch chan<- prometheus.Metric) {
	for _, mf := range c {
		for _, m := range mf.GetMetric() {
			var names, values []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
				values = append(values, l.GetValue())
			}
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(mf.GetName(), mf.GetHelp(), names, nil), prometheus.GaugeValue, m.GetGauge().GetValue(), values...)
		}
	}
}

// dynamicRegistryCollector re-collects a registry's collectors.
func dynamicRegistryCollector(reg *prometheus.Registry) prometheus.Collector {
	return prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				var names, values []string
				for _, l := range m.GetLabel() {
					names = append(names, l.GetName())
					values = append(values, l.GetValue())
				}
				desc := prometheus.NewDesc(mf.GetName(), mf.GetHelp(), names, nil)
				switch mf.GetType() {
				case dto.MetricType_COUNTER:
					ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, m.GetCounter().GetValue(), values...)
				case dto.MetricType_GAUGE:
					ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, m.GetGauge().GetValue(), values...)
				case dto.MetricType_HISTOGRAM:
					buckets := map[float64]uint64{}
					for _, b := range m.GetHistogram().GetBucket() {
						buckets[b.GetUpperBound()] = b.GetCumulativeCount()
					}
					ch <- prometheus.MustNewConstHistogram(desc, m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum(), buckets, values...)
				}
			}
		}
	})
}

// TestOneFamilyOneName: a family the snapshot serves and the registry also
// gathers is served once (the snapshot's), and counted as an error.
func TestOneFamilyOneName(t *testing.T) {
	snap := keySnapshot(3, 1)
	dup := prometheus.NewRegistry()
	dup.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "confluent_test_keys", Help: "Again."}, func() float64 { return 99 }))
	reg := prometheus.NewRegistry()
	h, log := newHandler(t, func() *series.Snapshot { return snap }, dup, reg, 0)
	rec := get(h, "", "")
	if rec.Code != 200 || strings.Count(rec.Body.String(), "# TYPE confluent_test_keys ") != 1 || strings.Contains(rec.Body.String(), " 99") {
		t.Fatalf("%d\n%s", rec.Code, rec.Body.String())
	}
	if v := testutil.ToFloat64(h.errs.WithLabelValues("gathering")); v != 1 {
		t.Errorf("gathering errors %v, want 1", v)
	}
	if n := len(log.Lines("confluent_test_keys served by the snapshot")); n != 1 {
		t.Errorf("%d log lines, want 1:\n%s", n, log.String())
	}
}

// TestContinueOnError: a failed gather of the per-scrape part serves what
// it gathered and the snapshot, logged and counted; only when nothing at all
// was gathered is the scrape a 500.
func TestContinueOnError(t *testing.T) {
	boom := errors.New("collector boom failed")
	partial := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, _ := dynamicRegistry().Gather()
		return mfs[:1], boom
	})
	snap := keySnapshot(2, 1)
	reg := prometheus.NewRegistry()
	h, log := newHandler(t, func() *series.Snapshot { return snap }, partial, reg, 0)
	rec := get(h, "", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "confluent_test_key_info") || !strings.Contains(rec.Body.String(), "confluent_test_duration_seconds") {
		t.Fatalf("%d\n%s", rec.Code, rec.Body.String())
	}
	if n := len(log.Lines("collector boom failed")); n != 1 {
		t.Errorf("%d log lines of the error, want 1:\n%s", n, log.String())
	}
	if v := testutil.ToFloat64(h.errs.WithLabelValues("gathering")); v != 1 {
		t.Errorf("gathering errors %v, want 1", v)
	}

	nothing := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, boom })
	empty := series.New()
	h, _ = newHandler(t, func() *series.Snapshot { return empty }, nothing, nil, 0)
	if rec := get(h, "", ""); rec.Code != 500 || !strings.Contains(rec.Body.String(), "collector boom failed") {
		t.Errorf("nothing gathered: %d %q, want 500 with the error", rec.Code, rec.Body.String())
	}
}

// TestAScrapeSeesOneSnapshot: while snapshots are swapped under it, every
// scrape serves one whole snapshot (all its values 1, or all 2), never a mix.
func TestAScrapeSeesOneSnapshot(t *testing.T) {
	one, two := keySnapshot(2000, 1), keySnapshot(2000, 2)
	var mu sync.Mutex
	current := one
	static := func() *series.Snapshot { mu.Lock(); defer mu.Unlock(); return current }
	h, _ := newHandler(t, static, prometheus.NewRegistry(), nil, 0)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			next := []*series.Snapshot{one, two}[i%2]
			mu.Lock()
			prev := current
			mu.Unlock()
			if err := series.Warm(prev, next, time.Now()); err != nil {
				t.Error(err)
			}
			mu.Lock()
			current = next
			mu.Unlock()
		}
	})
	seen := map[string]bool{}
	for range 200 {
		body := plain(t, get(h, acceptPrometheus2, "gzip"))
		values := map[string]bool{}
		for line := range strings.SplitSeq(string(body), "\n") {
			if strings.HasPrefix(line, "confluent_test_key_info{") {
				v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
				if err != nil {
					t.Fatal(err)
				}
				values[strconv.FormatFloat(v, 'g', -1, 64)] = true
			}
		}
		if len(values) != 1 {
			t.Fatalf("one scrape mixed snapshots: values %v", values)
		}
		for v := range values {
			seen[v] = true
		}
	}
	close(stop)
	wg.Wait()
	if !seen["1"] || !seen["2"] {
		t.Errorf("the swaps were not seen by the scrapes: %v", seen)
	}
}

// TestAllocationsDoNotGrowWithKeys: a scrape from the cache allocates the
// same whatever the number of keys: only the per-scrape part is encoded.
func TestAllocationsDoNotGrowWithKeys(t *testing.T) {
	dyn := dynamicRegistry()
	allocs := func(n int) float64 {
		snap := keySnapshot(n, 1)
		h, _ := newHandler(t, func() *series.Snapshot { return snap }, dyn, nil, 0)
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", acceptPrometheus2)
		req.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(discard{}, req) // encodes the snapshot once
		return testing.AllocsPerRun(20, func() { h.ServeHTTP(discard{}, req) })
	}
	small, large := allocs(100), allocs(20000)
	if large > small*1.1+5 {
		t.Errorf("a scrape allocates %v times at 100 keys and %v at 20,000", small, large)
	}
}

// discard is a ResponseWriter that keeps nothing, as a socket would.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

// TestStuckReadersDoNotDenyScrapes: clients that send GET /metrics and never
// read hold no --web.max-requests slot while their response waits in the
// socket: every normal scrape is served, and the write deadline ends the
// stuck ones.
func TestStuckReadersDoNotDenyScrapes(t *testing.T) {
	testkit.Slow(t)
	snap := keySnapshot(250000, 1) // about 20 MB of text, more than a socket buffers
	reg := prometheus.NewRegistry()
	h := New(Opts{
		Static: func() *series.Snapshot { return snap }, Dynamic: reg, Registry: reg, Limit: make(chan struct{}, 2),
		WriteTimeout: 10 * time.Second, MinWriteRate: 10 << 20,
	})
	srv := httptest.NewServer(promhttp.InstrumentMetricHandler(reg, h))
	defer srv.Close()
	inFlight := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "promhttp_metric_handler_requests_in_flight" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}

	// The snapshot is encoded in the stuck clients' format, as after a
	// refresh (Warm): what they hold up is writing, not encoding.
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept-Encoding", "identity")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("first scrape: %v", err)
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	// One at a time: two arriving at the same instant could find both slots
	// taken by encodings, which is the limit working, not what is tested.
	const stuck = 6
	var conns []net.Conn
	for i := range stuck {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		// Writing: in flight, and done encoding (no slot held), or the next
		// could find both slots taken by encodings.
		waitFor(t, 10*time.Second, "a stuck client to be writing", func() bool { return inFlight() == float64(i+1) && len(h.opts.Limit) == 0 })
	}

	for i := range 5 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n < 1<<20 {
			t.Fatalf("scrape %d beside %d stuck clients: %d, %d bytes", i, stuck, resp.StatusCode, n)
		}
	}
	// The write deadline (here 10 s + the size at 10 MiB/s) ends the stuck
	// responses.
	waitFor(t, 30*time.Second, "the write deadline to end the stuck responses", func() bool { return inFlight() == 0 })
	// A stuck client's connection is closed, not just left.
	_ = conns[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, bufio.NewReader(conns[0])); err != nil {
		t.Errorf("the stuck connection was not closed: %v", err)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConcurrentScrapesAreBounded: with MaxRequests N, N scrapes encoding
// hold every slot: the ones beyond get 503 at once; when they finish,
// scrapes are served again.
func TestConcurrentScrapesAreBounded(t *testing.T) {
	const limit, extra = 3, 4
	entered := make(chan struct{}, limit+extra)
	release := make(chan struct{})
	blocking := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		entered <- struct{}{}
		<-release
		return dynamicRegistry().Gather()
	})
	empty := series.New()
	h, _ := newHandler(t, func() *series.Snapshot { return empty }, blocking, nil, limit)
	codes := make(chan int, limit)
	var wg sync.WaitGroup
	for range limit {
		wg.Go(func() { codes <- get(h, "", "").Code })
	}
	// One scrape gathers; the others of its format wait for its bytes, each
	// holding a slot.
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no scrape reached the gatherer")
	}
	waitFor(t, 10*time.Second, "every slot to be taken", func() bool { return len(h.opts.Limit) == limit })
	for range extra {
		if rec := get(h, "", ""); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "Limit of concurrent requests reached (3)") {
			t.Errorf("a scrape beyond the limit: %d %q, want 503", rec.Code, rec.Body.String())
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
		t.Errorf("%d more gathers: scrapes beyond the limit reached the gatherer, or concurrent ones did not share", len(entered))
	}
	if rec := get(h, "", ""); rec.Code != http.StatusOK {
		t.Errorf("after the slots freed: %d, want 200", rec.Code)
	}
}

// TestHeadAndFilter: HEAD gets the headers of a GET without a body;
// ?name[]= serves only the families named, as promhttp does.
func TestHeadAndFilter(t *testing.T) {
	snap := keySnapshot(5, 1)
	h, _ := newHandler(t, func() *series.Snapshot { return snap }, dynamicRegistry(), nil, 0)
	req := httptest.NewRequest(http.MethodHead, "/metrics", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	full := get(h, "", "")
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != fmt.Sprint(full.Body.Len()) {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %s (GET: %d bytes)", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"), full.Body.Len())
	}
	req = httptest.NewRequest(http.MethodGet, "/metrics?name[]=confluent_test_keys&name[]=confluent_test_success", nil)
	req.Header.Set("Accept", acceptPrometheus2)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var names []string
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(name)[0])
		}
	}
	if !slices.Equal(names, []string{"confluent_test_keys", "confluent_test_success"}) || !strings.HasSuffix(rec.Body.String(), "# EOF\n") {
		t.Errorf("filtered: %v\n%s", names, rec.Body.String())
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "gzip;q=0.0, *": false,
		"*": true, "*;q=0": false, "identity": false, "x-gzip": true, "br, zstd": false, "gzip ; q=1.0": true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestConcurrentScrapesShareOneGather: scrapes of one format that arrive
// while its per-scrape part is being gathered share that gather and its
// bytes; a scrape after it gathers again.
func TestConcurrentScrapesShareOneGather(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	blocking := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		if calls.Add(1) == 1 {
			<-release
		}
		return dynamicRegistry().Gather()
	})
	snap := keySnapshot(10, 1)
	reg := prometheus.NewRegistry()
	h, _ := newHandler(t, func() *series.Snapshot { return snap }, blocking, reg, 0)
	srv := httptest.NewServer(promhttp.InstrumentMetricHandler(reg, h))
	defer srv.Close()
	const n = 5
	bodies := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := http.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			bodies <- string(b)
		})
	}
	waitFor(t, 10*time.Second, "every scrape to be in the handler", func() bool {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "promhttp_metric_handler_requests_in_flight" {
				return mf.GetMetric()[0].GetGauge().GetValue() == n
			}
		}
		return false
	})
	close(release)
	wg.Wait()
	close(bodies)
	first := ""
	for b := range bodies {
		if first == "" {
			first = b
		}
		if b != first || !strings.Contains(b, "confluent_test_success") {
			t.Errorf("the scrapes did not serve the same complete body")
		}
	}
	if c := calls.Load(); c != 1 {
		t.Errorf("%d gathers for %d concurrent scrapes, want 1", c, n)
	}
	if rec := get(h, "", "gzip"); rec.Code != 200 || calls.Load() != 2 {
		t.Errorf("a later scrape: %d, %d gathers in all, want 2", rec.Code, calls.Load())
	}
}
