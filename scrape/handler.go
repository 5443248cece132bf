// Package scrape serves a snapshot of series as Prometheus scrapes it, at
// the cost of writing bytes: it negotiates the format, writes the
// snapshot's cached encoding in it (package series), then the small part
// that changes per scrape (the exporter's health, upstream counters, go_*,
// process_*, promhttp_*), encoded then and shared by the scrapes of one
// format that arrive together. It bounds the scrapes encoding at once and
// gives each write a deadline.
package scrape

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/sync/singleflight"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// Write deadlines, by default: a scrape may take defaultWriteTimeout, plus
// the time the body takes at defaultMinWriteRate, a slow link's pace. A
// client that reads slower is cut off, and it never held a
// --web.max-requests slot while it read.
const (
	defaultWriteTimeout = 30 * time.Second
	defaultMinWriteRate = 128 << 10 // bytes per second
)

// Opts configure a Handler.
type Opts struct {
	// Static returns the series served from their cached encodings: the
	// same *Snapshot until they change.
	Static func() *series.Snapshot
	// Dynamic is gathered and encoded on every scrape.
	Dynamic prometheus.Gatherer
	// Registry gets promhttp_metric_handler_errors_total{cause}, as promhttp's
	// handler does. Wrap the Handler in promhttp.InstrumentMetricHandler for
	// the requests and in-flight metrics.
	Registry prometheus.Registerer
	// Limit, if set, bounds the scrapes encoding at once, of every handler
	// that shares it (its capacity); more get 503. The writing of a response
	// is not bounded: write deadlines end stuck clients.
	Limit chan struct{}
	// WriteTimeout and MinWriteRate bound the write of a response: the
	// timeout, plus its size at the rate (bytes a second). 0: 30 s and
	// 128 KiB/s.
	WriteTimeout time.Duration
	MinWriteRate int
	Logger       *slog.Logger
}

// Handler serves the metrics. Make it with New.
type Handler struct {
	opts Opts
	errs *prometheus.CounterVec
	// flights lets the scrapes of one format and snapshot that arrive while
	// its per-scrape part is being gathered and encoded share those bytes:
	// under 20 concurrent scrapers the work, and the memory it holds at
	// once, stays that of a few (promhttp's CoalesceGather does so for the
	// gather).
	flights singleflight.Group
}

// New returns a Handler.
func New(opts Opts) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = defaultWriteTimeout
	}
	if opts.MinWriteRate <= 0 {
		opts.MinWriteRate = defaultMinWriteRate
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
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if sem := h.opts.Limit; sem != nil {
		select {
		case sem <- struct{}{}:
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", cap(sem)),
				http.StatusServiceUnavailable)
			return
		}
	}
	body, k, err := h.encode(r)
	if h.opts.Limit != nil {
		<-h.opts.Limit // encoded: what is left is a network write, bounded by its deadline
	}
	if err != nil {
		http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
		return
	}

	hdr := w.Header()
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	hdr.Set("Content-Type", string(k.Format))
	if k.Gzip {
		hdr.Set("Content-Encoding", "gzip")
	}
	size := body.static.Size + len(body.dynamic)
	hdr.Set("Content-Length", strconv.Itoa(size))
	if r.Method == http.MethodHead {
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout + time.Duration(size)*time.Second/time.Duration(h.opts.MinWriteRate)))
	for _, p := range body.static.Pieces {
		if _, err := w.Write(p); err != nil {
			h.opts.Logger.Debug("Scrape not delivered", "err", err)
			return
		}
	}
	if _, err := w.Write(body.dynamic); err != nil {
		h.opts.Logger.Debug("Scrape not delivered", "err", err)
	}
}

// response is one scrape's body: the snapshot's cached encoding and the
// per-scrape part. Both are shared with other scrapes and never modified.
type response struct {
	static  *series.Encoding
	dynamic []byte
}

// noStatic is the encoding of no snapshot (a filtered scrape).
var noStatic = &series.Encoding{}

// encode negotiates the format and returns the body: the snapshot's cached
// encoding and the per-scrape part, encoded now (or by a scrape of the same
// format running at the same instant, whose bytes this one shares).
func (h *Handler) encode(r *http.Request) (*response, series.Format, error) {
	k := series.Format{
		Format: expfmt.NegotiateAccept(r.Header, expfmt.DefaultOpenMetricsAcceptedFormats()...),
		Gzip:   acceptsGzip(r.Header.Get("Accept-Encoding")),
	}
	snap := h.opts.Static()
	if names := r.URL.Query()["name[]"]; len(names) > 0 {
		want := map[string]bool{}
		for _, n := range names {
			want[n] = true
		}
		dynamic, err := h.encodeDynamic(k, snap, want)
		return &response{static: noStatic, dynamic: dynamic}, k, err
	}
	static, err := snap.Encoding(k, time.Now())
	if err != nil {
		h.errs.WithLabelValues("encoding").Inc()
		h.opts.Logger.Error("error encoding metrics", "err", err)
		return nil, k, err
	}
	v, err, _ := h.flights.Do(fmt.Sprintf("%s %t %p", k.Format, k.Gzip, snap), func() (any, error) { return h.encodeDynamic(k, snap, nil) })
	if err != nil {
		return nil, k, err
	}
	dynamic, _ := v.([]byte)
	return &response{static: static, dynamic: dynamic}, k, nil
}

// encodeDynamic gathers and encodes the per-scrape part, ending the
// exposition. With want (a scrape's ?name[]=..., rare and small) it encodes
// only the families named, the snapshot's among them. A failed gather serves
// what it gathered (logged and counted once); only nothing at all to serve
// is an error.
func (h *Handler) encodeDynamic(k series.Format, snap *series.Snapshot, want map[string]bool) ([]byte, error) {
	dyn, err := h.gather(snap)
	if err != nil && len(dyn) == 0 && snap.Len() == 0 {
		return nil, err
	}
	if want != nil {
		dyn = append(snap.Select(func(name string) bool { return want[name] }), filter(dyn, want)...)
	}
	var buf bytes.Buffer
	if err := encodeFamilies(&buf, k, dyn); err != nil {
		h.errs.WithLabelValues("encoding").Inc()
		h.opts.Logger.Error("error encoding metrics", "err", err)
		return nil, err
	}
	return buf.Bytes(), nil
}

// gather gathers the per-scrape part, logging and counting a failure, and
// leaves out what the snapshot serves.
func (h *Handler) gather(snap *series.Snapshot) ([]*dto.MetricFamily, error) {
	dyn, err := h.opts.Dynamic.Gather()
	if err != nil {
		h.opts.Logger.Error("error gathering metrics", "err", err)
		h.errs.WithLabelValues("gathering").Inc()
	}
	return h.dropServed(dyn, snap), err
}

// dropServed removes from dyn the families the snapshot serves: one name,
// one family. It is a bug of the wiring, reported as a gathering error.
func (h *Handler) dropServed(dyn []*dto.MetricFamily, snap *series.Snapshot) []*dto.MetricFamily {
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

// encodeFamilies appends mfs to w in k's format and encoding, ending the
// exposition (OpenMetrics' "# EOF"). With gzip the bytes are one complete
// gzip member.
func encodeFamilies(w io.Writer, k series.Format, mfs []*dto.MetricFamily) error {
	write := func(w io.Writer) error {
		enc := expfmt.NewEncoder(w, k.Format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return err
			}
		}
		if closer, ok := enc.(expfmt.Closer); ok {
			return closer.Close()
		}
		return nil
	}
	if k.Gzip {
		return series.Gzip(w, write)
	}
	return write(w)
}

var _ http.Handler = (*Handler)(nil)
