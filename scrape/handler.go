// Package scrape serves /metrics as Prometheus scrapes it, at the cost of
// writing bytes. The key metrics change once per refresh, so they are encoded
// once per refresh and format (text, OpenMetrics, protobuf; identity and
// gzip) and cached with the snapshot they came from; a scrape writes those
// bytes, then the small part that changes per scrape (the exporter's health,
// upstream counters, go_*, process_*, promhttp_*), encoded then. Gzip
// responses are two gzip members, which every gzip reader, Prometheus's
// included, reads as one stream.
package scrape

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
)

// Write deadlines: a scrape may take writeBase, plus the time the body takes
// at minWriteRate, a slow link's pace. A client that reads slower is cut off,
// and it never held a --web.max-requests slot while it read. (Variables for
// the tests.)
var (
	writeBase    = 30 * time.Second
	minWriteRate = 128 << 10 // bytes per second
)

// Opts configure a Handler.
type Opts struct {
	// Static returns the families served from cache: the same *Snapshot until
	// they change. collector.(*Exporter).Snapshot is one.
	Static func() *collector.Snapshot
	// Dynamic is gathered and encoded on every scrape.
	Dynamic prometheus.Gatherer
	// Registry gets promhttp_metric_handler_errors_total{cause}, as promhttp's
	// handler does. Wrap the Handler in promhttp.InstrumentMetricHandler for
	// the requests and in-flight metrics.
	Registry prometheus.Registerer
	// MaxRequests bounds the scrapes encoding at once; more get 503. The
	// writing of a response is not bounded: write deadlines end stuck clients.
	MaxRequests int
	// Limit, if set, is shared with other handlers in place of MaxRequests:
	// its capacity bounds the scrapes of all of them encoding at once.
	Limit  chan struct{}
	Logger *slog.Logger
}

// Handler serves the metrics. Make it with New.
type Handler struct {
	opts    Opts
	sem     chan struct{}
	errs    *prometheus.CounterVec
	cache   cache
	flights flights
}

// New returns a Handler.
func New(opts Opts) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		opts: opts,
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promhttp_metric_handler_errors_total",
			Help: "Total number of internal errors encountered by the promhttp metric handler.",
		}, []string{"cause"}),
	}
	h.errs.WithLabelValues("gathering")
	h.errs.WithLabelValues("encoding")
	if opts.Registry != nil {
		opts.Registry.MustRegister(h.errs)
	}
	switch {
	case opts.Limit != nil:
		h.sem = opts.Limit
	case opts.MaxRequests > 0:
		h.sem = make(chan struct{}, opts.MaxRequests)
	}
	return h
}

// Warm encodes the current snapshot in every format scraped in the last
// keepFormat, so that the first scrape after a refresh only writes bytes,
// and drops the others (someone's one curl of the identity text). Call it
// after a swap (collector.Options.OnSwap); it is cheap when nothing changed.
func (h *Handler) Warm() {
	e := h.cache.entry(h.opts.Static())
	keys := h.cache.seen()
	e.keep(keys)
	for k := range keys {
		if _, err := e.bytes(k); err != nil {
			h.opts.Logger.Error("error encoding metrics", "err", err) // the scrapes of k answer 500, counted
		}
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.sem != nil {
		select {
		case h.sem <- struct{}{}:
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", cap(h.sem)),
				http.StatusServiceUnavailable)
			return
		}
	}
	body, k, err := h.encode(r)
	if h.sem != nil {
		<-h.sem // encoded: what is left is a network write, bounded by its deadline
	}
	if err != nil {
		http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
		return
	}

	hdr := w.Header()
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	hdr.Set("Content-Type", string(k.format))
	if k.gzip {
		hdr.Set("Content-Encoding", "gzip")
	}
	size := len(body.static) + len(body.dynamic)
	hdr.Set("Content-Length", strconv.Itoa(size))
	if r.Method == http.MethodHead {
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeBase + time.Duration(size)*time.Second/time.Duration(minWriteRate)))
	if _, err := w.Write(body.static); err != nil {
		h.opts.Logger.Debug("Scrape not delivered", "err", err)
		return
	}
	if _, err := w.Write(body.dynamic); err != nil {
		h.opts.Logger.Debug("Scrape not delivered", "err", err)
	}
}

// response is one scrape's body: the cached bytes of the snapshot and the
// per-scrape part. Both are shared with other scrapes and never modified.
type response struct {
	static, dynamic []byte
}

// encode negotiates the format and returns the body: the cached bytes of the
// snapshot and the per-scrape part, encoded now (or by a scrape of the same
// format running at the same instant, whose bytes this one shares).
func (h *Handler) encode(r *http.Request) (*response, key, error) {
	k := key{
		format: expfmt.NegotiateAccept(r.Header, expfmt.DefaultOpenMetricsAcceptedFormats()...),
		gzip:   acceptsGzip(r.Header.Get("Accept-Encoding")),
	}
	snap := h.opts.Static()
	if names := r.URL.Query()["name[]"]; len(names) > 0 {
		want := map[string]bool{}
		for _, n := range names {
			want[n] = true
		}
		dynamic, err := h.encodeDynamic(k, snap, want)
		return &response{dynamic: dynamic}, k, err
	}
	h.cache.note(k)
	static, err := h.cache.entry(snap).bytes(k)
	if err != nil {
		h.errs.WithLabelValues("encoding").Inc()
		h.opts.Logger.Error("error encoding metrics", "err", err)
		return nil, k, err
	}
	dynamic, err := h.flights.do(flightKey{k, snap}, func() ([]byte, error) { return h.encodeDynamic(k, snap, nil) })
	if err != nil {
		return nil, k, err
	}
	return &response{static: static, dynamic: dynamic}, k, nil
}

// encodeDynamic gathers and encodes the per-scrape part, ending the
// exposition. With want (a scrape's ?name[]=..., rare and small) it encodes
// only the families named, the snapshot's among them. A failed gather serves
// what it gathered (logged and counted once); only nothing at all to serve
// is an error.
func (h *Handler) encodeDynamic(k key, snap *collector.Snapshot, want map[string]bool) ([]byte, error) {
	dyn, err := h.gather(snap)
	if err != nil && len(dyn) == 0 && snap.Len() == 0 {
		return nil, err
	}
	if want != nil {
		dyn = append(snap.Select(func(name string) bool { return want[name] }), filter(dyn, want)...)
	}
	var buf bytes.Buffer
	if err := encodeFamilies(&buf, k, dyn, true); err != nil {
		h.errs.WithLabelValues("encoding").Inc()
		h.opts.Logger.Error("error encoding metrics", "err", err)
		return nil, err
	}
	return buf.Bytes(), nil
}

// gather gathers the per-scrape part, logging and counting a failure, and
// leaves out what the snapshot serves.
func (h *Handler) gather(snap *collector.Snapshot) ([]*dto.MetricFamily, error) {
	dyn, err := h.opts.Dynamic.Gather()
	if err != nil {
		h.opts.Logger.Error("error gathering metrics", "err", err)
		h.errs.WithLabelValues("gathering").Inc()
	}
	return h.dropServed(dyn, snap), err
}

// dropServed removes from dyn the families the snapshot serves: one name,
// one family. It is a bug of the wiring, reported as a gathering error.
func (h *Handler) dropServed(dyn []*dto.MetricFamily, snap *collector.Snapshot) []*dto.MetricFamily {
	out := dyn[:0:0]
	for _, mf := range dyn {
		if snap.Has(mf.GetName()) {
			h.errs.WithLabelValues("gathering").Inc()
			h.opts.Logger.Error("error gathering metrics", "err", fmt.Sprintf("metric family %s served by the snapshot and gathered again; served once", mf.GetName()))
			continue
		}
		out = append(out, mf)
	}
	return out
}

func filter(mfs []*dto.MetricFamily, names map[string]bool) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for _, mf := range mfs {
		if names[mf.GetName()] {
			out = append(out, mf)
		}
	}
	return out
}

// gzipWriters are reused: a gzip.Writer allocates about 800 KB.
var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// encodeFamilies appends mfs to w in k's format and encoding. last ends the
// exposition (OpenMetrics' "# EOF"); without it the bytes are a part that
// more families follow. With gzip the bytes are one complete gzip member.
func encodeFamilies(w io.Writer, k key, mfs []*dto.MetricFamily, last bool) error {
	return compressed(w, k.gzip, func(w io.Writer) error {
		enc := expfmt.NewEncoder(w, k.format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return err
			}
		}
		if closer, ok := enc.(expfmt.Closer); ok && last {
			return closer.Close()
		}
		return nil
	})
}

// encodeSnapshot appends snap to w in k's format and encoding, as a part
// that more families follow.
func encodeSnapshot(w io.Writer, k key, snap *collector.Snapshot) error {
	return compressed(w, k.gzip, func(w io.Writer) error { return snap.Write(w, k.format) })
}

// compressed calls write with w, or, if gzipped, with a writer of one gzip
// member to w.
func compressed(w io.Writer, gzipped bool, write func(io.Writer) error) error {
	if !gzipped {
		return write(w)
	}
	gz := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(gz)
	gz.Reset(w)
	if err := write(gz); err != nil {
		return err
	}
	return gz.Close()
}

var _ http.Handler = (*Handler)(nil)

// InstrumentedHandler is h wrapped as promhttp wraps its own handler: the
// requests by status code and the scrapes in flight, in reg.
func InstrumentedHandler(reg prometheus.Registerer, h *Handler) http.Handler {
	return promhttp.InstrumentMetricHandler(reg, h)
}
