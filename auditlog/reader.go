// Package auditlog reads an organisation's Confluent Cloud audit log (the
// topic confluent-audit-log-events of its audit-log cluster) and folds
// every sign-in with an API key into a table: per key, the newest
// successful authentication and the failures. What it learns is kept in a
// state file (Config.StateFile), so that a restart reads only what was
// written since, and a last use older than the topic's retention stays
// known. It knows nothing of Prometheus (package collector turns it into
// series).
package auditlog

import (
	"context"
	"crypto/x509"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/backoff"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// DefaultTopic is the audit log's topic in every organisation's audit-log
// cluster.
const DefaultTopic = "confluent-audit-log-events"

// Config says where an organisation's audit log is and how to read it.
type Config struct {
	Bootstrap []string      // host:port of the audit-log cluster's brokers
	APIKey    string        // an API key of the audit-log service account, on the audit-log cluster
	Secret    secret.Source // read at every connection: a rotated secret needs no restart
	Topic     string
	Lookback  time.Duration // how far back to read what was never read: the topic keeps 7 days
	TLS       bool          // SASL_SSL; false (SASL_PLAINTEXT) only for loopback brokers
	RootCAs   *x509.CertPool
	// StateFile keeps what was learnt across restarts; "" keeps it in
	// memory only.
	StateFile string
}

// The operations on the state file, as confluent_audit_log_state_errors_total
// counts their failures.
const (
	OpLoad = "load"
	OpSave = "save"
)

// Status is how reading goes.
type Status struct {
	Up       bool // connected and reading
	CaughtUp bool // every partition read up to the end it had when reading started
	// WindowStart: the log has been read without a gap since then, kept
	// across restarts.
	WindowStart time.Time
	Newest      time.Time // time of the newest record read
	Records     [NumKinds]uint64
	Errors      map[Reason]uint64
	// Lag is how many records the brokers have that are not read yet: the
	// end offsets last seen minus the positions; -1 until known.
	Lag int64
	// Untrusted counts event times not believed: the record's time stood in.
	Untrusted   uint64
	Saved       time.Time // the last good save of the state file
	StateErrors map[string]uint64
}

// Usage is what the audit log says of the listed keys, at one moment:
// the last authentications and failures together with whether reading had
// caught up then, so that a served caught_up of 1 always comes with every
// authentication read.
type Usage struct {
	Known         bool // a list of keys was given: failures can be told apart
	CaughtUp      bool
	WindowStart   time.Time
	LastSuccesses []Key // keys of the latest list that authenticated
	Failures      []Key // keys listed within the lookback that failed
	Unknown       uint64
}

// Reader reads one organisation's audit log. Make it with NewReader; Run
// reads until its context ends.
type Reader struct {
	org    string
	cfg    Config
	logger log.Logger
	timing timing

	listed     chan struct{} // closed by the first SetListed
	listedOnce sync.Once
	caughtUp   chan struct{} // closed when reading first catches up

	saveMu   sync.Mutex // one save at a time
	lastSave time.Time  // when the last save was tried; saveMu

	mu      sync.Mutex
	table   table
	status  Status
	source  logSource           // the log the positions are of
	parts   map[int32]*position // per partition
	ends    map[int32]int64     // the end offsets when reading started, for CaughtUp; nil before
	changes uint64              // changes of what the state file keeps
	saved   uint64              // changes when the last good save was taken
	usageV  uint64              // changes of Usage beyond the table's
	failing bool                // the last save failed (it was logged)
}

// position is where a partition is read up to.
type position struct {
	next  int64 // the next offset to read
	since int64 // read without a gap since then, Unix nanoseconds; 0: since the partition was made
}

// timing are the reader's intervals; tests shorten them.
type timing struct {
	retryBase, retryMax time.Duration // backoff of sessions and of a failing partition
	checkEvery          time.Duration // new partitions, the lag, a stall
	stallAfter          time.Duration // no progress with records to read: stalled
	saveEvery           time.Duration // at most this often while something changed
	listWait            time.Duration // how long reading waits for the first list of keys
	maxReadBytes        int32         // the largest response read: a larger batch stops its partition
}

var defaultTiming = timing{
	retryBase: time.Second, retryMax: time.Minute, checkEvery: 30 * time.Second,
	stallAfter: 5 * time.Minute, saveEvery: time.Minute, listWait: time.Minute,
	maxReadBytes: 8 << 20,
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
		org: org, cfg: cfg, logger: logger, timing: defaultTiming,
		listed: make(chan struct{}), caughtUp: make(chan struct{}), table: newTable(), parts: map[int32]*position{},
		status: Status{Errors: map[Reason]uint64{}, StateErrors: map[string]uint64{OpLoad: 0, OpSave: 0}, Lag: -1},
	}
}

// Status returns how reading goes.
func (r *Reader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Errors = maps.Clone(r.status.Errors)
	s.StateErrors = maps.Clone(r.status.StateErrors)
	s.WindowStart = r.windowStart()
	return s
}

// Usage returns what the audit log says of the listed keys now.
func (r *Reader) Usage() Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := Usage{Known: r.table.known(), CaughtUp: r.status.CaughtUp, WindowStart: r.windowStart(), LastSuccesses: r.table.lastSuccesses()}
	if u.Known {
		u.Failures, u.Unknown = r.table.failures()
	}
	return u
}

// Version changes whenever Usage would.
func (r *Reader) Version() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.table.version + r.usageV
}

// SetListed gives the keys of a complete list of the organisation's API
// keys: only they become label values, their failures are always theirs,
// and a key no list names for longer than the lookback is forgotten.
func (r *Reader) SetListed(ids []string) {
	r.mu.Lock()
	r.table.setListed(ids, time.Now().UnixNano())
	r.changes++
	r.mu.Unlock()
	r.listedOnce.Do(func() { close(r.listed) })
}

// windowStart is the latest of the partitions' starts: the log as a whole
// has been read without a gap since then. r.mu is held.
func (r *Reader) windowStart() time.Time {
	var latest int64
	for _, p := range r.parts {
		latest = max(latest, p.since)
	}
	if latest == 0 {
		return time.Time{}
	}
	return time.Unix(0, latest).UTC()
}

// Run reads the log until ctx ends: it resumes where the state file says,
// reads what was never read from now − Lookback, and follows. Failures are
// counted by reason, logged, and retried with backoff. The state is saved
// while something changed, at most every minute, and when Run returns.
func (r *Reader) Run(ctx context.Context) {
	r.load(time.Now())
	defer r.save()
	if !r.waitForList(ctx) {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	saveCtx, stopSaving := context.WithCancel(ctx)
	defer stopSaving()
	wg.Go(func() { r.saveWhileRunning(saveCtx) })

	wait := r.timing.retryBase
	for ctx.Err() == nil {
		progressed, err := r.session(ctx)
		r.setUp(false)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			wait = r.timing.retryBase
		}
		reason := ReasonOf(err)
		r.mu.Lock()
		r.status.Errors[reason]++
		r.mu.Unlock()
		level.Warn(r.logger).Log("msg", "Reading the audit log failed; retrying", "organization", r.org,
			"reason", reason, "retry_in", wait, "err", err)
		if !sleep(ctx, backoff.Jitter(wait)) { // exporters restarted together do not retry together
			return
		}
		wait = min(2*wait, r.timing.retryMax)
	}
}

// waitForList waits, up to listWait, for the first list of keys (or for
// keys from the state file), so that the failures of listed keys are
// theirs however many identifiers clients typed before. It reports
// whether ctx is still running.
func (r *Reader) waitForList(ctx context.Context) bool {
	r.mu.Lock()
	known := r.table.known()
	r.mu.Unlock()
	if known {
		return true
	}
	t := time.NewTimer(r.timing.listWait)
	defer t.Stop()
	select {
	case <-r.listed:
	case <-t.C:
		level.Warn(r.logger).Log("msg", "No list of API keys yet: reading the audit log without it (failures of keys listed later count under key_id=\"\")",
			"organization", r.org, "waited", r.timing.listWait)
	case <-ctx.Done():
		return false
	}
	return true
}

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *Reader) setUp(up bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status.Up = up
}

// updateCaughtUp sets CaughtUp once every partition's next offset reached
// the end it had when reading started. r.mu is held.
func (r *Reader) updateCaughtUp() {
	if r.status.CaughtUp || r.ends == nil {
		return
	}
	for p, end := range r.ends {
		if pos := r.parts[p]; pos == nil || pos.next < end {
			return
		}
	}
	r.status.CaughtUp = true
	r.usageV++
	close(r.caughtUp)
}

// load reads the state file, if there is one: a file that cannot be read
// is counted, logged and set aside, and the log is read afresh.
func (r *Reader) load(now time.Time) {
	if r.cfg.StateFile == "" {
		return
	}
	s, err := readStateFile(r.cfg.StateFile, now)
	if err != nil {
		r.mu.Lock()
		r.status.StateErrors[OpLoad]++
		r.mu.Unlock()
		aside, aerr := setAside(r.cfg.StateFile)
		if aerr != nil {
			aside = "(it could not be moved: " + aerr.Error() + ")"
		}
		level.Error(r.logger).Log("msg", "The audit log's state file cannot be read: reading the log afresh from the lookback",
			"organization", r.org, "file", r.cfg.StateFile, "set_aside_as", aside, "err", err)
		return
	}
	if s == nil {
		level.Info(r.logger).Log("msg", "No audit-log state saved yet: reading the log from the lookback", "organization", r.org, "file", r.cfg.StateFile)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.table.restore(s.Keys, s.LatestList)
	r.source = s.logSource
	for _, p := range s.Partitions {
		r.parts[p.Partition] = &position{next: p.Next, since: p.Since}
	}
	r.status.Saved = time.Unix(0, s.SavedAt)
	if s.Newest != 0 {
		r.status.Newest = time.Unix(0, s.Newest).UTC()
	}
	r.usageV++
	level.Info(r.logger).Log("msg", "Resuming the audit log where it was saved", "organization", r.org, "file", r.cfg.StateFile,
		"saved_at", r.status.Saved.UTC().Format(time.RFC3339), "keys", len(s.Keys), "partitions", len(s.Partitions),
		"window_start", r.windowStart().Format(time.RFC3339))
}

// saveWhileRunning saves the state every saveEvery while it changed, and
// once reading has caught up (a catch-up is what a restart would have to
// do again), never twice within saveEvery.
func (r *Reader) saveWhileRunning(ctx context.Context) {
	t := time.NewTicker(r.timing.saveEvery)
	defer t.Stop()
	caughtUp := r.caughtUp
	for {
		select {
		case <-ctx.Done():
			return
		case <-caughtUp:
			caughtUp = nil
		case <-t.C:
		}
		r.mu.Lock()
		dirty := r.changes != r.saved
		r.mu.Unlock()
		r.saveMu.Lock()
		due := time.Since(r.lastSave) >= r.timing.saveEvery
		r.saveMu.Unlock()
		if dirty && due {
			r.save()
		}
	}
}

// save writes the state file. Reading goes on meanwhile: the state is
// copied under the lock, then encoded and written without it. A failure is
// counted; the first of a run of them is logged as a warning, and the
// usage stays in memory.
func (r *Reader) save() {
	if r.cfg.StateFile == "" {
		return
	}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.lastSave = time.Now()
	s, changes := r.snapshot(r.lastSave)
	if s == nil {
		return // nothing read or listed yet
	}
	err := writeFileAtomic(r.cfg.StateFile, s.encode())
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.status.StateErrors[OpSave]++
		lvl := level.Warn
		if r.failing {
			lvl = level.Debug
		}
		r.failing = true
		lvl(r.logger).Log("msg", "Saving the audit log's state failed: key usage is kept in memory only, and a restart reads the log again from the lookback",
			"organization", r.org, "file", r.cfg.StateFile, "err", err)
		return
	}
	if r.failing {
		level.Info(r.logger).Log("msg", "Saving the audit log's state works again", "organization", r.org, "file", r.cfg.StateFile)
	}
	r.failing = false
	r.saved = changes
	r.status.Saved = time.Unix(0, s.SavedAt)
}

// copyChunk is how many rows of the table a save copies per hold of the
// lock: reading waits for one chunk at most (tens of microseconds).
const copyChunk = 4096

// snapshot copies what the state file keeps, and prunes the keys the
// lookback left behind. The offsets are copied first, then the keys a
// chunk at a time: a key's row changes only by records read after the
// offsets were copied, which a restart reads again, so the file never has
// an offset past a record whose effect it does not hold. Rows only grow
// between chunks: prune runs here alone, under saveMu.
func (r *Reader) snapshot(now time.Time) (*state, uint64) {
	s, changes, rows := r.snapshotHead(now)
	if s == nil {
		return nil, 0
	}
	// A chunk is copied into memory already touched: the page faults of a
	// fresh buffer are not reading's to wait for.
	chunk := make([]entry, min(copyChunk, rows))
	clear(chunk)
	s.Keys = make([]stateKey, 0, rows)
	for from := 0; from < rows; from += copyChunk {
		n := r.copyRows(chunk, from, min(from+copyChunk, rows))
		s.Keys = appendKeys(s.Keys, chunk[:n])
	}
	return s, changes
}

// snapshotHead prunes the table and copies the offsets, under one hold of
// the lock, and says how many rows the table has then.
func (r *Reader) snapshotHead(now time.Time) (s *state, changes uint64, rows int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.source.Topic == "" && !r.table.known() {
		return nil, 0, 0
	}
	r.table.prune(r.cfg.Lookback)
	s = &state{SavedAt: now.UnixNano(), logSource: r.source, LatestList: r.table.latestList, KeyColumns: keyColumns}
	if !r.status.Newest.IsZero() {
		s.Newest = r.status.Newest.UnixNano()
	}
	for _, p := range slices.Sorted(maps.Keys(r.parts)) {
		pos := r.parts[p]
		s.Partitions = append(s.Partitions, statePartition{Partition: p, Next: pos.next, Since: pos.since})
	}
	return s, r.changes, len(r.table.rows)
}

// copyRows copies the rows from..to into chunk, under one hold of the lock.
func (r *Reader) copyRows(chunk []entry, from, to int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return copy(chunk, r.table.rows[from:to])
}
