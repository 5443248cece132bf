// Package supervisor runs one exporter per Confluent Cloud organisation:
// its own API client, collectors, refresh loops and rate limit, so that one
// organisation failing, slow or rate-limited never delays or blanks
// another. It builds the set from the configuration and, on a reload,
// starts, stops or restarts organisations by diffing old and new. It serves
// every organisation's series together (/metrics) and each alone (/probe).
package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/config"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/scrape"
)

// Options configure a Supervisor.
type Options struct {
	// OnProbe refreshes an organisation only while it is probed: the first
	// probe starts it, and it stops when no probe came for idleIntervals
	// refresh intervals. Its series are then served by /probe only.
	OnProbe bool
	// OnSwap is called after the series of every organisation together
	// changed (the /metrics handler's Warm).
	OnSwap func()
	// Limit bounds the probes encoding at once (shared with /metrics).
	Limit     chan struct{}
	UserAgent string
	Logger    log.Logger
	Slogger   *slog.Logger
}

// idleIntervals is how many refresh intervals an organisation refreshed on
// probe keeps running after its last probe.
const idleIntervals = 3

// Supervisor owns the running organisations. Make it with New; Apply
// gives it its organisations; Close stops them.
type Supervisor struct {
	opts Options
	ctx  context.Context

	mu   sync.Mutex // Apply and Close, one at a time
	orgs map[string]*organization
	// running is orgs as a list sorted by name, read without mu by the
	// refresh goroutines, which Apply may be waiting for.
	running atomic.Pointer[[]*organization]

	mergeMu  sync.Mutex
	snapshot atomic.Pointer[collector.Snapshot]
}

// New returns a Supervisor with no organisations, whose refresh loops run
// until ctx ends or Close.
func New(ctx context.Context, opts Options) *Supervisor {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	s := &Supervisor{opts: opts, ctx: ctx, orgs: map[string]*organization{}}
	s.running.Store(&[]*organization{})
	s.snapshot.Store(collector.Combine())
	return s
}

// Apply makes the running organisations those of cfgs: it starts the
// added ones, stops the removed ones (their series disappear) and restarts
// the changed ones. An organisation that did not change keeps running, and
// keeps its data. Nothing changes when an error is returned.
func (s *Supervisor) Apply(cfgs []config.Organization) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[string]*organization{}
	for _, c := range cfgs {
		if old := s.orgs[c.Name]; old != nil && old.cfg.Equal(c) {
			next[c.Name] = old
			continue
		}
		o, err := s.newOrganization(c)
		if err != nil {
			return fmt.Errorf("organization %q: %w", c.Name, err)
		}
		next[c.Name] = o
	}
	for name, old := range s.orgs {
		if next[name] != old {
			old.stop()
			what := "Stopped organization: no longer configured"
			if next[name] != nil {
				what = "Restarting organization: its configuration changed"
			}
			level.Info(s.opts.Logger).Log("msg", what, "organization", name)
		}
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
	s.merge()
	return nil
}

func (s *Supervisor) logStart(o *organization) {
	c := o.cfg
	level.Info(s.opts.Logger).Log("msg", "Organization configured", "organization", c.Name,
		"url", c.BaseURL, "api_key", c.APIKey, "secret_from", c.SecretSource,
		"page_size", c.PageSize, "timeout", c.Timeout, "refresh_interval", c.Interval,
		"collector.byok", c.BYOK, "collector.api_keys", c.APIKeys, "collector.api_keys.per_key", c.APIKeysPerKey,
		"collector.service_accounts", c.ServiceAccounts, "collector.users", c.Users, "collector.environments", c.Environments,
		"collector.kafka_clusters", c.KafkaClusters, "collector.quotas", c.Quotas, "collector.quotas.scopes", strings.ToLower(strings.Join(c.Scopes(), ",")),
		"collector.organization", c.OrgInfo,
		"refresh", map[bool]string{true: "on probe", false: "always"}[s.opts.OnProbe])
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
	}
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

// Snapshot returns the key metrics of every organisation, as one value
// replaced whenever one of them changes (for /metrics). With OnProbe it is
// empty: each organisation's series are served by /probe only.
func (s *Supervisor) Snapshot() *collector.Snapshot { return s.snapshot.Load() }

// merge rebuilds Snapshot from each organisation's latest.
func (s *Supervisor) merge() {
	if s.opts.OnProbe {
		return
	}
	s.mergeMu.Lock()
	var snaps []*collector.Snapshot
	for _, o := range *s.running.Load() {
		snaps = append(snaps, o.current().exporter.Snapshot())
	}
	s.snapshot.Store(collector.Combine(snaps...))
	s.mergeMu.Unlock()
	if s.opts.OnSwap != nil {
		s.opts.OnSwap()
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

	mu     sync.Mutex
	run    *run
	closed bool // stopped by Apply or Close: never started again
}

// run is one organisation's client, collectors and probe handler, from
// start to stop.
type run struct {
	exporter *collector.Exporter
	upstream *collector.Upstream
	probe    *scrape.Handler
	cancel   context.CancelFunc
	done     chan struct{}
}

func (s *Supervisor) newOrganization(c config.Organization) (*organization, error) {
	o := &organization{cfg: c, sup: s}
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
		PageSize: c.PageSize, Timeout: c.Timeout, Observer: r.upstream,
		UserAgent: s.opts.UserAgent,
	})
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	r.probe = scrape.New(scrape.Opts{
		Static: func() *collector.Snapshot { return r.exporter.Snapshot() }, Dynamic: reg,
		Limit: s.opts.Limit, Logger: s.opts.Slogger,
	})
	r.exporter = collector.New(client, collector.Options{
		Organization: c.Name, Interval: c.Interval,
		BYOK: c.BYOK, APIKeys: c.APIKeys, APIKeysPerKey: c.APIKeysPerKey,
		ServiceAccounts: c.ServiceAccounts, Users: c.Users, Environments: c.Environments,
		KafkaClusters: c.KafkaClusters, Quotas: c.Quotas, QuotaScopes: c.Scopes(), OrgInfo: c.OrgInfo,
		Logger: s.opts.Logger,
		OnSwap: func() {
			r.probe.Warm()
			s.merge()
		},
	})
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
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.exporter.Run(ctx)
	}()
}

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
