package scrape

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// ServerOpts configure a Server.
type ServerOpts struct {
	// Registry is gathered on every scrape of /metrics, after the
	// organisations' series: the server registers in it its own counters
	// and every organisation's health, the caller the process's (build
	// info, go_*, process_*, reload).
	Registry *prometheus.Registry
	// MaxRequests bounds the scrapes encoding at once, /metrics and /probe
	// together; more get 503. 0: no bound.
	MaxRequests int
	// ProbeOnly serves each organisation on /probe only: /metrics then
	// carries the process's metrics alone (the replicas of a sharded
	// deployment each serve what Prometheus routes to them).
	ProbeOnly bool
	// FirstProbeWait is how long a probe that starts an organisation waits
	// for its first refresh when Prometheus says no usable scrape timeout
	// (0: Prometheus's default, 10 s).
	FirstProbeWait time.Duration
	// WriteTimeout is the time a response may take to write, plus its
	// size at MinWriteRate bytes a second: a client that reads slower is
	// cut off (0: 30 s, 128 KiB/s).
	WriteTimeout time.Duration
	MinWriteRate int
	Logger       *slog.Logger
}

// Server is where the organisations' series are served: it holds what each
// one published last, encodes a new snapshot in the formats its
// predecessor was scraped in before serving it (so that a scrape after a
// refresh only writes bytes), combines every organisation's for /metrics,
// serves one organisation on /probe, and bounds the scrapes encoding at
// once over both. It knows nothing of how the series are read.
type Server struct {
	opts    ServerOpts
	limit   chan struct{}
	metrics http.Handler

	mu   sync.Mutex                         // Serve, Remove and combine, one at a time
	orgs atomic.Pointer[map[string]*Served] // read by the handlers without mu
	all  atomic.Pointer[series.Snapshot]    // every organisation's, for /metrics
}

// NewServer returns a Server of no organisation.
func NewServer(opts ServerOpts) *Server {
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.FirstProbeWait <= 0 {
		opts.FirstProbeWait = 10 * time.Second
	}
	s := &Server{opts: opts}
	if opts.MaxRequests > 0 {
		s.limit = make(chan struct{}, opts.MaxRequests)
	}
	s.orgs.Store(&map[string]*Served{})
	s.all.Store(series.New())
	s.metrics = promhttp.InstrumentMetricHandler(opts.Registry, s.handler(s.all.Load, opts.Registry, opts.Registry))
	opts.Registry.MustRegister(health{s})
	return s
}

func (s *Server) handler(static func() *series.Snapshot, dynamic prometheus.Gatherer, reg prometheus.Registerer) *Handler {
	return New(Opts{
		Static: static, Dynamic: dynamic, Registry: reg, Limit: s.limit, Logger: s.opts.Logger,
		WriteTimeout: s.opts.WriteTimeout, MinWriteRate: s.opts.MinWriteRate,
	})
}

// Metrics serves /metrics: every organisation's series (none with
// ProbeOnly), then the registry's, as promhttp counts its requests.
func (s *Server) Metrics() http.Handler { return s.metrics }

// Probe serves /probe?organization=NAME: that organisation's series only,
// with its health (the blackbox exporter's pattern), so that each can be
// its own target, and Prometheus can spread them over replicas.
func (s *Server) Probe() http.Handler { return http.HandlerFunc(s.serveProbe) }

// Served is one organisation as the server serves it: made by
// Organization, served from Serve on, fed by Publish.
type Served struct {
	s      *Server
	name   string
	start  func(context.Context)
	health []prometheus.Collector
	reg    *prometheus.Registry
	snap   atomic.Pointer[series.Snapshot]
	probe  *Handler
}

// Organization returns what will serve the organisation name once Serve is
// called: publish its snapshots to it, and register its health in it.
// start, if set, runs before a probe of it is answered, within the probe's
// context (which ends before Prometheus gives up): it may start the
// organisation and wait for its first refresh.
func (s *Server) Organization(name string, start func(ctx context.Context)) *Served {
	o := &Served{s: s, name: name, start: start, reg: prometheus.NewRegistry()}
	o.snap.Store(series.New())
	o.probe = s.handler(o.snap.Load, o.reg, nil)
	return o
}

// MustRegister adds the organisation's health: gathered on every scrape of
// it (and of /metrics, unless ProbeOnly).
func (o *Served) MustRegister(cs ...prometheus.Collector) {
	o.reg.MustRegister(cs...)
	o.health = append(o.health, cs...)
}

// Publish serves snap from now on, encoded first as the organisation's
// last snapshot was scraped.
func (o *Served) Publish(snap *series.Snapshot) {
	o.s.warm(o.snap.Load(), snap)
	o.snap.Store(snap)
	o.s.combine()
}

// Serve makes o what serves its organisation, in place of what did.
func (s *Server) Serve(o *Served) { s.set(o.name, o) }

// Remove stops serving the organisation name: its series go.
func (s *Server) Remove(name string) { s.set(name, nil) }

func (s *Server) set(name string, o *Served) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := maps.Clone(*s.orgs.Load())
	if o == nil {
		delete(next, name)
	} else {
		next[name] = o
	}
	s.orgs.Store(&next)
	s.combineLocked()
}

// combine rebuilds what /metrics serves from every organisation's latest
// snapshot, encoded in the formats it was scraped in. With ProbeOnly it
// stays empty.
func (s *Server) combine() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.combineLocked()
}

func (s *Server) combineLocked() {
	if s.opts.ProbeOnly {
		return
	}
	orgs := *s.orgs.Load()
	snaps := make([]*series.Snapshot, 0, len(orgs))
	for _, name := range slices.Sorted(maps.Keys(orgs)) {
		snaps = append(snaps, orgs[name].snap.Load())
	}
	next := series.Combine(snaps...)
	s.warm(s.all.Load(), next)
	s.all.Store(next)
}

// warm encodes next as prev was scraped, before it is served.
func (s *Server) warm(prev, next *series.Snapshot) {
	if err := series.Warm(prev, next, time.Now()); err != nil {
		s.opts.Logger.Error("Encoding the series failed; scrapes in that format answer 500", "err", err)
	}
}

func (s *Server) serveProbe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("organization")
	orgs := *s.orgs.Load()
	o := orgs[name]
	if name == "" {
		http.Error(w, fmt.Sprintf("The organization parameter is missing: /probe?organization=NAME (configured: %s)",
			strings.Join(slices.Sorted(maps.Keys(orgs)), ", ")), http.StatusBadRequest)
		return
	}
	if o == nil { // quoted, and at most 64 characters of it
		http.Error(w, fmt.Sprintf("Unknown organization %.64q: not in the configuration (configured: %s)",
			name, strings.Join(slices.Sorted(maps.Keys(orgs)), ", ")), http.StatusNotFound)
		return
	}
	if o.start != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.probeWait(r.Header))
		o.start(ctx)
		cancel()
		o = (*s.orgs.Load())[name] // a start may have put a new run in its place
		if o == nil {
			http.Error(w, fmt.Sprintf("Organization %.64q was removed by a reload", name), http.StatusNotFound)
			return
		}
	}
	o.probe.ServeHTTP(w, r)
}

// maxScrapeTimeout bounds the scrape timeout a probe believes: Prometheus
// takes none longer than its scrape interval, and a header of "Inf" or a
// year must not hold a request for ever.
const maxScrapeTimeout = 5 * time.Minute

// probeWait is how long a probe that starts an organisation waits for its
// first refresh: 80% of the scrape timeout Prometheus sends
// (X-Prometheus-Scrape-Timeout-Seconds), leaving the rest to answer before
// Prometheus gives up; FirstProbeWait when it sends none that is usable.
func (s *Server) probeWait(h http.Header) time.Duration {
	secs, err := strconv.ParseFloat(h.Get("X-Prometheus-Scrape-Timeout-Seconds"), 64)
	if err != nil || !(secs > 0) || secs > maxScrapeTimeout.Seconds() { // !(>) refuses NaN too
		return s.opts.FirstProbeWait
	}
	return time.Duration(secs * 0.8 * float64(time.Second))
}

// health is the prometheus.Collector of every organisation's health, for
// /metrics (none with ProbeOnly). It describes nothing: the organisations
// come and go (an unchecked collector).
type health struct{ s *Server }

func (health) Describe(chan<- *prometheus.Desc) {}

func (h health) Collect(ch chan<- prometheus.Metric) {
	if h.s.opts.ProbeOnly {
		return
	}
	orgs := *h.s.orgs.Load()
	for _, name := range slices.Sorted(maps.Keys(orgs)) {
		for _, c := range orgs[name].health {
			c.Collect(ch)
		}
	}
}
