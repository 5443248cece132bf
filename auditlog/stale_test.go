package auditlog

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// TestStalledFetchesAreSaid: a broker whose fetches hang while it has
// records for the reader keeps no one fooled: the reader is stalled (up 0,
// counted, logged), and reads once the broker answers again.
func TestStalledFetchesAreSaid(t *testing.T) {
	b := startLog(t)
	fillLog(t, b, "K1")
	c := b.Cluster()
	var stalled atomic.Bool
	stalled.Store(true)
	released := make(chan struct{})
	c.ControlKey(int16(kmsg.Fetch), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if stalled.Load() {
			c.SleepControl(func() { <-released })
		}
		return nil, nil, false
	})
	t.Cleanup(func() {
		if stalled.Swap(false) {
			close(released)
		}
	})
	r := startReader(t, config(b, ""), []string{"K1"})
	eventually(t, "a stall counted", func() bool { return r.Status().Errors[ReasonStalled] >= 1 })
	if s := r.Status(); s.CaughtUp || s.Lag <= 0 {
		t.Errorf("status %+v: want not caught up, records to read", s)
	}
	if !strings.Contains(r.logs.String(), "none read for") {
		t.Errorf("the stall is not logged:\n%s", r.logs)
	}
	eventually(t, "down while stalled", func() bool { return !r.Status().Up })
	stalled.Store(false)
	close(released)
	eventually(t, "caught up once the broker answers", caughtUp(r.Reader))
	if r.Status().Lag != 0 {
		t.Errorf("lag %d once caught up", r.Status().Lag)
	}
}

// TestAFutureEventTimeIsNotBelieved: an event dated 2999, or 1970, pins
// nothing: the record's time stands in; a record itself stamped in the
// future is taken as read now. Each is counted.
func TestAFutureEventTimeIsNotBelieved(t *testing.T) {
	b := startLog(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	future := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	ahead := time.Now().Add(time.Hour) // a broker whose clock runs an hour ahead
	must(t, b.Produce(ctx,
		sim.Record{Value: b.Event(sim.Authentication{Identifier: "K1", Success: true, Time: future}), Time: now.Add(-time.Hour)},
		sim.Record{Value: b.Event(sim.Authentication{Identifier: "K2", Success: true, Time: ahead}), Time: ahead},
		sim.Record{Value: b.Event(sim.Authentication{Identifier: "K3", Success: true, Time: time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)}), Time: now.Add(-time.Hour)},
	))
	r := startReader(t, config(b, ""), []string{"K1", "K2", "K3"})
	eventually(t, "caught up", caughtUp(r.Reader))
	if got := lastSuccess(r.Reader, "K1"); !got.Equal(now.Add(-time.Hour)) {
		t.Errorf("K1, dated 2999 in a record of an hour ago: %v, want the record's time", got)
	}
	if got := lastSuccess(r.Reader, "K3"); !got.Equal(now.Add(-time.Hour)) {
		t.Errorf("K3, dated 1970: %v, want the record's time", got)
	}
	if got := lastSuccess(r.Reader, "K2"); got.Before(now) || got.After(time.Now()) {
		t.Errorf("K2, record and event an hour ahead: %v, want the time it was read", got)
	}
	if s := r.Status(); s.Untrusted != 3 || s.Newest.After(time.Now()) {
		t.Errorf("untrusted %d (want 3), newest %v (want no later than now)", s.Untrusted, s.Newest)
	}
}

// TestACorruptBatchStopsOnlyItsPartition: the broker of partition 1
// serves a batch whose checksum is wrong; partition 1 is set aside,
// counted and retried with backoff, while the others are read.
func TestACorruptBatchStopsOnlyItsPartition(t *testing.T) {
	b := startLog(t, func(o *sim.AuditLogOptions) { o.Brokers = 2 })
	c := b.Cluster()
	must(t, c.MoveTopicPartition(sim.AuditLogTopic, 0, 0))
	must(t, c.MoveTopicPartition(sim.AuditLogTopic, 1, 1))
	must(t, c.MoveTopicPartition(sim.AuditLogTopic, 2, 0))
	ctx := context.Background()
	for p := range int32(3) {
		must(t, b.ProduceTo(ctx, p, sim.Record{Value: b.Event(sim.Authentication{Identifier: fmt.Sprintf("K%d", p), Success: true})}))
	}
	var served atomic.Int32
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if c.CurrentNode() != 1 {
			return nil, nil, false
		}
		served.Add(1)
		return corruptFetch(req.(*kmsg.FetchRequest)), nil, true
	})
	r := startReader(t, config(b, ""), []string{"K0", "K1", "K2"})
	eventually(t, "partitions 0 and 2 read, partition 1 failing", func() bool {
		return !lastSuccess(r.Reader, "K0").IsZero() && !lastSuccess(r.Reader, "K2").IsZero() && r.Status().Errors[ReasonOther] >= 2
	})
	s := r.Status()
	if !lastSuccess(r.Reader, "K1").IsZero() || s.CaughtUp || !s.Up || s.Errors[ReasonStalled] > 0 {
		t.Errorf("status %+v: want up, partition 1 unread, not caught up, no stall (partition 1 counts its own errors)", s)
	}
	if !strings.Contains(r.logs.String(), "partition=1") || !strings.Contains(r.logs.String(), "crc") {
		t.Errorf("the corrupt partition is not named in the log:\n%s", r.logs)
	}
	// Set aside, partition 1 is fetched again only after its backoff: not
	// at every poll.
	before := served.Load()
	time.Sleep(10 * fast.retryBase)
	if n := served.Load() - before; n > 20 {
		t.Errorf("partition 1 fetched %d times in %v: no backoff", n, 10*fast.retryBase)
	}
}

// corruptFetch answers a fetch with, for every partition asked, one
// record batch at the offset asked whose checksum does not match.
func corruptFetch(req *kmsg.FetchRequest) *kmsg.FetchResponse {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition, sp.HighWatermark, sp.LastStableOffset = rp.Partition, rp.FetchOffset+1, rp.FetchOffset+1
			sp.RecordBatches = badBatch(rp.FetchOffset)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// badBatch is a record batch of one record at offset, its CRC wrong.
func badBatch(offset int64) []byte {
	value := []byte(`{"type":"io.confluent.kafka.server/authentication"}`)
	var rec []byte
	rec = append(rec, 0)                                 // attributes
	rec = binary.AppendVarint(rec, 0)                    // timestamp delta
	rec = binary.AppendVarint(rec, 0)                    // offset delta
	rec = binary.AppendVarint(rec, -1)                   // no key
	rec = binary.AppendVarint(rec, int64(len(value)))    //
	rec = append(rec, value...)                          //
	rec = binary.AppendVarint(rec, 0)                    // no headers
	records := binary.AppendVarint(nil, int64(len(rec))) // the record's length
	records = append(records, rec...)
	now := time.Now().UnixMilli()
	rb := kmsg.RecordBatch{
		FirstOffset: offset, PartitionLeaderEpoch: -1, Magic: 2, FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 1, Records: records,
	}
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:12], uint32(len(raw)-12))
	crc := crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(raw[17:21], crc+1) // wrong
	return raw
}

// TestAnOversizedBatchStopsOnlyItsPartition: a batch larger than the
// reader reads, on partition 1, stops partition 1 alone: the others are
// read, partition 1 is set aside, counted, named in the log.
func TestAnOversizedBatchStopsOnlyItsPartition(t *testing.T) {
	b := startLog(t)
	ctx := context.Background()
	for p := range int32(3) {
		must(t, b.ProduceTo(ctx, p, sim.Record{Value: b.Event(sim.Authentication{Identifier: fmt.Sprintf("K%d", p), Success: true})}))
	}
	pad := make([]byte, 450<<10) // random: compression leaves it large
	_, _ = rand.Read(pad)
	must(t, b.ProduceTo(ctx, 1, sim.Record{Value: []byte(`{"type":"x","pad":"` + base64.StdEncoding.EncodeToString(pad) + `"}`)}))
	for p := range int32(3) {
		must(t, b.ProduceTo(ctx, p, sim.Record{Value: b.Event(sim.Authentication{Identifier: fmt.Sprintf("L%d", p), Success: true})}))
	}
	r := startReader(t, config(b, ""), []string{"K0", "K1", "K2", "L0", "L1", "L2"}, func(r *Reader) { r.timing.maxReadBytes = 256 << 10 })
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(r.logs)
		}
	})
	eventually(t, "partitions 0 and 2 read past the large batch's time, partition 1 set aside", func() bool {
		return !lastSuccess(r.Reader, "L0").IsZero() && !lastSuccess(r.Reader, "L2").IsZero() && r.Status().Errors[ReasonOther] >= 1
	})
	if lastSuccess(r.Reader, "K1").IsZero() || !lastSuccess(r.Reader, "L1").IsZero() {
		t.Errorf("partition 1: K1 %v (want read: before the large batch), L1 %v (want unread: after it)",
			lastSuccess(r.Reader, "K1"), lastSuccess(r.Reader, "L1"))
	}
	if r.Status().CaughtUp {
		t.Error("caught up with a partition unread")
	}
	if !strings.Contains(r.logs.String(), "larger than the 256 KiB the reader reads") || !strings.Contains(r.logs.String(), "partition=1") {
		t.Errorf("the large batch is not named in the log:\n%s", r.logs)
	}
}

// TestFailuresOfListedKeysAreTheirsWhateverCameFirst: ten thousand and more
// identifiers typed before a listed key fails never take its count.
func TestFailuresOfListedKeysAreTheirsWhateverCameFirst(t *testing.T) {
	b := startLog(t)
	var auths []sim.Authentication
	for i := range maxFailingIdentifiers + 100 {
		auths = append(auths, sim.Authentication{Identifier: fmt.Sprintf("guess-%d", i), Unknown: true})
	}
	auths = append(auths, sim.Authentication{Identifier: strings.Repeat("L", 300), Unknown: true},
		sim.Authentication{Identifier: "K1", Success: false})
	must(t, b.Authenticate(context.Background(), auths...))
	r := startReader(t, config(b, ""), []string{"K1"})
	eventually(t, "caught up", caughtUp(r.Reader))
	u := r.Usage()
	if len(u.Failures) != 1 || u.Failures[0] != (Key{ID: "K1", Failures: 1}) || u.Unknown != maxFailingIdentifiers+101 {
		t.Errorf("failures %v, unknown %d; want K1:1, unknown %d", u.Failures, u.Unknown, maxFailingIdentifiers+101)
	}
}
