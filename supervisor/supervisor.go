// Package supervisor runs one refresher per Confluent Cloud organisation:
// its own API client, collectors, refresh loops and rate limit, so that one
// organisation failing, slow or rate-limited never delays or blanks
// another. It builds the set from the configuration and, on a reload,
// starts, stops or restarts organisations by diffing old and new; each
// publishes what it reads to the server (package scrape), which serves it.
package supervisor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/config"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/scrape"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// Options configure a Supervisor.
type Options struct {
	// Server serves what the organisations read.
	Server *scrape.Server
	// OnProbe refreshes an organisation only while it is probed: the first
	// probe starts it, and it stops when no probe came for idleIntervals
	// refresh intervals. (The server then serves it on /probe only.)
	OnProbe bool
	// StoragePath is where each organisation's audit-log reader keeps
	// what it learnt; "" keeps it in memory.
	StoragePath string
	UserAgent   string
	Logger      log.Logger
}

// Supervisor owns the running organisations. Make it with New; Apply gives
// it its organisations; Close stops them.
type Supervisor struct {
	opts Options
	ctx  context.Context

	mu   sync.Mutex // Apply and Close, one at a time
	orgs map[string]*organization
	// running is orgs as a list sorted by name, read without mu.
	running atomic.Pointer[[]*organization]
}

// New returns a Supervisor with no organisations, whose refresh loops run
// until ctx ends or Close.
func New(ctx context.Context, opts Options) *Supervisor {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	s := &Supervisor{opts: opts, ctx: ctx, orgs: map[string]*organization{}}
	s.running.Store(&[]*organization{})
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
		if next[name] == nil {
			s.opts.Server.Remove(name)
		}
		level.Info(s.opts.Logger).Log("msg", what, "organization", name)
	}
	for name, o := range next {
		if s.orgs[name] != o {
			s.logStart(o)
			s.opts.Server.Serve(o.run.served)
			if !s.opts.OnProbe {
				o.start(s.ctx)
			}
		}
	}
	s.orgs = next
	list := slices.SortedFunc(maps.Values(next), func(a, b *organization) int { return strings.Compare(a.cfg.Name, b.cfg.Name) })
	s.running.Store(&list)
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
		if !o.current().refresher.Ready() {
			return false
		}
	}
	return true
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

// run is one organisation's client and refresher, from start to stop, and
// what serves what it reads.
type run struct {
	refresher *collector.Refresher
	served    *scrape.Served
	cancel    context.CancelFunc
	done      chan struct{}
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

// newRun builds what reads the organisation and what will serve it; start
// runs it.
func (o *organization) newRun() (*run, error) {
	c, s := o.cfg, o.sup
	upstream := collector.NewUpstream(c.Name)
	client, err := apiclient.New(apiclient.Config{
		BaseURL: c.BaseURL, APIKey: c.APIKey, Secret: c.Secret,
		PageSize: c.PageSize, MaxItems: c.MaxItems, Timeout: c.Timeout, Observer: upstream,
		UserAgent: s.opts.UserAgent,
	})
	if err != nil {
		return nil, err
	}
	var start func(context.Context)
	if s.opts.OnProbe {
		start = o.probed
	}
	r := &run{served: s.opts.Server.Organization(c.Name, start)}
	r.refresher = collector.New(client, collector.Options{
		Organization: c.Name, Interval: c.Interval,
		Collectors: c.Names(), APIKeysPerKey: c.APIKeysPerKey, QuotaScopes: c.Scopes(),
		AuditLog: o.audit.readerOf(), AuditLogInfo: collector.AuditLogInfo{APIKey: c.AuditLog.APIKey, Topic: c.AuditLog.Topic},
		Logger:  s.opts.Logger,
		Publish: r.served,
	})
	r.served.MustRegister(r.refresher, upstream)
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
		r.refresher.Run(ctx)
	}()
	if f, ok := o.cfg.Secret.(secret.File); ok {
		// Not waited for by stop: a stat that hangs (a stale network
		// mount) must not hold a reload; it ends when the stat returns.
		go f.Watch(ctx, secretWatchEvery, func() {
			level.Info(o.sup.opts.Logger).Log("msg", "The secret file changed; retrying the collectors whose last refresh failed",
				"organization", o.cfg.Name)
			r.refresher.RetryFailed()
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
