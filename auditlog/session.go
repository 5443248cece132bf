package auditlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/go-kit/log/level"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/backoff"
)

// session is one connection to the audit-log cluster: it places every
// partition, reads, and looks at the topic every checkEvery (partitions
// added, the lag, a stall), until an error ends it. A partition that
// fails alone (a corrupt batch, a batch too large to read) is set aside
// with its own backoff while the others go on.
type session struct {
	r       *Reader
	cl      *kgo.Client
	adm     *kadm.Client
	topic   string
	topicID kadm.TopicID
	leaders map[int32]int32
	// ends are the end offsets last seen (the lag).
	ends map[int32]int64
	// setAside are the partitions that failed alone.
	setAside     map[int32]*pause
	lastProgress time.Time
	nextCheck    time.Time
	progressed   bool
	auths        []authentication // reused from poll to poll
}

// pause is a partition set aside until it is fetched again.
type pause struct {
	wait    time.Duration
	until   time.Time
	resumed bool // fetched again, and not read from yet
}

// Errors that end a session.
var (
	errTopicMissing   = errors.New("topic missing")
	errUnauthorized   = errors.New("unauthorized")
	errStalled        = errors.New("stalled")
	errTopicRecreated = errors.New("topic recreated")
	errOversized      = errors.New("record batch too large")
)

// session connects, places every partition and reads until an error.
// progressed says whether it read anything.
func (r *Reader) session(ctx context.Context) (progressed bool, err error) {
	if err := r.reachable(ctx); err != nil {
		return false, err
	}
	cl, err := kgo.NewClient(r.options()...)
	if err != nil {
		return false, err
	}
	defer cl.Close()
	s := &session{r: r, cl: cl, adm: kadm.NewClient(cl), topic: r.cfg.Topic, setAside: map[int32]*pause{}}
	if err := s.start(ctx); err != nil {
		return false, err
	}
	err = s.read(ctx)
	return s.progressed, err
}

// describe asks the cluster for the topic: the first request of a
// connection, so that a wrong key or secret fails it.
func (s *session) describe(ctx context.Context) (cluster string, td kadm.TopicDetail, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.r.timing.checkEvery)
	defer cancel()
	md, err := s.adm.Metadata(ctx, s.topic)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// The brokers were reached and speak Kafka (reachable), and
			// closed the connection during authentication: what Confluent
			// Cloud does with a key or secret it does not accept.
			return "", td, fmt.Errorf("%w: the broker closed the connection while authenticating %s (%w)", errUnauthorized, s.r.cfg.APIKey, err)
		}
		return "", td, err
	}
	td, ok := md.Topics[s.topic]
	switch {
	case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		return "", td, fmt.Errorf("%w: %s is not on the cluster", errTopicMissing, s.topic)
	case td.Err != nil:
		return "", td, fmt.Errorf("topic %s: %w", s.topic, td.Err)
	}
	return md.Cluster, td, nil
}

// start places every partition: where the state says when that is still
// in this log, else from the lookback, and a partition added since from
// its first record. It notes the end offsets for CaughtUp at the first
// session of a run.
func (s *session) start(ctx context.Context) error {
	r := s.r
	cluster, td, err := s.describe(ctx)
	if err != nil {
		return err
	}
	s.topicID, s.leaders = td.ID, leaders(td)
	src := logSource{Cluster: cluster, Topic: s.topic, TopicID: fmt.Sprintf("%x", td.ID[:])}
	r.mu.Lock()
	if r.source != src {
		if len(r.parts) > 0 {
			level.Warn(r.logger).Log("msg", "The saved positions are of another audit log (its cluster, topic or topic id differ): reading this one from the lookback; what is known of the keys stays",
				"organization", r.org, "saved_cluster", r.source.Cluster, "saved_topic", r.source.Topic, "saved_topic_id", r.source.TopicID,
				"cluster", src.Cluster, "topic", src.Topic, "topic_id", src.TopicID)
		}
		r.parts, r.source = map[int32]*position{}, src
		r.changes++
	}
	r.mu.Unlock()

	partitions := slices.Sorted(maps.Keys(td.Partitions))
	from, ends, err := s.place(ctx, partitions)
	if err != nil {
		return err
	}
	now := time.Now()
	r.mu.Lock()
	if r.ends == nil {
		r.ends = ends
	}
	s.ends = ends
	r.updateCaughtUp()
	s.updateLag()
	window := r.windowStart()
	r.mu.Unlock()

	s.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: from})
	r.setUp(true)
	s.lastProgress, s.nextCheck = now, now.Add(r.timing.checkEvery)
	level.Info(r.logger).Log("msg", "Reading the audit log", "organization", r.org, "topic", s.topic,
		"partitions", len(partitions), "window_start", window.Format(time.RFC3339))
	return nil
}

// place decides where each partition is read from, and returns those
// offsets with the end offsets. A partition with a position still in the
// log resumes there; one whose position the retention passed (records
// deleted before they were read) or that is past the end (the log was
// made again) is read from the lookback, and its part of the window starts
// again after the gap; a partition added since reading began is read from
// its start.
func (s *session) place(ctx context.Context, partitions []int32) (map[int32]kgo.Offset, map[int32]int64, error) {
	r := s.r
	starts, err := listed(s.adm.ListStartOffsets(ctx, s.topic))
	if err != nil {
		return nil, nil, err
	}
	endsListed, err := listed(s.adm.ListEndOffsets(ctx, s.topic))
	if err != nil {
		return nil, nil, err
	}
	start := func(p int32) int64 { o, _ := starts.Lookup(s.topic, p); return o.Offset }
	end := func(p int32) int64 { o, _ := endsListed.Lookup(s.topic, p); return o.Offset }
	ends := map[int32]int64{}
	endsListed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })

	from := map[int32]kgo.Offset{}
	lookback := map[int32]bool{} // partition: whether a gap brought it there
	r.mu.Lock()
	initial := len(r.parts) == 0
	for _, p := range partitions {
		pos := r.parts[p]
		switch {
		case pos != nil && pos.next >= start(p) && pos.next <= end(p):
			from[p] = kgo.NewOffset().At(pos.next)
		case pos != nil:
			what := "the retention deleted records before they were read"
			if pos.next > end(p) {
				what = "the saved position is past the log's end: the topic was made again"
			}
			level.Warn(r.logger).Log("msg", "A gap in the audit log: reading the partition from the lookback; the window starts again after the gap",
				"organization", r.org, "partition", p, "why", what, "saved_offset", pos.next, "log_start", start(p), "log_end", end(p))
			lookback[p] = true
		case initial:
			lookback[p] = false
		case start(p) == 0:
			level.Info(r.logger).Log("msg", "A partition was added to the audit log's topic: reading it from its start", "organization", r.org, "partition", p)
			r.parts[p] = &position{}
			from[p] = kgo.NewOffset().At(0)
		default:
			level.Warn(r.logger).Log("msg", "A partition was added to the audit log's topic and records of it were deleted before they were read: reading it from the lookback",
				"organization", r.org, "partition", p, "log_start", start(p))
			lookback[p] = true
		}
	}
	r.changes++
	r.mu.Unlock()
	if len(lookback) == 0 {
		return from, ends, nil
	}

	now := time.Now()
	cut := now.Add(-r.cfg.Lookback)
	after, err := listed(s.adm.ListOffsetsAfterMilli(ctx, cut.UnixMilli(), s.topic))
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for p, gap := range lookback {
		o, found := after.Lookup(s.topic, p)
		next, since := fromLookback(o, found, start(p), end(p), cut, now, gap)
		r.parts[p] = &position{next: next, since: since}
		from[p] = kgo.NewOffset().At(next)
	}
	return from, ends, nil
}

// fromLookback is where a partition is read from when nothing of it is
// known to be read: the first record at or after cut, and since when it is
// read without a gap: cut, unless records after cut may have been deleted
// unread. Those were written before the first record left (then the window
// starts there), or, where none is left and a gap brought the partition
// here, at any time up to now.
func fromLookback(o kadm.ListedOffset, found bool, start, end int64, cut, now time.Time, gap bool) (next, since int64) {
	if !found || o.Offset < 0 || o.Offset >= end {
		// No record at or after cut: nothing in the window to read.
		if gap && start == end && start > 0 {
			return end, now.UnixNano()
		}
		return end, cut.UnixNano()
	}
	if o.Offset == start && start > 0 && o.Timestamp > cut.UnixMilli() {
		return o.Offset, time.UnixMilli(o.Timestamp).UnixNano()
	}
	return o.Offset, cut.UnixNano()
}

// listed returns the offsets a kadm call listed, and its error or else
// the first error of a partition in them (a partition the broker refused).
func listed(o kadm.ListedOffsets, err error) (kadm.ListedOffsets, error) {
	if err == nil {
		err = o.Error()
	}
	return o, err
}

func leaders(td kadm.TopicDetail) map[int32]int32 {
	out := make(map[int32]int32, len(td.Partitions))
	for p, d := range td.Partitions {
		out[p] = d.Leader
	}
	return out
}

// read polls until an error, or ctx ends.
func (s *session) read(ctx context.Context) error {
	var d decoder
	for {
		pollCtx, cancel := context.WithTimeout(ctx, s.untilNext(time.Now()))
		fetches := s.cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := s.failures(ctx, fetches); err != nil {
			return err
		}
		s.apply(&d, fetches)
		now := time.Now()
		if !now.Before(s.nextCheck) {
			if err := s.check(ctx, now); err != nil {
				return err
			}
		}
		s.resumeDue(now)
	}
}

// untilNext is how long a poll may wait: until the next check, or until a
// partition set aside is due to be fetched again.
func (s *session) untilNext(now time.Time) time.Duration {
	next := s.nextCheck
	for _, b := range s.setAside {
		if !b.resumed && b.until.Before(next) {
			next = b.until
		}
	}
	return max(next.Sub(now), time.Millisecond)
}

// failures handles the errors of a poll: a partition's own sets it aside;
// a response too large to read sets aside the partitions that hold such a
// batch; anything else ends the session.
func (s *session) failures(ctx context.Context, fetches kgo.Fetches) error {
	var fatal, tooLarge error
	fetches.EachError(func(_ string, p int32, err error) {
		var loss *kgo.ErrDataLoss
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			// The poll's own timeout.
		case p < 0 && isTooLarge(err):
			tooLarge = err
		case p < 0, errors.Is(err, kerr.OffsetOutOfRange), errors.As(err, &loss):
			// The next session finds where the log is now.
			if fatal == nil {
				fatal = err
			}
		default:
			s.setPartitionAside(p, err)
		}
	})
	if fatal == nil && tooLarge != nil {
		fatal = s.findOversized(ctx, tooLarge)
	}
	return fatal
}

// setPartitionAside stops fetching partition p until its backoff passes,
// counting and logging why; the other partitions go on.
func (s *session) setPartitionAside(p int32, err error) {
	r := s.r
	b := s.setAside[p]
	switch {
	case b == nil:
		b = &pause{wait: r.timing.retryBase}
		s.setAside[p] = b
	case !b.resumed:
		return // set aside already by this poll
	default:
		b.wait = min(2*b.wait, r.timing.retryMax)
	}
	b.until, b.resumed = time.Now().Add(backoff.Jitter(b.wait)), false
	s.cl.PauseFetchPartitions(map[string][]int32{s.topic: {p}})
	reason := ReasonOf(err)
	r.mu.Lock()
	r.status.Errors[reason]++
	var offset int64
	if pos := r.parts[p]; pos != nil {
		offset = pos.next
	}
	r.mu.Unlock()
	level.Warn(r.logger).Log("msg", "Reading a partition of the audit log failed; the other partitions go on", "organization", r.org,
		"partition", p, "offset", offset, "reason", reason, "retry_in", b.wait, "err", err)
}

// resumeDue fetches again the partitions whose backoff passed.
func (s *session) resumeDue(now time.Time) {
	for p, b := range s.setAside {
		if !b.resumed && !now.Before(b.until) {
			s.cl.ResumeFetchPartitions(map[string][]int32{s.topic: {p}})
			b.resumed = true
		}
	}
}

// isTooLarge reports whether err is a response over BrokerMaxReadBytes.
func isTooLarge(err error) bool {
	return err != nil && containsFold(err.Error(), "BrokerMaxReadBytes")
}

// findOversized finds the partitions whose next batch is larger than the
// reader reads, by asking for each partition alone, and sets them aside.
// A response too large stops every partition of its broker: the others
// must go on. If none is found, err ends the session.
func (s *session) findOversized(ctx context.Context, err error) error {
	r := s.r
	r.mu.Lock()
	next := map[int32]int64{}
	for p, pos := range r.parts {
		if b := s.setAside[p]; b == nil || b.resumed {
			next[p] = pos.next
		}
	}
	r.mu.Unlock()
	found := false
	for _, p := range slices.Sorted(maps.Keys(next)) {
		if s.oversized(ctx, p, next[p]) {
			found = true
			s.setPartitionAside(p, fmt.Errorf("%w: the batch at offset %d is larger than the %d KiB the reader reads (%w)",
				errOversized, next[p], r.timing.maxReadBytes>>10, err))
		}
	}
	if !found {
		return err
	}
	return nil
}

// oversized reports whether the first batch at offset of partition p is
// larger than the reader reads: a fetch of that partition alone, which the
// broker answers with that batch whatever the limits asked for.
func (s *session) oversized(ctx context.Context, p int32, offset int64) bool {
	leader, ok := s.leaders[p]
	if !ok {
		return false
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 0, 0, 1
	t := kmsg.NewFetchRequestTopic()
	t.Topic, t.TopicID = s.topic, s.topicID
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = p, offset, 1
	t.Partitions = append(t.Partitions, fp)
	req.Topics = append(req.Topics, t)
	ctx, cancel := context.WithTimeout(ctx, s.r.timing.checkEvery)
	defer cancel()
	_, err := s.cl.Broker(int(leader)).Request(ctx, req)
	return isTooLarge(err)
}

// apply folds a poll's records in: the authentications, the counts, the
// newest time and each partition's next offset, all under one lock, so
// that a saved state never has an offset past a record it does not hold.
func (s *session) apply(d *decoder, fetches kgo.Fetches) {
	now := time.Now()
	limit := now.Add(maxEventTimeAfterRecord)
	s.auths = s.auths[:0]
	var kinds [NumKinds]uint64
	var newest time.Time
	var untrusted uint64
	next := map[int32]int64{}
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if fp.HighWatermark > s.ends[fp.Partition] {
			s.ends[fp.Partition] = fp.HighWatermark
		}
		for _, rec := range fp.Records {
			kind, a := d.decode(rec.Value, rec.Timestamp)
			at := rec.Timestamp
			if kind == KindAuthentication {
				if a.at.After(limit) {
					// Stamped in the future: the record is here, so the
					// sign-in happened by now.
					a.at, a.untrusted = now, true
				}
				if a.untrusted {
					untrusted++
				}
				s.auths = append(s.auths, a)
				at = a.at
			}
			if at.After(limit) {
				at = now
			}
			kinds[kind]++
			if at.After(newest) {
				newest = at
			}
			next[rec.Partition] = rec.Offset + 1
		}
	})
	if len(next) == 0 {
		return
	}
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range s.auths {
		r.table.add(a, now.UnixNano())
	}
	for k, n := range kinds {
		r.status.Records[k] += n
	}
	r.status.Untrusted += untrusted
	if newest.After(r.status.Newest) {
		r.status.Newest = newest
	}
	for p, n := range next {
		if pos := r.parts[p]; pos != nil && n > pos.next {
			pos.next = n
		}
		delete(s.setAside, p) // read again: its backoff starts afresh
	}
	r.changes++
	r.updateCaughtUp()
	s.updateLag()
	s.lastProgress, s.progressed = now, true
}

// updateLag sets the lag from the ends last seen. r.mu is held.
func (s *session) updateLag() {
	var lag int64
	for p, pos := range s.r.parts {
		lag += max(0, s.ends[p]-pos.next)
	}
	s.r.status.Lag = lag
}

// check looks at the topic: partitions added are read from their start,
// a topic made again ends the session, the end offsets give the lag, and a
// reader that has records to read and reads none for stallAfter is
// stalled.
func (s *session) check(ctx context.Context, now time.Time) error {
	r := s.r
	s.nextCheck = now.Add(r.timing.checkEvery)
	_, td, err := s.describe(ctx)
	if err != nil {
		return err
	}
	if td.ID != s.topicID {
		return fmt.Errorf("%w: %s has another topic id (%x, was %x)", errTopicRecreated, s.topic, td.ID[:], s.topicID[:])
	}
	s.leaders = leaders(td)
	r.mu.Lock()
	var added []int32
	for p := range td.Partitions {
		if r.parts[p] == nil {
			added = append(added, p)
		}
	}
	r.mu.Unlock()
	if len(added) > 0 {
		slices.Sort(added)
		from, _, err := s.place(ctx, added)
		if err != nil {
			return err
		}
		s.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: from})
	}
	ends, err := listed(s.adm.ListEndOffsets(ctx, s.topic))
	if err != nil {
		return err
	}
	ends.Each(func(o kadm.ListedOffset) { s.ends[o.Partition] = o.Offset })

	r.mu.Lock()
	s.updateLag()
	var waiting int64 // records to read in partitions not set aside (those count their own errors)
	for p, pos := range r.parts {
		if s.setAside[p] == nil {
			waiting += max(0, s.ends[p]-pos.next)
		}
	}
	r.mu.Unlock()
	if idle := now.Sub(s.lastProgress); waiting > 0 && idle >= r.timing.stallAfter {
		return fmt.Errorf("%w: %d records to read and none read for %s", errStalled, waiting, idle.Round(time.Second))
	}
	return nil
}
