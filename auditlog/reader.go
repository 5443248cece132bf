// Package auditlog reads an organisation's Confluent Cloud audit log (the
// topic confluent-audit-log-events of its audit-log cluster) and folds
// every authentication with an API key into a table: per key, the newest
// successful authentication and the failures. It keeps no state on disk:
// each partition is read from the first offset at or after now − lookback,
// then followed; a restart reads the window again. It knows nothing of
// Prometheus (package collector turns it into series).
package auditlog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// DefaultTopic is the audit log's topic in every organisation's audit-log
// cluster.
const DefaultTopic = "confluent-audit-log-events"

// SecretSource yields the audit-log key's secret each time a connection
// authenticates, so that a rotated secret is used without a restart.
type SecretSource interface {
	Secret(ctx context.Context) (string, error)
}

// Config says where an organisation's audit log is and how to read it.
type Config struct {
	Bootstrap []string // host:port of the audit-log cluster's brokers
	APIKey    string   // an API key of the audit-log service account, on the audit-log cluster
	Secret    SecretSource
	Topic     string
	Lookback  time.Duration // how far back to read at start: the topic keeps 7 days
	TLS       bool          // SASL_SSL; false (SASL_PLAINTEXT) only for loopback brokers
	RootCAs   *x509.CertPool
}

// Reason classifies why reading failed: the reason label values of
// confluent_audit_log_errors_total.
type Reason string

// The reasons reading can fail for.
const (
	ReasonUnauthorized Reason = "unauthorized"
	ReasonNetwork      Reason = "network"
	ReasonTimeout      Reason = "timeout"
	ReasonTopicMissing Reason = "topic_missing"
	ReasonOther        Reason = "other"
)

// Reasons lists every Reason, in a stable order.
var Reasons = []Reason{ReasonUnauthorized, ReasonNetwork, ReasonTimeout, ReasonTopicMissing, ReasonOther}

// Status is how reading goes.
type Status struct {
	Up          bool      // connected and reading
	CaughtUp    bool      // every partition read up to the end it had at the start
	WindowStart time.Time // read continuously since then
	Newest      time.Time // event time of the newest record read
	Records     [numKinds]uint64
	Errors      map[Reason]uint64
}

// Reader reads one organisation's audit log. Make it with NewReader; Run
// reads until its context ends.
type Reader struct {
	org    string
	cfg    Config
	logger log.Logger
	table  *table

	// Tests shorten these.
	retryBase, retryMax time.Duration
	checkEvery          time.Duration // a check of the connection when no record came

	mu      sync.Mutex
	status  Status
	offsets map[int32]int64 // the next offset to read, per partition
	ends    map[int32]int64 // the end offsets at the start, for CaughtUp
}

// NewReader returns a Reader of cfg's audit log, for organisation org.
func NewReader(org string, cfg Config, logger log.Logger) *Reader {
	if cfg.Topic == "" {
		cfg.Topic = DefaultTopic
	}
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &Reader{
		org: org, cfg: cfg, logger: logger, table: newTable(),
		retryBase: time.Second, retryMax: time.Minute, checkEvery: 30 * time.Second,
		status: Status{Errors: map[Reason]uint64{}},
	}
}

// Status returns how reading goes.
func (r *Reader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Errors = make(map[Reason]uint64, len(r.status.Errors))
	for k, v := range r.status.Errors {
		s.Errors[k] = v
	}
	return s
}

// LastSuccesses returns the keys listed accepts that authenticated, with
// when they last did.
func (r *Reader) LastSuccesses(listed func(id string) bool) []Key {
	return r.table.lastSuccesses(listed)
}

// Failures returns the keys listed accepts that failed to authenticate,
// with how often, and the failures of every identifier that is no listed
// key (never a label value: a client typed it).
func (r *Reader) Failures(listed func(id string) bool) (keys []Key, unknown uint64) {
	return r.table.failures(listed)
}

// Version changes whenever LastSuccesses or Failures would, listed the same.
func (r *Reader) Version() uint64 {
	r.table.mu.Lock()
	defer r.table.mu.Unlock()
	return r.table.version
}

// Run reads the log from now − Lookback and follows it until ctx ends.
// Failures are counted by reason, logged, and retried with backoff; a
// retry resumes where reading stopped.
func (r *Reader) Run(ctx context.Context) {
	r.seek(time.Now())
	wait := r.retryBase
	for ctx.Err() == nil {
		progressed, err := r.session(ctx)
		r.setUp(false)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			wait = r.retryBase
		}
		reason := ReasonOf(err)
		r.mu.Lock()
		r.status.Errors[reason]++
		r.mu.Unlock()
		level.Warn(r.logger).Log("msg", "Reading the audit log failed; retrying", "organization", r.org,
			"reason", reason, "retry_in", wait, "err", err)
		t := time.NewTimer(jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, r.retryMax)
	}
}

// jitter returns a wait in [d/2, d], so that exporters restarted together
// do not retry together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// seek starts the window at now − Lookback: every partition is read from
// its first offset at or after then.
func (r *Reader) seek(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offsets, r.ends = map[int32]int64{}, nil
	r.status.WindowStart, r.status.CaughtUp = now.Add(-r.cfg.Lookback), false
}

func (r *Reader) setUp(up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status.Up = up
}

// session connects, checks the credentials and the topic, and reads until
// an error. progressed says whether it read anything.
func (r *Reader) session(ctx context.Context) (progressed bool, err error) {
	if err := r.reachable(ctx); err != nil {
		return false, err
	}
	cl, err := kgo.NewClient(r.options()...)
	if err != nil {
		return false, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	partitions, err := r.check(ctx, adm)
	if err != nil {
		return false, err
	}
	if err := r.position(ctx, adm, partitions); err != nil {
		return false, err
	}
	cl.AddConsumePartitions(r.consumeFrom())
	r.setUp(true)
	level.Info(r.logger).Log("msg", "Reading the audit log", "organization", r.org, "topic", r.cfg.Topic,
		"partitions", len(partitions), "window_start", r.Status().WindowStart.Format(time.RFC3339))

	var d decoder
	for {
		pollCtx, cancel := context.WithTimeout(ctx, r.checkEvery)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return progressed, ctx.Err()
		}
		var fetchErr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && fetchErr == nil {
				fetchErr = err
			}
		})
		if fetchErr != nil {
			return progressed, fetchErr
		}
		var batch readBatch
		fetches.EachRecord(func(rec *kgo.Record) {
			kind, a := d.decode(rec.Value, rec.Timestamp)
			if kind == KindAuthentication {
				r.table.add(a)
			} else {
				a.at = rec.Timestamp
			}
			batch.add(rec, kind, a.at)
		})
		if batch.records > 0 {
			r.read(&batch)
			progressed = true
			continue
		}
		// Nothing came for a while: is the cluster still there, with the
		// same partitions?
		now, err := r.check(ctx, adm)
		if err != nil {
			return progressed, err
		}
		if len(now) != len(partitions) {
			return progressed, fmt.Errorf("%w: the topic has %d partitions, had %d", errPartitionsChanged, len(now), len(partitions))
		}
	}
}

// readBatch is what one poll read: counted apart, noted at once.
type readBatch struct {
	records int
	kinds   [numKinds]uint64
	newest  time.Time
	next    map[int32]int64 // the next offset to read, per partition
}

func (b *readBatch) add(rec *kgo.Record, kind Kind, at time.Time) {
	if b.next == nil {
		b.next = map[int32]int64{}
	}
	b.records++
	b.kinds[kind]++
	if at.After(b.newest) {
		b.newest = at
	}
	b.next[rec.Partition] = rec.Offset + 1
}

// read notes what a poll read: the records by kind, the newest time, each
// partition's next offset.
func (r *Reader) read(b *readBatch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, n := range b.kinds {
		r.status.Records[k] += n
	}
	if b.newest.After(r.status.Newest) {
		r.status.Newest = b.newest
	}
	for p, next := range b.next {
		r.offsets[p] = next
	}
	r.updateCaughtUp()
}

// updateCaughtUp sets CaughtUp once every partition's next offset reached
// the end it had at the start. r.mu is held.
func (r *Reader) updateCaughtUp() {
	if r.status.CaughtUp || r.ends == nil {
		return
	}
	for p, end := range r.ends {
		if r.offsets[p] < end {
			return
		}
	}
	r.status.CaughtUp = true
}

// consumeFrom is where each partition is read from.
func (r *Reader) consumeFrom() map[string]map[int32]kgo.Offset {
	r.mu.Lock()
	defer r.mu.Unlock()
	from := map[int32]kgo.Offset{}
	for p, o := range r.offsets {
		from[p] = kgo.NewOffset().At(o)
	}
	return map[string]map[int32]kgo.Offset{r.cfg.Topic: from}
}

// position finds where each partition is read from: where reading
// stopped, or, for a partition not read yet, the first offset at or after
// the window's start (where retention has deleted records after it, the
// window starts at the first record left). At the first session it notes
// the end offsets, for CaughtUp. A partition whose next offset retention
// has deleted breaks the window: it starts again at now − Lookback.
func (r *Reader) position(ctx context.Context, adm *kadm.Client, partitions []int32) error {
	ctx, cancel := context.WithTimeout(ctx, r.checkEvery)
	defer cancel()
	starts, err := listed(adm.ListStartOffsets(ctx, r.cfg.Topic))
	if err != nil {
		return err
	}
	r.mu.Lock()
	lost := false
	for p, next := range r.offsets {
		if start, ok := starts.Lookup(r.cfg.Topic, p); ok && next < start.Offset {
			lost = true
		}
	}
	r.mu.Unlock()
	if lost {
		level.Warn(r.logger).Log("msg", "The audit log's retention passed where reading stopped: reading the window again", "organization", r.org)
		r.seek(time.Now())
	}
	r.mu.Lock()
	noted := r.ends != nil
	r.mu.Unlock()
	if !noted {
		ends, err := listed(adm.ListEndOffsets(ctx, r.cfg.Topic))
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.ends = map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) { r.ends[o.Partition] = o.Offset })
		r.mu.Unlock()
	}
	after, err := listed(adm.ListOffsetsAfterMilli(ctx, r.Status().WindowStart.UnixMilli(), r.cfg.Topic))
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range partitions {
		if _, ok := r.offsets[p]; ok {
			continue
		}
		start, _ := starts.Lookup(r.cfg.Topic, p)
		o, ok := after.Lookup(r.cfg.Topic, p)
		if !ok || o.Offset < 0 {
			r.offsets[p] = start.Offset
			continue
		}
		r.offsets[p] = o.Offset
		// Retention has deleted records, and the first left is after the
		// window's start: the window starts there.
		if o.Offset == start.Offset && start.Offset > 0 && o.Timestamp > r.status.WindowStart.UnixMilli() {
			r.status.WindowStart = time.UnixMilli(o.Timestamp)
		}
	}
	r.updateCaughtUp()
	return nil
}

// listed returns the offsets a kadm call listed, and its error or else
// the first error of a partition in them (a partition the broker refused).
func listed(o kadm.ListedOffsets, err error) (kadm.ListedOffsets, error) {
	if err == nil {
		err = o.Error()
	}
	return o, err
}

// errPartitionsChanged ends a session so that the next reads every
// partition the topic has now.
var errPartitionsChanged = errors.New("partitions added")

// errTopicMissing is a cluster without the audit log's topic.
var errTopicMissing = errors.New("topic missing")

// check asks the cluster for the topic's partitions: the first request of a
// connection, so a wrong key or secret fails it.
func (r *Reader) check(ctx context.Context, adm *kadm.Client) ([]int32, error) {
	ctx, cancel := context.WithTimeout(ctx, r.checkEvery)
	defer cancel()
	md, err := adm.Metadata(ctx, r.cfg.Topic)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// The brokers were reached (reachable), and closed the connection
			// during authentication: what Confluent Cloud does with a key or
			// secret it does not accept.
			return nil, fmt.Errorf("%w: the broker closed the connection while authenticating %s (%w)", errUnauthorized, r.cfg.APIKey, err)
		}
		return nil, err
	}
	td, ok := md.Topics[r.cfg.Topic]
	switch {
	case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		return nil, fmt.Errorf("%w: %s is not on the cluster", errTopicMissing, r.cfg.Topic)
	case td.Err != nil:
		return nil, fmt.Errorf("topic %s: %w", r.cfg.Topic, td.Err)
	}
	var partitions []int32
	for p := range td.Partitions {
		partitions = append(partitions, p)
	}
	return partitions, nil
}

// errUnauthorized is a key or secret the cluster does not accept.
var errUnauthorized = errors.New("unauthorized")

// reachable dials the brokers (and shakes hands in TLS) before any Kafka
// request, so that a connection closed during authentication can be told
// from a broker that cannot be reached.
func (r *Reader) reachable(ctx context.Context) error {
	var errs []error
	for _, addr := range r.cfg.Bootstrap {
		d := &net.Dialer{Timeout: 10 * time.Second}
		var conn net.Conn
		var err error
		if r.cfg.TLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: r.tlsConfig(addr)}).DialContext(ctx, "tcp", addr)
		} else {
			conn, err = d.DialContext(ctx, "tcp", addr)
		}
		if err == nil {
			conn.Close()
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (r *Reader) tlsConfig(addr string) *tls.Config {
	host, _, _ := net.SplitHostPort(addr)
	return &tls.Config{RootCAs: r.cfg.RootCAs, ServerName: host, MinVersion: tls.VersionTLS12}
}

// options configure the Kafka client: SASL PLAIN over TLS with the secret
// read for each connection, no consumer group, bounded fetches.
func (r *Reader) options() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(r.cfg.Bootstrap...),
		kgo.SASL(plain.Plain(func(ctx context.Context) (plain.Auth, error) {
			secret, err := r.cfg.Secret.Secret(ctx)
			if err != nil {
				return plain.Auth{}, fmt.Errorf("reading the audit log's secret: %w", err)
			}
			return plain.Auth{User: r.cfg.APIKey, Pass: secret}, nil
		})),
		kgo.DialTimeout(10 * time.Second),
		kgo.RetryTimeout(r.checkEvery),
		kgo.MetadataMinAge(min(5*time.Second, r.checkEvery)), // the check of the partitions reads it
		kgo.FetchMaxBytes(1 << 20),
		kgo.FetchMaxPartitionBytes(256 << 10),
		kgo.MaxConcurrentFetches(1),
		kgo.ClientID("confluent_keys_exporter"),
	}
	if r.cfg.TLS {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: r.cfg.RootCAs, MinVersion: tls.VersionTLS12}))
	}
	return opts
}

// ReasonOf classifies an error of reading.
func ReasonOf(err error) Reason {
	var netErr net.Error
	switch {
	case errors.Is(err, errUnauthorized), errors.Is(err, kerr.SaslAuthenticationFailed),
		errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.IllegalSaslState), errors.Is(err, kerr.UnsupportedSaslMechanism):
		return ReasonUnauthorized
	case errors.Is(err, errTopicMissing), errors.Is(err, kerr.UnknownTopicOrPartition):
		return ReasonTopicMissing
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	case errors.As(err, &netErr), errors.Is(err, io.EOF), strings.Contains(fmt.Sprint(err), "connection refused"):
		return ReasonNetwork
	}
	return ReasonOther
}
