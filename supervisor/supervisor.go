// Package supervisor runs one exporter per Confluent Cloud organisation:
// its own API client, collectors, refresh loops and rate limit, so that one
// organisation failing, slow or rate-limited never delays or blanks
// another. It builds the set from the configuration and, on a reload,
// starts, stops or restarts organisations by diffing old and new. It owns
// the two handlers that serve them: every organisation's series together
// (Metrics, /metrics) and each alone (Probe, /probe). A refresh that
// changes a list publishes the organisation's new snapshot here, once; the
// supervisor encodes what changed and swaps what both handlers serve.
package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/config"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/scrape"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// Options configure a Supervisor.
type Options struct {
	// OnProbe refreshes an organisation only while it is probed: the first
	// probe starts it, and it stops when no probe came for idleIntervals
	// refresh intervals. Its series are then served by /probe only.
	OnProbe bool
	// Registry is gathered on every scrape of /metrics, after the
	// organisations' series: the supervisor registers the organisations'
	// health and upstream metrics and the handler's own counters in it, the
	// caller the process's (build info, go_*, process_*, reload).
	Registry *prometheus.Registry
	// MaxRequests bounds the scrapes encoding at once, /metrics and /probe
	// together; more get 503. 0: no bound.
	MaxRequests int
	// StoragePath is where each organisation's audit-log reader keeps
	// what it learnt; "" keeps it in memory.
	StoragePath string
	UserAgent   string
	Logger      log.Logger
	Slogger     *slog.Logger
}

// idleIntervals is how many refresh intervals an organisation refreshed on
// probe keeps running after its last probe.
const idleIntervals = 3

// Supervisor owns the running organisations and serves them. Make it with
// New; Apply gives it its organisations; Close stops them.
type Supervisor struct {
	opts    Options
	ctx     context.Context
	limit   chan struct{} // Options.MaxRequests, shared by every handler
	metrics http.Handler

	mu   sync.Mutex // Apply and Close, one at a time
	orgs map[string]*organization
	// running is orgs as a list sorted by name, read without mu by the
	// refresh goroutines, which Apply may be waiting for.
	running atomic.Pointer[[]*organization]

	combineMu sync.Mutex
	snapshot  atomic.Pointer[series.Snapshot] // every organisation's, for /metrics
}

// New returns a Supervisor with no organisations, whose refresh loops run
// until ctx ends or Close, and registers its metrics in opts.Registry.
func New(ctx context.Context, opts Options) *Supervisor {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	s := &Supervisor{opts: opts, ctx: ctx, orgs: map[string]*organization{}}
	if opts.MaxRequests > 0 {
		s.limit = make(chan struct{}, opts.MaxRequests)
	}
	s.running.Store(&[]*organization{})
	s.snapshot.Store(series.New())
	s.metrics = promhttp.InstrumentMetricHandler(opts.Registry, scrape.New(scrape.Opts{
		Static: s.snapshot.Load, Dynamic: opts.Registry, Registry: opts.Registry,
		Limit: s.limit, Logger: opts.Slogger,
	}))
	opts.Registry.MustRegister(s)
	return s
}

// Metrics serves /metrics: every organisation's series (none with
// OnProbe), then the registry's, as promhttp counts its requests.
func (s *Supervisor) Metrics() http.Handler { return s.metrics }

// Apply makes the running organisations those of cfgs: it starts the
// added ones, stops the removed ones (their series disappear) and restarts
// the changed ones. An organisation that did not change keeps running, and
// keeps its data. Nothing changes when an error is returned.
func (s *Supervisor) Apply(cfgs []config.Organization) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[string]*organization{}
	for _, c := range cfgs {
		old := s.orgs[c.Name]
		if old != nil && old.cfg.Equal(c) {
			next[c.Name] = old
			continue
		}
		audit := s.newAuditReader(c)
		if old != nil && old.auditOf() != nil && old.cfg.AuditLog.Equal(c.AuditLog) {
			audit = old.auditOf() // the same audit log: its reader goes on
		}
		o, err := s.newOrganization(c, audit)
		if err != nil {
			return fmt.Errorf("organization %q: %w", c.Name, err)
		}
		next[c.Name] = o
	}
	for name, old := range s.orgs {
		if next[name] == old {
			continue
		}
		old.stop()
		oldAudit := old.auditOf()
		what := "Stopped organization: no longer configured"
		if n := next[name]; n != nil {
			what = "Restarting organization: its configuration changed"
			if oldAudit != nil && n.audit == oldAudit {
				what += "; its audit log is read on"
			}
		}
		if n := next[name]; n == nil || n.audit != oldAudit {
			oldAudit.stop() // saves what it learnt
		}
		level.Info(s.opts.Logger).Log("msg", what, "organization", name)
	}
	for name, o := range next {
		if s.orgs[name] != o {
			s.logStart(o)
			if !s.opts.OnProbe {
				o.start(s.ctx)
			}
		}
	}
	s.orgs = next
	list := slices.SortedFunc(maps.Values(next), func(a, b *organization) int { return strings.Compare(a.cfg.Name, b.cfg.Name) })
	s.running.Store(&list)
	s.combine()
	return nil
}

func (s *Supervisor) logStart(o *organization) {
	c := o.cfg
	kv := []any{
		"msg", "Organization configured", "organization", c.Name,
		"url", c.BaseURL, "api_key", c.APIKey, "secret_from", c.SecretFrom,
		"page_size", c.PageSize, "timeout", c.Timeout, "refresh_interval", c.Interval,
	}
	for _, col := range collector.Collectors() {
		kv = append(kv, col.Flag(), c.On[col.Name])
	}
	kv = append(kv, "collector.api-keys.per-key", c.APIKeysPerKey, "collector.quotas.scopes", strings.ToLower(strings.Join(c.Scopes(), ",")),
		"refresh", map[bool]string{true: "on probe", false: "always"}[s.opts.OnProbe])
	level.Info(s.opts.Logger).Log(kv...)
	if a := c.AuditLog; a.Enabled() {
		level.Info(s.opts.Logger).Log("msg", "Audit log configured", "organization", c.Name,
			"bootstrap_servers", strings.Join(a.Bootstrap, ","), "api_key", a.APIKey, "secret_from", a.SecretFrom,
			"topic", a.Topic, "lookback", a.Lookback, "tls", a.TLS, "ca_file", a.CAFile)
		if !c.On["kafka_clusters"] {
			level.Warn(s.opts.Logger).Log("msg", "Without the kafka_clusters collector no Kafka cluster's kind is known: no Kafka API key's usage is tracked (Basic clusters have no audit log), and ConfluentAPIKeyUnused judges Schema Registry, ksqlDB and Flink keys only",
				"organization", c.Name)
		}
	}
	if c.Interval < 30*time.Second {
		level.Warn(s.opts.Logger).Log("msg", "A refresh interval under 30s spends the API's rate limit fast",
			"organization", c.Name, "refresh_interval", c.Interval)
	}
}

// Close stops every organisation and waits for its refreshes to end.
func (s *Supervisor) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orgs {
		o.stop()
		o.auditOf().stop()
	}
}

// auditOf returns the organisation's audit-log reader, nil without one.
func (o *organization) auditOf() *auditReader {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.audit
}

// Names returns the configured organisations' names, sorted.
func (s *Supervisor) Names() []string {
	var names []string
	for _, o := range *s.running.Load() {
		names = append(names, o.cfg.Name)
	}
	return names
}

// Ready reports whether every organisation has completed one refresh of
// every collector. Organisations refreshed on probe are not waited for:
// which of them a replica will be probed for is Prometheus's choice.
func (s *Supervisor) Ready() bool {
	if s.opts.OnProbe {
		return true
	}
	for _, o := range *s.running.Load() {
		if !o.current().exporter.Ready() {
			return false
		}
	}
	return true
}

// published takes an organisation's new snapshot, published by its
// exporter after a refresh changed a list: it is encoded in the formats its
// /probe was scraped in (only the families that changed), served there,
// and combined with the others' for /metrics.
func (s *Supervisor) published(r *run, snap *series.Snapshot) {
	s.warm(r.snapshot.Load(), snap)
	r.snapshot.Store(snap)
	s.combine()
}

// combine rebuilds what /metrics serves from each organisation's latest
// snapshot, encoded in the formats it was scraped in. With OnProbe it
// stays empty: each organisation's series are served by /probe only.
func (s *Supervisor) combine() {
	if s.opts.OnProbe {
		return
	}
	s.combineMu.Lock()
	defer s.combineMu.Unlock()
	var snaps []*series.Snapshot
	for _, o := range *s.running.Load() {
		snaps = append(snaps, o.current().snapshot.Load())
	}
	next := series.Combine(snaps...)
	s.warm(s.snapshot.Load(), next)
	s.snapshot.Store(next)
}

// warm encodes next as prev was scraped, before it is served: the first
// scrape after a refresh only writes bytes.
func (s *Supervisor) warm(prev, next *series.Snapshot) {
	if err := series.Warm(prev, next, time.Now()); err != nil {
		level.Error(s.opts.Logger).Log("msg", "Encoding the series failed; scrapes in that format answer 500", "err", err)
	}
}

// Describe implements prometheus.Collector. It describes nothing: the
// organisations come and go (an unchecked collector).
func (s *Supervisor) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector: the health and upstream
// metrics of every organisation, for /metrics. With OnProbe, none.
func (s *Supervisor) Collect(ch chan<- prometheus.Metric) {
	if s.opts.OnProbe {
		return
	}
	for _, o := range *s.running.Load() {
		r := o.current()
		r.exporter.Collect(ch)
		r.upstream.Collect(ch)
	}
}

// organization is one configured organisation. With OnProbe its run is
// replaced by a new one each time a probe starts it again.
type organization struct {
	cfg       config.Organization
	sup       *Supervisor
	lastProbe atomic.Int64 // Unix nanoseconds
	// audit reads the organisation's audit log (nil without one); with
	// OnProbe it is replaced with the run.
	audit *auditReader

	mu     sync.Mutex
	run    *run
	closed bool // stopped by Apply or Close: never started again
}

// run is one organisation's client, collectors and probe handler, from
// start to stop.
type run struct {
	exporter *collector.Exporter
	upstream *collector.Upstream
	snapshot atomic.Pointer[series.Snapshot] // the exporter's latest, as published
	probe    *scrape.Handler
	cancel   context.CancelFunc
	done     chan struct{}
}

func (s *Supervisor) newOrganization(c config.Organization, audit *auditReader) (*organization, error) {
	o := &organization{cfg: c, sup: s, audit: audit}
	r, err := o.newRun()
	if err != nil {
		return nil, err
	}
	o.run = r
	return o, nil
}

// newRun builds what reads and serves the organisation; start runs it.
func (o *organization) newRun() (*run, error) {
	c, s := o.cfg, o.sup
	r := &run{upstream: collector.NewUpstream(c.Name)}
	client, err := apiclient.New(apiclient.Config{
		BaseURL: c.BaseURL, APIKey: c.APIKey, Secret: c.Secret,
		PageSize: c.PageSize, MaxItems: c.MaxItems, Timeout: c.Timeout, Observer: r.upstream,
		UserAgent: s.opts.UserAgent,
	})
	if err != nil {
		return nil, err
	}
	r.snapshot.Store(series.New())
	r.exporter = collector.New(client, collector.Options{
		Organization: c.Name, Interval: c.Interval,
		Collectors: c.Names(), APIKeysPerKey: c.APIKeysPerKey, QuotaScopes: c.Scopes(),
		AuditLog: o.audit.readerOf(), AuditLogInfo: collector.AuditLogInfo{APIKey: c.AuditLog.APIKey, Topic: c.AuditLog.Topic},
		Logger:  s.opts.Logger,
		Publish: func(snap *series.Snapshot) { s.published(r, snap) },
	})
	reg := prometheus.NewRegistry()
	r.probe = scrape.New(scrape.Opts{Static: r.snapshot.Load, Dynamic: reg, Limit: s.limit, Logger: s.opts.Slogger})
	reg.MustRegister(r.exporter, r.upstream)
	return r, nil
}

func (o *organization) current() *run {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.run
}

// start runs the organisation's refresh loops until stop, or ctx ends.
func (o *organization) start(ctx context.Context) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.startLocked(ctx)
}

func (o *organization) startLocked(ctx context.Context) {
	r := o.run
	if r.done != nil || o.closed {
		return // running, or removed by a reload
	}
	o.audit.start(ctx)
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.exporter.Run(ctx)
	}()
	if f, ok := o.cfg.Secret.(secret.File); ok {
		// Not waited for by stop: a stat that hangs (a stale network
		// mount) must not hold a reload; it ends when the stat returns.
		go f.Watch(ctx, secretWatchEvery, func() {
			level.Info(o.sup.opts.Logger).Log("msg", "The secret file changed; retrying the collectors whose last refresh failed",
				"organization", o.cfg.Name)
			r.exporter.RetryFailed()
		})
	}
}

// secretWatchEvery is how often an organisation's secret file is looked
// at: a fixed secret is used within seconds, not at the next interval.
const secretWatchEvery = 2 * time.Second

// stop ends the refresh loops and waits for them.
func (o *organization) stop() {
	o.mu.Lock()
	o.closed = true
	cancel, done := o.run.cancel, o.run.done
	o.mu.Unlock()
	if done == nil {
		return // never started
	}
	cancel()
	<-done
}
